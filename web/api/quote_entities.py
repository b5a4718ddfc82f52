"""The quote fields of Mastodon 4.5's Status entity: `quote_approval`, `quotes_count` and `quote`.

Owns: turning server/quotes.py's policies and quotes into those fields for a page of statuses, with a fixed number
of queries. `quote` is set on a (remote) post that quotes one of ours with our authorisation: a Quote entity whose
`quoted_status` is our post as the viewer may see it (through the visibility rule, one level deep, as Mastodon
recommends), or a state saying why not (`revoked`, `deleted`, `unauthorized`).
Never: SQL, or the Status entity's other fields (web/api/entities.py), or a query per status.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import asyncpg

from server import quotes
from server.timelines import PostView

RenderView = Callable[[PostView], dict[str, Any]]


def _with_boosted(pairs: Sequence[tuple[dict[str, Any], PostView]]) -> list[tuple[dict[str, Any], PostView]]:
    """Each status with its view, and the boosted status inside a boost with the boosted post's view."""
    found = []
    for status, view in pairs:
        found.append((status, view))
        if view.reblog is not None and status.get("reblog"):
            found.append((status["reblog"], view.reblog))
    return found


async def add_quote_fields(conn: asyncpg.Connection, statuses: Sequence[dict[str, Any]], views: Sequence[PostView],
                           viewer_id: int | None, render: RenderView) -> None:
    """Set the fields on each rendered status (and the boosted one inside a boost). The views come from
    `timelines.hydrate(..., with_quoted=True)`, which loaded the quoted posts the viewer may see; `render` makes
    their Status entities, which get the quote fields but no `quote` of their own (one level deep)."""
    pairs = _with_boosted(list(zip(statuses, views)))
    quoted: dict[int, dict[str, Any]] = {}
    inner: list[tuple[dict[str, Any], PostView]] = []
    for _, view in pairs:
        if view.quoted is not None and view.quoted.post.id not in quoted:
            quoted[view.quoted.post.id] = render(view.quoted)
            inner.append((quoted[view.quoted.post.id], view.quoted))
    every = pairs + _with_boosted(inner)
    shown = [view.post for _, view in every]
    policies, counts = await quotes.list_policies_and_counts(conn, shown)
    followed = await quotes.list_followed_authors(conn, viewer_id, [p.account_id for p in shown]) \
        if viewer_id is not None else set()
    for status, view in every:
        post = view.post
        policy = policies[post.id]
        status["quotes_count"] = counts.get(post.id, 0)
        status["quote_approval"] = {
            "automatic": quotes.AUTOMATIC[policy], "manual": [],
            "current_user": quotes.decide(policy, post, viewer_id, follows_author=post.account_id in followed)}
    for status, view in pairs:
        quote = view.quote
        if quote is None:
            status["quote"] = None
        elif quote.state == "revoked":
            status["quote"] = {"state": "revoked", "quoted_status": None}
        elif view.quoted is not None:
            status["quote"] = {"state": "accepted", "quoted_status": quoted[view.quoted.post.id]}
        else:
            status["quote"] = {"state": "deleted" if view.quoted_gone else "unauthorized", "quoted_status": None}
