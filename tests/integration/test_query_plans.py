"""Every read path's query reads the big tables through an index, so its cost does not grow with the node.

A real PostgreSQL is seeded with bench/seed.py at a small size (20,000 posts, 500 accounts: enough rows that the
planner prefers an index where one fits, and VACUUM ANALYZE run), the real functions of each path are called on it
with asyncpg's query logger capturing the statements they send (bench/db_at_size.py's list, the one the figures in
docs/benchmarks.md were measured with), and each statement's EXPLAIN (FORMAT JSON) is checked: no Seq Scan of a big
table (posts, notifications, follows, favourites, mentions, tags, inbox items, accounts, attachments), a page is a
Limit fed by an index scan, and the index each path is built on is in its plan (so dropping one of migration 0061's
indexes fails here). No timing is asserted: the timings are bench/db_at_size.py's.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bench.db_at_size import app_connection, paths
from bench.seed import seed
from server import timelines
from server.timelines import Page
from tests.helpers import query_plans
from tests.helpers.database import TestPostgres, run

# path -> (indexes its plans must use, whether each of its pages is a Limit over an index scan)
EXPECTED: dict[str, tuple[set[str], bool]] = {
    "home (40)": ({"posts_account_time", "post_mentions_account"}, True),
    "home (40), 2nd page": ({"posts_account_time", "post_mentions_account"}, True),
    "list (20)": ({"posts_account_time"}, True),
    "public (20), signed in": ({"posts_public_time"}, True),
    "public (20), nobody": ({"posts_public_time"}, True),
    "local public (20)": ({"posts_local_public_time"}, True),
    "account (20)": ({"posts_account_time"}, True),
    "tag (20)": ({"post_tags_tag"}, True),
    "notifications (40)": ({"notifications_account"}, True),
    "context": ({"posts_reply_to", "posts_pkey"}, False),
    "conversations (20)": ({"posts_account_direct", "post_mentions_account"}, False),
    "inbox: duplicate": ({"inbox_items_activity_uri_key"}, False),
    "inbox: new (rolled back)": ({"inbox_items_activity_uri_key"}, False),
    "inbox: actor by uri": ({"accounts_actor_uri_key"}, False),
    "inbox: actor by key id": ({"accounts_key_id"}, False),
}


@pytest.fixture(scope="module")
def seeded(postgres: TestPostgres) -> Iterator[tuple[str, dict[str, Any]]]:
    url = postgres.fresh_database()
    ids = run(seed(url, 20_000, 500))["ids"]
    yield url, ids


def _indexes(plan: dict[str, Any]) -> set[str]:
    used = set()
    for node in query_plans.nodes(plan):
        if node.get("Index Name"):
            used.add(node["Index Name"])
        used.update(node.get("Conflict Arbiter Indexes", []))
    return used


async def _plans(url: str, ids: dict[str, Any], name: str) -> list[tuple[str, dict[str, Any]]]:
    async with app_connection(url) as conn:
        home = await timelines.home_ids(conn, int(ids["reader_id"]), Page(limit=40))
        assert home, "the seeded reader has a home timeline"
        call = (await paths(conn, {**ids, "_home_max": home[-1]}))[name]
        statements = await query_plans.capture(conn, lambda: call(conn))
        assert statements, f"{name} sent no statement"
        return [(s.sql, await query_plans.explain(conn, s)) for s in statements]


@pytest.mark.parametrize("name", list(EXPECTED))
def test_plan_reads_through_an_index(seeded: tuple[str, dict[str, Any]], name: str) -> None:
    url, ids = seeded
    wanted, paged = EXPECTED[name]
    plans = run(_plans(url, ids, name))
    used: set[str] = set()
    for sql, plan in plans:
        shape = query_plans.summary(plan)
        assert not query_plans.seq_scans(plan), f"{name} reads a big table whole:\n{sql}\n{shape}"
        if paged and any(n["Node Type"] == "Limit" for n in query_plans.nodes(plan)):
            assert query_plans.limit_over_index(plan), f"{name}: the page is not a Limit over an index:\n{shape}"
        used |= _indexes(plan)
    if paged:
        assert any(n["Node Type"] == "Limit" for _, p in plans for n in query_plans.nodes(p)), f"{name}: no Limit"
    assert wanted <= used, f"{name} does not use {sorted(wanted - used)}; it uses {sorted(used)}"


def test_paths_match(seeded: tuple[str, dict[str, Any]]) -> None:
    """The list above and the benchmark's list of paths are the same."""
    url, ids = seeded

    async def names() -> set[str]:
        async with app_connection(url) as conn:
            return set(await paths(conn, {**ids, "_home_max": None}))

    assert run(names()) == set(EXPECTED)
