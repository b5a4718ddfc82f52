"""Reporting from apps: Mastodon's POST /api/v1/reports, answered with its Report entity.

Owns: the endpoint and the Report entity, through the client API's `api()` wrapper (token, scope, rate limit,
refusals). Never: SQL (moderation/reports.py files the report).
"""

from __future__ import annotations

from typing import Any

import asyncpg
from starlette.responses import Response
from starlette.routing import Route

from moderation import reports
from moderation.reports import Report
from server import accounts
from web.api.entities import iso, render_account
from web.api.http import ApiCall, ApiError, api, json_response, not_found
from server.config import Settings
from server.db.pool import transaction


async def report_json(conn: asyncpg.Connection, settings: Settings, report: Report) -> dict[str, Any]:
    """Mastodon's Report entity, as the reporter sees it."""
    target = await accounts.get_account(conn, report.target_account_id)
    assert target is not None
    return {"id": str(report.id), "action_taken": not report.is_open,
            "action_taken_at": iso(report.resolved_at) if report.resolved_at else None,
            "category": report.category, "comment": report.comment, "forwarded": report.forwarded,
            "created_at": iso(report.created_at),
            "status_ids": [str(p.post_id) for p in report.posts if p.post_id is not None],
            "rule_ids": [], "target_account": await render_account(conn, settings, target)}


def _ids(call: ApiCall, name: str) -> list[int]:
    found = []
    for raw in call.params.list(name):
        text = str(raw)
        if not text.isdigit() or len(text) > 19:
            raise not_found()
        found.append(int(text))
    return found


@api(scope="write:reports")
async def create(call: ApiCall) -> Response:
    reporter = call.need_account()
    params = call.params
    target_id = params.id("account_id")
    if target_id is None:
        raise ApiError(422, "Validation failed: account_id is missing")
    if params.list("rule_ids"):
        raise ApiError(422, "Validation failed: this server has no rules to choose from")
    post_ids = _ids(call, "status_ids")
    async with transaction(call.deps.pool) as conn:
        target = await accounts.get_account(conn, target_id)
        if target is None or target.disabled_at is not None:
            raise not_found()
        report = await reports.file_report(conn, call.deps.settings, reporter, target, post_ids=post_ids,
                                           category=params.str("category"), comment=params.str("comment") or "",
                                           forward=params.bool("forward"), now=call.deps.now())
        return json_response(await report_json(conn, call.deps.settings, report))


# Mastodon.py posts to the path with a slash at the end.
ROUTES = [Route("/api/v1/reports", create, methods=["POST"]), Route("/api/v1/reports/", create, methods=["POST"])]
