"""The organisation's audit log for its admins: filter on the page, export as CSV or JSON.

Owns: /orgs/{slug}/audit. Never: SQL (server/audit.py owns the append-only table).
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta, timezone

from starlette.responses import Response
from starlette.routing import Route

from server import accounts, audit, badges, organisations
from server.db.pool import connection
from server.errors import Forbidden, Invalid, NotFound
from web.context import PageContext, finish, render
from web.handlers import page

FIELDS = ("id", "at", "actor", "action", "subject_type", "subject_id", "detail")


def _day(raw: str, name: str) -> datetime | None:
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw).replace(tzinfo=timezone.utc)
    except ValueError:
        raise Invalid("%(name)s must be a date like 2026-11-29.", name=name) from None


@page(signed_in=True)
async def audit_page(ctx: PageContext) -> Response:
    assert ctx.viewer is not None
    query = ctx.request.query_params
    async with connection(ctx.deps.pool) as conn:
        org = await organisations.get_organisation_by_slug(conn, ctx.request.path_params["slug"])
        if org is None:
            raise NotFound("There is no organisation with that name here.")
        if not badges.may_manage(ctx.viewer, org.id):
            raise Forbidden("Only the organisation's admins may see its audit log.")
        since, until = _day(query.get("from", ""), "from"), _day(query.get("until", ""), "until")
        entries = await audit.list_for_organisation(conn, org.id, action_prefix=query.get("action", "").strip(),
                                                    since=since, until=until + timedelta(days=1) if until else None)
        people = await accounts.list_accounts_by_ids(conn, [e.actor_account_id for e in entries if e.actor_account_id])
    rows = [{"id": e.id, "at": e.at.isoformat(), "actor": people[e.actor_account_id].username
             if e.actor_account_id in people else "cli", "action": e.action, "subject_type": e.subject_type,
             "subject_id": e.subject_id, "detail": e.detail} for e in entries]
    export = query.get("format", "")
    if export == "json":
        return finish(Response(json.dumps(rows, ensure_ascii=False, indent=1), media_type="application/json",
                               headers={"Content-Disposition": f'attachment; filename="audit-{org.slug}.json"'}), ctx)
    if export == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=FIELDS)
        writer.writeheader()
        for row in rows:
            writer.writerow({**row, "detail": json.dumps(row["detail"], ensure_ascii=False)})
        return finish(Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                               headers={"Content-Disposition": f'attachment; filename="audit-{org.slug}.csv"'}), ctx)
    return render(ctx, "audit.html", organisation=org, rows=rows[:500], filters=dict(query))


ROUTES = [Route("/orgs/{slug}/audit", audit_page, methods=["GET"])]
