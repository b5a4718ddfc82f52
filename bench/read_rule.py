"""What the visibility rule costs a read: the home and public timelines with `hydrate`, and the rule's own check
inside `hydrate` (server/visibility.py's `visible_ids`), on one node's database with realistic rows.

Owns: a database of 60 accounts (an organisation, its reviewers, followers), 20,000 posts in every visibility and
review state, follows and mentions; the timing loop (median and p90 milliseconds per call, in-process, one
connection). The yardstick is a `SELECT 1` round trip measured in the same run, so the figures can be compared
across runs on a noisy machine. Never: starts a node or touches the network.

    python bench/read_rule.py --posts 20000 --runs 300
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import machine_line, postgres  # noqa: E402
from server import accounts, follows, organisations, posts, timelines, visibility  # noqa: E402
from server.db.pool import open_pool  # noqa: E402
from server.timelines import Page  # noqa: E402

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


async def _populate(conn: object, count: int) -> tuple[int, int]:
    """(a follower who reads home, a reviewer) after inserting the accounts and posts."""
    org = await organisations.insert_organisation(conn, name="Gemeente Bank", slug="gemeente-bank", kind="gemeente",
                                                  website="https://example.org")
    people = [await accounts.insert_account(conn, username=f"p{i}", kind="person",
                                            organisation_id=org.id if i < 20 else None,
                                            org_role=("reviewer" if i < 3 else "official") if i < 20 else None)
              for i in range(60)]
    reader, reviewer = people[45], people[0]
    for author in people[:40:2]:
        await follows.insert_follow(conn, reader.id, author.id, NOW)
    rng = random.Random(7)
    visibilities = ("public",) * 6 + ("unlisted", "private", "private", "direct")
    for n in range(count):
        author = rng.choice(people[:40])
        state = "held" if n % 25 == 0 else "rejected" if n % 97 == 0 else "published"
        await posts.insert_post(conn, account_id=author.id, source_text=f"bericht {n}", content_html=f"<p>{n}</p>",
                                spoiler_text="", visibility=rng.choice(visibilities), voice="personal",
                                organisation_id=None, language="nl", in_reply_to_id=None, tags=[],
                                mention_ids=[reader.id] if n % 50 == 0 else [],
                                now=NOW - timedelta(seconds=count - n), state=state)
    return reader.id, reviewer.id


async def _time(call: Callable[[], Awaitable[object]], runs: int) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.9)]


async def _run(url: str, count: int, runs: int) -> None:
    pool = await open_pool(url, max_size=2)
    async with pool.acquire() as conn:
        async with conn.transaction():
            reader, _ = await _populate(conn, count)
        await conn.execute("ANALYZE")
        home = await timelines.home_ids(conn, reader, Page(limit=40))
        public = await timelines.public_ids(conn, None, Page(limit=40))
        rows = {
            "yardstick: SELECT 1": lambda: conn.fetchval("SELECT 1"),
            "home_ids (40)": lambda: timelines.home_ids(conn, reader, Page(limit=40)),
            "hydrate home (40)": lambda: timelines.hydrate(conn, home, reader),
            "  of which visible_ids": lambda: visibility.visible_ids(conn, home, reader),
            "public_ids (40), nobody": lambda: timelines.public_ids(conn, None, Page(limit=40)),
            "hydrate public (40)": lambda: timelines.hydrate(conn, public, None),
            "  of which visible_ids ": lambda: visibility.visible_ids(conn, public, None),
        }
        results = {name: await _time(call, runs) for name, call in rows.items()}
    await pool.close()
    yardstick = results["yardstick: SELECT 1"][0]
    print(machine_line())
    print(f"{count} posts, {runs} runs each; median and p90 in ms, and the median as a multiple of SELECT 1")
    for name, (median, p90) in results.items():
        print(f"{name:28s} {median:8.3f} {p90:8.3f} {median / yardstick:8.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=300)
    args = parser.parse_args()
    with postgres() as server:
        asyncio.run(_run(server.fresh_database(), args.posts, args.runs))


if __name__ == "__main__":
    main()
