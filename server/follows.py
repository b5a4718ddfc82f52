"""Who follows whom on this node.

Owns: the follows table and its SQL. Never: sends Follow activities (federation/ reads the outbox events).
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from server.errors import Invalid


async def insert_follow(conn: asyncpg.Connection, follower_id: int, followed_id: int, now: datetime, *,
                        state: str = "accepted", follow_uri: str | None = None) -> bool:
    """Follow; False when the follow already existed. A follow of a remote account waits ('pending') for Accept."""
    if follower_id == followed_id:
        raise Invalid("You cannot follow yourself.")
    status = await conn.execute("INSERT INTO follows (follower_id, followed_id, created_at, state, follow_uri) "
                                "VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                                follower_id, followed_id, now, state, follow_uri)
    return status.endswith(" 1")


async def get_follow_state(conn: asyncpg.Connection, follower_id: int, followed_id: int) -> tuple[str, str | None] | None:
    """(state, follow activity URI) of a follow, or None."""
    row = await conn.fetchrow("SELECT state, follow_uri FROM follows WHERE follower_id = $1 AND followed_id = $2",
                              follower_id, followed_id)
    return (row["state"], row["follow_uri"]) if row else None


async def accept_follow(conn: asyncpg.Connection, follower_id: int, followed_id: int) -> bool:
    status = await conn.execute("UPDATE follows SET state = 'accepted' WHERE follower_id = $1 AND followed_id = $2 "
                                "AND state = 'pending'", follower_id, followed_id)
    return status.endswith(" 1")


async def set_follow_uri(conn: asyncpg.Connection, follower_id: int, followed_id: int, follow_uri: str) -> None:
    await conn.execute("UPDATE follows SET follow_uri = $3 WHERE follower_id = $1 AND followed_id = $2",
                       follower_id, followed_id, follow_uri)


async def list_follower_inboxes(conn: asyncpg.Connection, account_id: int) -> list[str]:
    """Distinct inboxes of remote followers, shared inboxes preferred: one delivery per server, not per person."""
    rows = await conn.fetch(
        "SELECT DISTINCT coalesce(a.shared_inbox_uri, a.inbox_uri) AS inbox FROM follows f "
        "JOIN accounts a ON a.id = f.follower_id WHERE f.followed_id = $1 AND f.state = 'accepted' "
        "AND a.domain IS NOT NULL AND a.gone_at IS NULL AND coalesce(a.shared_inbox_uri, a.inbox_uri) IS NOT NULL",
        account_id)
    return [r["inbox"] for r in rows]


async def exists_local_follower_of(conn: asyncpg.Connection, account_id: int) -> bool:
    """Whether anyone on this node follows the account (so its posts belong in home timelines here)."""
    return bool(await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM follows f JOIN accounts a ON a.id = f.follower_id "
        "WHERE f.followed_id = $1 AND f.state = 'accepted' AND a.domain IS NULL)", account_id))


async def exists_remote_follower_of_organisation(conn: asyncpg.Connection, organisation_id: int,
                                                 since: datetime) -> bool:
    """Whether a remote account followed an account of the organisation since a moment (its handle domain is
    then in use elsewhere: server/handle_domains.py)."""
    return bool(await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM follows f JOIN accounts a ON a.id = f.followed_id "
        "JOIN accounts r ON r.id = f.follower_id WHERE a.organisation_id = $1 AND a.domain IS NULL "
        "AND r.domain IS NOT NULL AND f.created_at >= $2)", organisation_id, since))


async def delete_follow(conn: asyncpg.Connection, follower_id: int, followed_id: int) -> bool:
    status = await conn.execute("DELETE FROM follows WHERE follower_id = $1 AND followed_id = $2",
                                follower_id, followed_id)
    return status.endswith(" 1")


async def exists_follow(conn: asyncpg.Connection, follower_id: int, followed_id: int) -> bool:
    return bool(await conn.fetchval("SELECT EXISTS (SELECT 1 FROM follows WHERE follower_id = $1 AND followed_id = $2)",
                                    follower_id, followed_id))


async def count_follows(conn: asyncpg.Connection, account_id: int) -> tuple[int, int]:
    """(followers, following) of an account."""
    row = await conn.fetchrow("SELECT (SELECT count(*) FROM follows WHERE followed_id = $1 AND state = 'accepted') "
                              "AS followers, (SELECT count(*) FROM follows WHERE follower_id = $1 "
                              "AND state = 'accepted') AS following", account_id)
    return int(row["followers"]), int(row["following"])


async def list_follower_ids(conn: asyncpg.Connection, account_id: int, *, max_id: int | None, since_id: int | None,
                            limit: int) -> list[int]:
    """Followers of an account, newest account id first (ids page like Mastodon's Link headers expect)."""
    return await _list_related(conn, "follower_id", "followed_id", account_id, max_id, since_id, limit)


async def list_following_ids(conn: asyncpg.Connection, account_id: int, *, max_id: int | None, since_id: int | None,
                             limit: int) -> list[int]:
    return await _list_related(conn, "followed_id", "follower_id", account_id, max_id, since_id, limit)


async def _list_related(conn: asyncpg.Connection, wanted: str, given: str, account_id: int, max_id: int | None,
                        since_id: int | None, limit: int) -> list[int]:
    rows = await conn.fetch(
        f"SELECT {wanted} AS id FROM follows WHERE {given} = $1 AND state = 'accepted' "
        f"AND ($2::bigint IS NULL OR {wanted} < $2) "
        f"AND ($3::bigint IS NULL OR {wanted} > $3) ORDER BY {wanted} DESC LIMIT $4",
        account_id, max_id, since_id, limit)
    return [r["id"] for r in rows]


async def list_relationships(conn: asyncpg.Connection, viewer_id: int,
                             other_ids: list[int]) -> dict[int, tuple[bool, bool, bool]]:
    """For each other account: (viewer follows it, it follows viewer, viewer's follow awaits approval)."""
    rows = await conn.fetch(
        "SELECT a.id, EXISTS (SELECT 1 FROM follows f WHERE f.follower_id = $1 AND f.followed_id = a.id "
        "AND f.state = 'accepted') AS following, "
        "EXISTS (SELECT 1 FROM follows f WHERE f.follower_id = a.id AND f.followed_id = $1 "
        "AND f.state = 'accepted') AS followed_by, "
        "EXISTS (SELECT 1 FROM follows f WHERE f.follower_id = $1 AND f.followed_id = a.id "
        "AND f.state = 'pending') AS requested "
        "FROM accounts a WHERE a.id = ANY($2::bigint[])", viewer_id, other_ids)
    return {r["id"]: (r["following"], r["followed_by"], r["requested"]) for r in rows}


async def list_familiar_followers(conn: asyncpg.Connection, viewer_id: int, account_ids: list[int],
                                  limit: int = 40) -> dict[int, list[int]]:
    """For each account: the accounts the viewer follows that follow it too (Mastodon's familiar followers)."""
    rows = await conn.fetch(
        "SELECT t.id, array(SELECT f.follower_id FROM follows f JOIN follows mine ON mine.followed_id = f.follower_id "
        "AND mine.follower_id = $1 AND mine.state = 'accepted' WHERE f.followed_id = t.id AND f.state = 'accepted' "
        "AND f.follower_id <> $1 ORDER BY f.follower_id DESC LIMIT $3) AS ids FROM unnest($2::bigint[]) AS t(id)",
        viewer_id, account_ids, limit)
    return {r["id"]: list(r["ids"]) for r in rows}


async def list_pending_follower_ids(conn: asyncpg.Connection, account_id: int, limit: int = 80) -> list[int]:
    rows = await conn.fetch("SELECT follower_id FROM follows WHERE followed_id = $1 AND state = 'pending' "
                            "ORDER BY created_at DESC LIMIT $2", account_id, limit)
    return [r["follower_id"] for r in rows]


async def delete_follows_of_accounts(conn: asyncpg.Connection, account_ids: list[int]) -> int:
    """End every follow to or from these accounts (a suspension, or an actor deleting itself); nothing is sent."""
    status = await conn.execute("DELETE FROM follows WHERE follower_id = ANY($1::bigint[]) "
                                "OR followed_id = ANY($1::bigint[])", account_ids)
    return int(status.split()[-1])
