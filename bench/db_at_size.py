"""The read paths' queries on a seeded database (bench/seed.py): latency of the real functions and the plan of
every statement they send, so a missing index shows as a Seq Scan or a time that grows with the tables.

    python bench/db_at_size.py --database-url URL --ids /tmp/issue18/seeddb.json [--runs 200] [--json out.json]

Owns: the list of paths measured (home, list, public, local, account, tag timelines, notifications, context,
conversations, and the inbox's store path: duplicate check and insert, actor by URI, actor by key id), the
timing loop (p50 and p99 ms per call, in-process, one connection, after a warm-up), and EXPLAIN ANALYZE of each
captured statement. The yardstick is a `SELECT 1` round trip in the same run. Never: changes the data (the
inbox insert and the list it may add for the reader are rolled back or reused).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg  # noqa: E402

from bench.harness import machine_line, percentile  # noqa: E402
from federation import inbox, vocab  # noqa: E402
from server import accounts, conversations, notifications, timelines  # noqa: E402
from server.db.pool import open_pool  # noqa: E402
from server.timelines import Page  # noqa: E402
from tests.helpers import query_plans  # noqa: E402

Call = Callable[[asyncpg.Connection], Awaitable[object]]


async def reader_list(conn: asyncpg.Connection, reader_id: int) -> int:
    """The reader's list of 20 accounts they follow (made once, kept: a list's timeline needs one)."""
    found = await conn.fetchval("SELECT id FROM lists WHERE account_id = $1 ORDER BY id LIMIT 1", reader_id)
    if found is not None:
        return int(found)
    list_id = await conn.fetchval(
        "INSERT INTO lists (id, account_id, title, replies_policy, exclusive, created_at) "
        "VALUES ((extract(epoch FROM now()) * 1000)::bigint << 16, $1, 'Collega''s', 'list', false, now()) "
        "RETURNING id", reader_id)
    await conn.execute("INSERT INTO list_accounts (list_id, account_id) SELECT $1, followed_id FROM follows "
                       "WHERE follower_id = $2 AND state = 'accepted' ORDER BY followed_id LIMIT 20",
                       list_id, reader_id)
    return int(list_id)


async def store(conn: asyncpg.Connection, signer: accounts.Account, activity: vocab.Activity,
                now: datetime) -> object:
    """The inbox's store statement for one verified activity: the batch form (`insert_items`, with the signer's
    key stamp and the domain policies' version) where the inbox has it, else the single one (`insert_item`)."""
    if not hasattr(inbox, "insert_items"):
        return await inbox.insert_item(conn, activity, now)  # type: ignore[attr-defined]
    from federation.key_cache import stamp_of

    version = await conn.fetchval("SELECT version FROM federation_policy_version")
    pending = inbox.Pending(activity=activity, json_text=json.dumps(dict(activity.raw)),
                            stamp=stamp_of(signer, signer.key_id or ""), policy_version=version, received_at=now)
    return await inbox.insert_items(conn, [pending])


