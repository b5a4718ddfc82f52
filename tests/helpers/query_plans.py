"""The SQL a request path really runs, and PostgreSQL's plan for it: for checking that it stays independent of the
size of the tables (tests/integration/test_query_plans.py) and for timing it at size (bench/db_at_size.py).

Owns: capturing the statements a call sends (asyncpg's query logger, around the real function) and reading their
EXPLAIN (FORMAT JSON) plans. Never: writes, or builds SQL of its own beyond EXPLAIN.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import asyncpg

# Tables that grow with the life of a node: a plan may read them only through an index.
BIG_TABLES = frozenset({"posts", "notifications", "follows", "favourites", "post_mentions", "post_tags",
                        "inbox_items", "accounts", "media_attachments"})


_ASYNCPG_OWN = ("pg_catalog.", "typeinfo", "current_setting('jit')", "set_config('jit'")
_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "SET ", "RESET ")


@dataclass(frozen=True)
class Statement:
    sql: str
    args: tuple[Any, ...]


async def capture(conn: asyncpg.Connection, call: Callable[[], Awaitable[object]]) -> list[Statement]:
    """The statements `call` sent on `conn`, in order, with their arguments (the function itself runs)."""
    sent: list[Statement] = []

    def log(record: Any) -> None:
        sent.append(Statement(record.query, tuple(record.args or ())))

    conn.add_query_logger(log)
    try:
        await call()
    finally:
        await asyncio.sleep(0)  # asyncpg calls loggers with call_soon
        conn.remove_query_logger(log)
    # asyncpg's own look-ups of types (a first use of an array or composite type) and transaction control are not
    # the path's queries.
    return [s for s in sent if not any(mark in s.sql for mark in _ASYNCPG_OWN)
            and not s.sql.lstrip().upper().startswith(_CONTROL)]


async def explain(conn: asyncpg.Connection, statement: Statement, *, analyze: bool = False) -> dict[str, Any]:
    """The plan's root node (and, with `analyze`, 'Execution Time' in ms) of one captured statement; a write is
    explained inside a transaction that is rolled back."""
    options = "ANALYZE, TIMING OFF, BUFFERS, FORMAT JSON" if analyze else "FORMAT JSON"
    tx = conn.transaction()
    await tx.start()
    try:
        raw = await conn.fetchval(f"EXPLAIN ({options}) {statement.sql}", *statement.args)
    finally:
        await tx.rollback()
    doc = (json.loads(raw) if isinstance(raw, str) else raw)[0]
    plan: dict[str, Any] = doc["Plan"]
    if analyze:
        plan = {**plan, "Execution Time": doc.get("Execution Time")}
    return plan


def nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every node of a plan, depth first (subplans and init plans included)."""
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


def seq_scans(plan: dict[str, Any], tables: frozenset[str] = BIG_TABLES) -> list[str]:
    """The big tables a plan reads whole."""
    return sorted({n["Relation Name"] for n in nodes(plan)
                   if n["Node Type"] == "Seq Scan" and n.get("Relation Name") in tables})


_INDEX_SCANS = ("Index Scan", "Index Only Scan", "Bitmap Index Scan")


def limit_over_index(plan: dict[str, Any]) -> bool:
    """A Limit node fed by an index scan without a Sort between them (init plans and subplans, which only test a
    row, do not count): the shape whose cost stops when the page is full, instead of reading and sorting all
    that matches."""
    def fed(node: dict[str, Any]) -> bool:
        if node["Node Type"] in _INDEX_SCANS:
            return True
        if node["Node Type"] == "Sort":
            return False
        return any(fed(child) for child in node.get("Plans", [])
                   if child.get("Parent Relationship") not in ("InitPlan", "SubPlan"))

    return any(node["Node Type"] == "Limit" and fed(node) for node in nodes(plan))


def summary(plan: dict[str, Any]) -> str:
    """One line: the node types with their relation or index, for a report."""
    parts = []
    for n in nodes(plan):
        what = n.get("Index Name") or n.get("Relation Name") or ""
        parts.append(f"{n['Node Type']}({what})" if what else n["Node Type"])
    return " > ".join(parts)
