"""Polls in the client API: a poll in a new status's parameters, viewing a poll, and voting.

Owns: `poll[...]` of POST /api/v1/statuses (read into a `PollDraft`; the rules are server/polls.py's), GET
/api/v1/polls/:id and POST /api/v1/polls/:id/votes, as Mastodon 4.3 has them. A poll's id is its post's id.
Never: SQL, or who may see or vote (server/visibility.py, server/post_rules.py, server/voting.py).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from server import polls, visibility, voting
from server.db.pool import connection, transaction
from server.polls import PollDraft
from web.api.entities import poll_json
from web.api.http import ApiCall, ApiError, Params, api, json_response, not_found


def _flag(value: Any, name: str) -> bool:
    """A true-or-false inside `poll`, read as every other boolean parameter is."""
    return False if value is None else Params({f"poll[{name}]": [value]}).bool(f"poll[{name}]")


def read_poll(params: Params) -> PollDraft | None:
    """`poll` as Mastodon.py and masto.js send it (a JSON object) or as a form (`poll[options][]`,
    `poll[expires_in]`, `poll[multiple]`, `poll[hide_totals]`); None when the status has no poll."""
    given = params.mapping("poll")
    options = given.get("options") if isinstance(given.get("options"), list) else params.list("poll[options]")
    if not given and not options:
        return None
    if not isinstance(options, list) or not all(isinstance(o, str) for o in options) or len(options) > 100:
        raise ApiError(422, "Validation failed: poll[options] must be a list of texts")
    expires_in = given.get("expires_in")
    try:
        seconds = int(str(expires_in).strip()) if not isinstance(expires_in, (bool, dict, list)) else None
    except ValueError:
        seconds = None
    if seconds is None:
        raise ApiError(422, "Validation failed: poll[expires_in] must be a number of seconds")
    return PollDraft(tuple(options), seconds, _flag(given.get("multiple"), "multiple"),
                     _flag(given.get("hide_totals"), "hide_totals"))


async def _render(call: ApiCall, post_id: int) -> dict[str, Any]:
    viewer_id = call.account.id if call.account else None
    async with connection(call.deps.pool) as conn:
        if await visibility.get_visible_post(conn, post_id, viewer_id) is None:
            raise not_found()
        found = (await polls.list_poll_views(conn, [post_id], viewer_id)).get(post_id)
    if found is None:
        raise not_found()
    return poll_json(found, datetime.now(timezone.utc))


@api(scope="read:statuses", auth="optional")
async def show(call: ApiCall) -> Response:
    return json_response(await _render(call, call.path_id()))


@api(scope="write:statuses")
async def vote(call: ApiCall) -> Response:
    voter = call.need_account()
    choices = []
    for raw in call.params.list("choices"):
        text = str(raw).strip()
        if isinstance(raw, (bool, dict, list)) or not text.isdigit() or len(text) > 3:
            raise ApiError(422, "Validation failed: choices must be option numbers, counted from 0")
        choices.append(int(text))
    post_id = call.path_id()
    async with transaction(call.deps.pool) as conn:
        await voting.vote(conn, call.deps.settings, voter, post_id, choices, call.deps.now())
    return json_response(await _render(call, post_id))


ROUTES = [
    Route("/api/v1/polls/{id}", show, methods=["GET"]),
    Route("/api/v1/polls/{id}/votes", vote, methods=["POST"]),
]