async def paths(conn: asyncpg.Connection, ids: dict[str, Any]) -> dict[str, Call]:
    """Each request path's id query (or store step), as the API calls it."""
    reader = int(ids["reader_id"])
    list_id = await reader_list(conn, reader)
    author = await conn.fetchval("SELECT account_id FROM posts WHERE id = $1", int(ids["public_post_id"]))
    remote = await conn.fetchrow("SELECT actor_uri, key_id FROM accounts WHERE domain IS NOT NULL "
                                 "ORDER BY id DESC LIMIT 1")
    seen = await conn.fetchrow("SELECT activity_uri, actor_uri FROM inbox_items ORDER BY id DESC LIMIT 1")
    signer = await accounts.get_account_by_actor_uri(conn, seen["actor_uri"])
    duplicate = vocab.parse_activity({"id": seen["activity_uri"], "type": "Like", "actor": seen["actor_uri"],
                                      "object": "https://example.org/x"})
    fresh = vocab.parse_activity({"id": seen["actor_uri"] + "/activities/bench-new", "type": "Like",
                                  "actor": seen["actor_uri"], "object": "https://example.org/x"})
    now = datetime.now(timezone.utc)

    async def store_new(c: asyncpg.Connection) -> None:
        tx = c.transaction()
        await tx.start()
        try:
            await store(c, signer, fresh, now)
        finally:
            await tx.rollback()

    return {
        "home (40)": lambda c: timelines.home_ids(c, reader, Page(limit=40)),
        "home (40), 2nd page": lambda c: timelines.home_ids(c, reader, Page(limit=40, max_id=ids["_home_max"])),
        "list (20)": lambda c: timelines.list_ids(c, reader, list_id, Page(limit=20)),
        "public (20), signed in": lambda c: timelines.public_ids(c, reader, Page(limit=20)),
        "public (20), nobody": lambda c: timelines.public_ids(c, None, Page(limit=20)),
        "local public (20)": lambda c: timelines.local_public_ids(c, reader, Page(limit=20)),
        "account (20)": lambda c: timelines.account_ids(c, reader, author, Page(limit=20)),
        "tag (20)": lambda c: timelines.tag_ids(c, reader, ids["tag"], Page(limit=20)),
        "notifications (40)": lambda c: notifications.list_notifications(
            c, reader, max_id=None, since_id=None, min_id=None, limit=40),
        "context": lambda c: timelines.context_ids(c, reader, int(ids["thread_post_id"])),
        "conversations (20)": lambda c: conversations.list_conversations(
            c, reader, max_id=None, since_id=None, min_id=None, limit=20),
        "inbox: duplicate": lambda c: store(c, signer, duplicate, now),
        "inbox: new (rolled back)": store_new,
        "inbox: actor by uri": lambda c: accounts.get_account_by_actor_uri(c, remote["actor_uri"]),
        "inbox: actor by key id": lambda c: accounts.get_account_by_key_id(c, remote["key_id"]),
    }


async def _time(conn: asyncpg.Connection, call: Call, runs: int) -> tuple[float, float]:
    for _ in range(min(5, runs)):
        await call(conn)
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await call(conn)
        samples.append((time.perf_counter() - started) * 1000)
    return percentile(samples, 50), percentile(samples, 99)


@asynccontextmanager
async def app_connection(url: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection set up as the node's pool sets up its own (server/db/pool.py: the jsonb codec)."""
    pool = await open_pool(url, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:
            yield conn
    finally:
        await pool.close()


async def measure(url: str, ids: dict[str, Any], runs: int) -> dict[str, Any]:
    async with app_connection(url) as conn:
        home = await timelines.home_ids(conn, int(ids["reader_id"]), Page(limit=40))
        ids = {**ids, "_home_max": home[-1] if home else None}
        results: dict[str, Any] = {"yardstick: SELECT 1": dict(zip(("p50", "p99"), await _time(
            conn, lambda c: c.fetchval("SELECT 1"), runs)))}
        for name, call in (await paths(conn, ids)).items():
            statements = await query_plans.capture(conn, lambda c=call: c(conn))
            plans = [await query_plans.explain(conn, s, analyze=True) for s in statements]
            p50, p99 = await _time(conn, call, runs)
            results[name] = {
                "p50": p50, "p99": p99,
                "seq_scans": sorted({t for p in plans for t in query_plans.seq_scans(p)}),
                "limit_over_index": all(query_plans.limit_over_index(p) for p in plans
                                        if any(n["Node Type"] == "Limit" for n in query_plans.nodes(p))),
                "explain_ms": [round(p["Execution Time"], 3) for p in plans],
                "plans": [query_plans.summary(p) for p in plans],
            }
            print(f"{name:28s} p50 {p50:8.2f}  p99 {p99:8.2f} ms  seq scans {results[name]['seq_scans'] or '-'}",
                  flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--ids", type=Path, required=True, help="the JSON bench/seed.py wrote with --out")
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--json", type=Path, help="write the results (with plans) here")
    args = parser.parse_args()
    doc = json.loads(args.ids.read_text())
    print(machine_line(), flush=True)
    results = asyncio.run(measure(args.database_url, doc.get("ids", doc), args.runs))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
