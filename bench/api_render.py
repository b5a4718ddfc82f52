"""What rendering a page of the client API costs: `timelines.hydrate` and the Mastodon entities for 40 statuses
(home, public, an account's), a thread's context and 40 notifications, as SQL statements per page and
milliseconds per page, in-process on one connection to a seeded database.

Owns: the timing loop (median and p90 per page) and the statement count (asyncpg's query logger on the
connection). The yardstick is a `SELECT 1` round trip measured in the same run, so figures compare across runs on
a noisy machine. The ids of each page are read once before timing: what is measured is turning ids into JSON,
the part that used to grow with the page. Never: writes to the database, starts a node or touches the network.

    python bench/seed.py --posts 1000000 --accounts 10000 --data-dir /tmp/seeddb --out /tmp/seed.json
    python bench/api_render.py --seed /tmp/seed.json --runs 100
    python bench/api_render.py --seed /tmp/seed.json --code /tmp/before   # another version of server/ and web/
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


async def _time(call: Callable[[], Awaitable[object]], runs: int) -> tuple[float, float, float]:
    """(median, p90) wall milliseconds, and this process's CPU milliseconds per call (less noisy on a busy
    machine; it leaves out PostgreSQL's own work)."""
    samples = []
    cpu = time.process_time()
    for _ in range(runs):
        start = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - start) * 1000)
    cpu_ms = (time.process_time() - cpu) * 1000 / runs
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.9)], cpu_ms


async def _run(seed: dict[str, Any], runs: int, profile: bool) -> None:
    from server import accounts, notifications, timelines
    from server.config import settings_from
    from server.db.pool import open_pool
    from server.timelines import Page
    from web.api.entities import render_notifications, render_status_ids

    settings = settings_from({}, {"domain": "bench.example", "secret_key": "s" * 40})
    ids = seed["ids"]
    reader = int(ids["reader_id"])
    pool = await open_pool(seed["database_url"], max_size=1)
    async with pool.acquire() as conn:
        author = await accounts.get_account_by_username(conn, ids["public_post_author"])
        assert author is not None
        home = await timelines.home_ids(conn, reader, Page(limit=40))
        public = await timelines.public_ids(conn, reader, Page(limit=40))
        own = await timelines.account_ids(conn, reader, author.id, Page(limit=40))
        ancestors, descendants = await timelines.context_ids(conn, reader, int(ids["thread_post_id"]))
        items = await notifications.list_notifications(conn, reader, max_id=None, since_id=None, min_id=None,
                                                       limit=40)
        pages: dict[str, Callable[[], Awaitable[object]]] = {
            "yardstick: SELECT 1": lambda: conn.fetchval("SELECT 1"),
            f"home ({len(home)})": lambda: render_status_ids(conn, settings, home, reader),
            "home (5)": lambda: render_status_ids(conn, settings, home[:5], reader),
            f"public ({len(public)})": lambda: render_status_ids(conn, settings, public, reader),
            f"account's statuses ({len(own)})": lambda: render_status_ids(conn, settings, own, reader),
            f"context ({len(ancestors)}+{len(descendants)})": lambda: render_status_ids(
                conn, settings, [*ancestors, *descendants], reader),
            f"notifications ({len(items)})": lambda: render_notifications(conn, settings, items, reader),
            "notifications (5)": lambda: render_notifications(conn, settings, items[:5], reader),
        }
        statements: list[tuple[str, float]] = []

        def log(record: Any) -> None:
            statements.append((record.query, record.elapsed * 1000))
        conn.add_query_logger(log)
        counts: dict[str, int] = {}
        slowest: dict[str, list[tuple[str, float]]] = {}
        for name, call in pages.items():
            await call()  # warm: prepared statements, codecs
            await asyncio.sleep(0)
            statements.clear()
            await call()
            await asyncio.sleep(0.01)  # the logger runs on the loop's next turn
            counts[name] = len(statements)
        if not profile:
            conn.remove_query_logger(log)
        results = {}
        for name, call in pages.items():
            statements.clear()
            results[name] = await _time(call, runs)
            await asyncio.sleep(0.01)
            per_query: dict[str, float] = {}
            for query, ms in statements:
                per_query[query] = per_query.get(query, 0.0) + ms / runs
            slowest[name] = sorted(per_query.items(), key=lambda item: -item[1])[:3]
    await pool.close()
    yardstick = results["yardstick: SELECT 1"][0]
    print(machine_line())
    print(f"{seed.get('counts', {}).get('posts', '?')} posts; {runs} runs each; statements per page, median and p90 "
          f"ms per page, the median as a multiple of SELECT 1 ({yardstick:.3f} ms), this process's CPU ms per page")
    for name, (median, p90, cpu_ms) in results.items():
        print(f"{name:34s} {counts[name]:4d} {median:9.3f} {p90:9.3f} {median / yardstick:8.1f}x {cpu_ms:8.3f}")
    if profile:
        for name, found in slowest.items():
            print(f"\nslowest statements of {name} (mean ms per page, the logger's own time included):")
            for query, ms in found:
                print(f"  {ms:9.3f} ms  {' '.join(query.split())[:150]}")


def machine_line() -> str:
    import os
    import platform
    load = os.getloadavg()
    return (f"{platform.node()}: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
            f"load average {load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=Path, required=True,
                        help="the JSON bench/seed.py --out wrote (database_url and the reader's ids)")
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--code", type=Path, default=REPO,
                        help="the folder whose server/ and web/ are measured (default: this repository)")
    parser.add_argument("--profile", action="store_true", help="also print each page's slowest statements")
    args = parser.parse_args()
    sys.path.insert(0, str(args.code.resolve()))
    asyncio.run(_run(json.loads(args.seed.read_text()), args.runs, args.profile))


if __name__ == "__main__":
    main()
