"""The quote fields of Mastodon 4.5's Status entity: `quote_approval`, `quotes_count` and `quote`.

Owns: turning server/quotes.py's policies and quotes into those fields for a page of statuses, with a fixed number
of queries. `quote` is set on a (remote) post that quotes one of ours with our authorisation: a Quote entity whose
`quoted_status` is our post as the viewer may see it (through the visibility rule, one level deep, as Mastodon
recommends), or a state saying why not (`revoked`, `deleted`, `unauthorized`).
Never: SQL, or the Status entity's other fields (web/api/entities.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import asyncpg

from server import posts, quotes
from server.timelines import PostView

RenderIds = Callable[[asyncpg.Connection, Sequence[int], int | None], Awaitable[list[dict[str, Any]]]]


async def add_quote_fields(conn: asyncpg.Connection, statuses: Sequence[dict[str, Any]], views: Sequence[PostView],
                           viewer_id: int | None, render_ids: RenderIds | None) -> None:
    """Set the fields on each rendered status (and the boosted one inside a boost); `render_ids` renders the
    quoted posts (None: leave `quote` out, for the quoted posts themselves)."""
    pairs: list[tuple[dict[str, Any], PostView]] = []
    for status, view in zip(statuses, views):
        pairs.append((status, view))
        if view.reblog is not None and status.get("reblog"):
            pairs.append((status["reblog"], view.reblog))
    shown = [view.post for _, view in pairs]
    policies = await quotes.list_policies(conn, shown)
    counts = await quotes.count_accepted(conn, [p.id for p in shown])
    followed = await quotes.list_followed_authors(conn, viewer_id, [p.account_id for p in shown]) \
        if viewer_id is not None else set()
    quoted = await quotes.list_quotes_by_quoting_posts(conn, [p.id for p in shown]) if render_ids else {}
    rendered = {int(s["id"]): s for s in await render_ids(conn, list({q.quoted_post_id for q in quoted.values()}),
                                                           viewer_id)} if render_ids and quoted else {}
    for status, view in pairs:
        post = view.post
        policy = policies[post.id]
        status["quotes_count"] = counts.get(post.id, 0)
        status["quote_approval"] = {
            "automatic": quotes.AUTOMATIC[policy], "manual": [],
            "current_user": quotes.decide(policy, post, viewer_id, follows_author=post.account_id in followed)}
        if render_ids is None:
            continue
        quote = quoted.get(post.id)
        if quote is None:
            status["quote"] = None
        elif quote.state == "revoked":
            status["quote"] = {"state": "revoked", "quoted_status": None}
        elif quote.quoted_post_id in rendered:
            status["quote"] = {"state": "accepted", "quoted_status": rendered[quote.quoted_post_id]}
        else:
            original = await posts.get_post(conn, quote.quoted_post_id, include_deleted=True)
            state = "deleted" if original is None or original.deleted_at is not None else "unauthorized"
            status["quote"] = {"state": state, "quoted_status": None}
