"""Polls on the pages: the composer's poll fields, and voting from a post.

Owns: reading `poll_option_1..4`, `poll_expires_in`, `poll_multiple` and `poll_hide_totals` of the composer into a
`PollDraft` (the rules are server/polls.py's, checked when the post is published), what the composer shows of them
again after a refusal, and `POST /posts/{post_id}/vote` (one `choice` field per chosen option). Never: SQL, or
who may vote (server/post_rules.py, server/voting.py).
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.responses import Response
from starlette.routing import Route

from server import polls, voting
from server.db.pool import transaction
from server.polls import PollDraft
from web.context import PageContext, read_form, redirect, safe_next
from web.handlers import page, path_int

DEFAULT_EXPIRES_IN = 86_400  # a day, as Mastodon's composer starts


def _expires_in(form: FormData) -> int:
    raw = str(form.get("poll_expires_in", ""))
    return int(raw) if raw.isdigit() and len(raw) <= 9 else DEFAULT_EXPIRES_IN


def read_poll_form(form: FormData) -> PollDraft | None:
    """The composer's poll, or None when no option is filled in (the fields are there on every composer)."""
    options = [str(form.get(f"poll_option_{n}", "")).strip() for n in range(1, polls.MAX_OPTIONS + 1)]
    filled = tuple(option for option in options if option)
    if not filled:
        return None
    return PollDraft(filled, _expires_in(form), form.get("poll_multiple") == "yes",
                     form.get("poll_hide_totals") == "yes")


def poll_values(form: FormData | None) -> dict[str, Any] | None:
    """What the composer shows in its poll fields after a refusal: what was typed, in its places."""
    if form is None:
        return None
    options = [str(form.get(f"poll_option_{n}", "")) for n in range(1, polls.MAX_OPTIONS + 1)]
    return {"options": options, "expires_in": _expires_in(form), "multiple": form.get("poll_multiple") == "yes",
            "hide_totals": form.get("poll_hide_totals") == "yes", "open": any(o.strip() for o in options)}


@page(signed_in=True)
async def vote_submit(ctx: PageContext) -> Response:
    assert ctx.viewer is not None
    post_id = path_int(ctx, "post_id")
    form = await read_form(ctx)
    choices = [int(raw) for raw in form.getlist("choice") if str(raw).isdigit() and len(str(raw)) <= 3]
    async with transaction(ctx.deps.pool) as conn:
        await voting.vote(conn, ctx.deps.settings, ctx.viewer, post_id, choices, ctx.now)
    return redirect(ctx, safe_next(str(form.get("next", "")), f"/posts/{post_id}") + f"#post-{post_id}")


ROUTES = [Route("/posts/{post_id}/vote", vote_submit, methods=["POST"])]
