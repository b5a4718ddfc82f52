"""Composing a post, start to finish: the one sequence the web composer and the client API both run.

Owns: the order of the steps and their transactions. First the unknown remote @handles of the text are looked up,
through the lookup the edge passes in and before any transaction, so that no transaction waits on the network.
Then, in one transaction, the app's Idempotency-Key (when it sent one) and `publishing.create_post`. When the
organisation's checks stop the post, that transaction is rolled back, so the refusal's audit entry is written in a
second transaction of its own before the refusal goes on to the caller.
Never: the rules a post must meet (`publishing.py`), federation/ or HTTP (the mention lookup is a parameter),
reading forms, parameters or headers, or answering the author (the edges render the refusal).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg

from server import idempotency, posts, publishing
from server.accounts import Account
from server.db.pool import transaction
from server.deps import Deps
from server.posts import Post
from server.publishing import Draft

# Looks up the remote @user@host handles of a text that are not known here yet, so the post can link them; best
# effort and bounded (federation.resolver.resolve_mentions, bound to the node's Federation record by the edge).
MentionResolver = Callable[[str], Awaitable[None]]
# A step in the post's own transaction after it is stored (e.g. webcare filing its answer).
AfterPost = Callable[[asyncpg.Connection, Post], Awaitable[None]]


async def compose_post(deps: Deps, author: Account, draft: Draft, *, resolve_mentions: MentionResolver,
                       idempotency_key: str = "", written_by: Account | None = None,
                       then: AfterPost | None = None) -> Post | None:
    """Publish a draft, or store it held for review; return the post.

    Raises what `publishing.create_post` raises, nothing stored; a `PolicyStopped` only after its audit entry is
    committed. With an `idempotency_key`, a retry within the key's hour gets the first post back rather than a
    second one (None when that post has been deleted since). `written_by`: the person posting as an organisation's
    account (`publishing.create_post`); `then` runs in the post's transaction once it is stored (webcare records
    its answer there).
    """
    await resolve_mentions(draft.text)
    now = deps.now()  # after the lookups, which may take seconds: the post is stored now, not when asked
    try:
        async with transaction(deps.pool) as conn:
            if not idempotency_key:
                post = await publishing.create_post(conn, deps.settings, author, draft, now, written_by=written_by)
                if then is not None:
                    await then(conn, post)
                return post
            await idempotency.lock_key(conn, author.id, idempotency_key)
            earlier = await idempotency.get_post_id(conn, author.id, idempotency_key, now)
            if earlier is not None:
                return await posts.get_post(conn, earlier)
            post = await publishing.create_post(conn, deps.settings, author, draft, now, written_by=written_by)
            await idempotency.insert_key(conn, author.id, idempotency_key, post.id, now)
            if then is not None:
                await then(conn, post)
            return post
    except publishing.PolicyStopped as stopped:
        async with transaction(deps.pool) as conn:
            await publishing.record_policy_refusal(conn, author, stopped, now, written_by=written_by)
        raise
