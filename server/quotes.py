"""Quote posts of our posts (FEP-044f, as Mastodon 4.5 does them): who may quote, and the quotes we authorised.

Owns: the tables `quote_policies` (an account's default), `post_quote_policies` (a post's own choice) and `quotes`
(each QuoteRequest we accepted: the quoted post of ours, the quoting post, its author, and the authorisation, whose
id is the row's, until the quoted post's author revokes it), migration 0045. The policy of a post, in this order:
its own choice, its author's default, and otherwise the default by voice (anyone may quote an official post, only
followers a personal one); a followers-only or direct post is quotable by nobody whatever was chosen, as on
Mastodon 4.5, since a quote would carry it to another audience than the author's. The author may always quote
their own post except a direct one.
Never: decides who may see a post (server/visibility.py), builds ActivityStreams JSON or sends anything (the
revocation is an outbox event, `quote.revoked`, that federation/outbox.py turns into a Delete).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from server import events, follows, ids
from server.accounts import Account
from server.errors import Forbidden, Invalid, NotFound
from server.posts import Post

POLICIES = ("public", "followers", "nobody")
# What each policy admits automatically, as Mastodon's QuoteApproval entity names it (`automatic`).
AUTOMATIC = {"public": ["public"], "followers": ["followers"], "nobody": []}


@dataclass(frozen=True)
class Quote:
    id: int
    quoted_post_id: int
    quoting_post_id: int | None
    quoting_uri: str
    account_id: int
    request_uri: str | None
    state: str
    created_at: datetime
    revoked_at: datetime | None


_COLUMNS = ("id, quoted_post_id, quoting_post_id, quoting_uri, account_id, request_uri, state, created_at, "
            "revoked_at")


def check_policy(policy: str) -> str:
    if policy not in POLICIES:
        raise Invalid("Who may quote must be public, followers or nobody.")
    return policy


def default_policy(voice: str) -> str:
    """Issue 14: an organisation speaks in public, so anyone may quote its official posts; a person's own words
    only their followers."""
    return "public" if voice == "official" else "followers"


def effective_policy(post: Post, chosen: str | None, account_default: str | None) -> str:
    if post.visibility in ("private", "direct"):
        return "nobody"
    return chosen or account_default or default_policy(post.voice)


def decide(policy: str, post: Post, quoter_id: int | None, *, follows_author: bool) -> str:
    """How the policy applies to someone: "automatic" (a quote is accepted at once) or "denied", Mastodon's
    `current_user` values (we never ask the author by hand)."""
    if quoter_id is None or post.reblog_of_id is not None:
        return "denied"
    if quoter_id == post.account_id:
        return "denied" if post.visibility == "direct" else "automatic"
    if policy == "public" or (policy == "followers" and follows_author):
        return "automatic"
    return "denied"


async def get_account_policy(conn: asyncpg.Connection, account_id: int) -> str | None:
    return await conn.fetchval("SELECT policy FROM quote_policies WHERE account_id = $1", account_id)


async def upsert_account_policy(conn: asyncpg.Connection, account_id: int, policy: str | None) -> None:
    """An account's default for its new and unchosen posts; None goes back to the default by voice."""
    if policy is None:
        await conn.execute("DELETE FROM quote_policies WHERE account_id = $1", account_id)
        return
    await conn.execute("INSERT INTO quote_policies (account_id, policy) VALUES ($1, $2) ON CONFLICT (account_id) "
                       "DO UPDATE SET policy = EXCLUDED.policy", account_id, check_policy(policy))


async def upsert_post_policy(conn: asyncpg.Connection, post_id: int, policy: str) -> None:
    await conn.execute("INSERT INTO post_quote_policies (post_id, policy) VALUES ($1, $2) ON CONFLICT (post_id) "
                       "DO UPDATE SET policy = EXCLUDED.policy", post_id, check_policy(policy))


async def list_policies(conn: asyncpg.Connection, posts: Sequence[Post]) -> dict[int, str]:
    """The effective policy of each post, in two queries whatever their number."""
    if not posts:
        return {}
    ids_ = [p.id for p in posts]
    chosen = {r["post_id"]: r["policy"] for r in await conn.fetch(
        "SELECT post_id, policy FROM post_quote_policies WHERE post_id = ANY($1::bigint[])", ids_)}
    defaults = {r["account_id"]: r["policy"] for r in await conn.fetch(
        "SELECT account_id, policy FROM quote_policies WHERE account_id = ANY($1::bigint[])",
        list({p.account_id for p in posts}))}
    return {p.id: effective_policy(p, chosen.get(p.id), defaults.get(p.account_id)) for p in posts}


async def list_policies_and_counts(conn: asyncpg.Connection,
                                   posts: Sequence[Post]) -> tuple[dict[int, str], dict[int, int]]:
    """`list_policies` and `count_accepted` of a page of posts in one query: (effective policy by post, accepted
    quotes whose quoting post is still here by post, absent when none)."""
    if not posts:
        return {}, {}
    rows = await conn.fetch(
        """SELECT p.id,
             (SELECT c.policy FROM post_quote_policies c WHERE c.post_id = p.id) AS chosen,
             (SELECT d.policy FROM quote_policies d WHERE d.account_id = p.account_id) AS account_default,
             (SELECT count(*) FROM quotes q JOIN posts qp ON qp.id = q.quoting_post_id
                WHERE q.quoted_post_id = p.id AND q.state = 'accepted' AND qp.deleted_at IS NULL) AS accepted
           FROM unnest($1::bigint[], $2::bigint[]) AS p(id, account_id)""",
        [p.id for p in posts], [p.account_id for p in posts])
    found = {r["id"]: r for r in rows}
    policies = {p.id: effective_policy(p, found[p.id]["chosen"], found[p.id]["account_default"]) for p in posts}
    return policies, {i: r["accepted"] for i, r in found.items() if r["accepted"]}


async def get_policy(conn: asyncpg.Connection, post: Post) -> str:
    return (await list_policies(conn, [post]))[post.id]


async def list_followed_authors(conn: asyncpg.Connection, viewer_id: int, author_ids: Sequence[int]) -> set[int]:
    """Which of these authors the viewer follows (accepted), for `decide` on a page of posts."""
    found = await follows.list_relationships(conn, viewer_id, list(set(author_ids)))
    return {author_id for author_id, (following, _, _) in found.items() if following}


async def get_quote(conn: asyncpg.Connection, quote_id: int) -> Quote | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM quotes WHERE id = $1", quote_id)
    return Quote(**dict(row)) if row else None


async def get_quote_of(conn: asyncpg.Connection, quoted_post_id: int, quoting_uri: str) -> Quote | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM quotes WHERE quoted_post_id = $1 AND quoting_uri = $2",
                              quoted_post_id, quoting_uri)
    return Quote(**dict(row)) if row else None


async def get_quote_by_quoting_post(conn: asyncpg.Connection, quoted_post_id: int,
                                    quoting_post_id: int) -> Quote | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM quotes WHERE quoted_post_id = $1 AND quoting_post_id = $2",
                              quoted_post_id, quoting_post_id)
    return Quote(**dict(row)) if row else None


async def list_quotes_by_quoting_posts(conn: asyncpg.Connection, post_ids: Sequence[int]) -> dict[int, Quote]:
    """The quote each of these (remote) posts makes of one of ours, by quoting post id."""
    rows = await conn.fetch(f"SELECT {_COLUMNS} FROM quotes WHERE quoting_post_id = ANY($1::bigint[])",
                            list(post_ids))
    return {r["quoting_post_id"]: Quote(**dict(r)) for r in rows}


async def insert_accepted(conn: asyncpg.Connection, *, quoted_post_id: int, quoting_post_id: int | None,
                          quoting_uri: str, account_id: int, request_uri: str, now: datetime) -> Quote:
    """The authorisation of one quote; a repeated request for the same quoting post gets the same row (and a
    revoked one stays revoked: the author decided)."""
    row = await conn.fetchrow(
        f"""INSERT INTO quotes (id, quoted_post_id, quoting_post_id, quoting_uri, account_id, request_uri, state,
                                created_at)
            VALUES ($1, $2, $3, $4, $5, $6, 'accepted', $7)
            ON CONFLICT (quoted_post_id, quoting_uri) DO UPDATE
               SET quoting_post_id = COALESCE(EXCLUDED.quoting_post_id, quotes.quoting_post_id),
                   request_uri = EXCLUDED.request_uri
            RETURNING {_COLUMNS}""",
        ids.new_id(now), quoted_post_id, quoting_post_id, quoting_uri, account_id, request_uri, now)
    return Quote(**dict(row))


async def list_quoting_post_ids(conn: asyncpg.Connection, quoted_post_id: int, *, limit: int = 40,
                                max_id: int | None = None, since_id: int | None = None) -> list[int]:
    """The stored quoting posts of accepted quotes, newest first; the caller applies the visibility rule to
    each (a quote may be followers-only, or by someone the reader blocks)."""
    rows = await conn.fetch(
        """SELECT quoting_post_id FROM quotes WHERE quoted_post_id = $1 AND state = 'accepted'
             AND quoting_post_id IS NOT NULL AND ($2::bigint IS NULL OR quoting_post_id < $2)
             AND ($3::bigint IS NULL OR quoting_post_id > $3)
           ORDER BY quoting_post_id DESC LIMIT $4""", quoted_post_id, max_id, since_id, limit)
    return [r["quoting_post_id"] for r in rows]


async def count_accepted(conn: asyncpg.Connection, post_ids: Sequence[int]) -> dict[int, int]:
    """Mastodon's `quotes_count`: accepted quotes whose quoting post is still here."""
    rows = await conn.fetch(
        """SELECT q.quoted_post_id, count(*) AS n FROM quotes q JOIN posts p ON p.id = q.quoting_post_id
           WHERE q.quoted_post_id = ANY($1::bigint[]) AND q.state = 'accepted' AND p.deleted_at IS NULL
           GROUP BY q.quoted_post_id""", list(post_ids))
    return {r["quoted_post_id"]: r["n"] for r in rows}


async def revoke(conn: asyncpg.Connection, author: Account, quoted_post: Post, quoting_post_id: int,
                 now: datetime) -> Quote:
    """The quoted post's author takes their authorisation back: the quote is no longer shown here, the
    authorisation's document answers 404, and `quote.revoked` sends its Delete (FEP-044f)."""
    if quoted_post.account_id != author.id:
        raise Forbidden("Only the author of the quoted post can remove a quote of it.")
    quote = await get_quote_by_quoting_post(conn, quoted_post.id, quoting_post_id)
    if quote is None or quote.state != "accepted":
        raise NotFound("There is no such quote of this post.")
    row = await conn.fetchrow(f"UPDATE quotes SET state = 'revoked', revoked_at = $2 WHERE id = $1 "
                              f"AND state = 'accepted' RETURNING {_COLUMNS}", quote.id, now)
    await events.record_event(conn, "quote.revoked", quote.id, author.id, now)
    return Quote(**dict(row))


async def change_post_policy(conn: asyncpg.Connection, author: Account, post: Post, policy: str,
                             now: datetime) -> None:
    """Mastodon's "edit interaction policy": the author alone; a published post's Note goes out again as an
    Update with the new `canQuote`. Quotes accepted before stay (Mastodon: changing does not invalidate them)."""
    if post.account_id != author.id or post.reblog_of_id is not None or post.deleted_at is not None:
        raise NotFound("That post does not exist or is not yours.")
    await upsert_post_policy(conn, post.id, policy)
    if post.state == "published":
        await events.record_event(conn, "post.updated", post.id, author.id, now)
