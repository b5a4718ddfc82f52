"""The webcare report: how the team did over a period, as a page and as CSV.

Owns: /orgs/{slug}/webcare/report and /orgs/{slug}/webcare/report.csv and reading their period (default: the
last 7 days, today included, in the organisation's time zone). Never: the figures themselves
(server/webcare_reports.py, the same for page, CSV and CLI) or who may see them (the one webcare rule).
"""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from starlette.responses import Response
from starlette.routing import Route

from server import organisations, webcare_reports, webcare_settings
from server.db.pool import connection
from server.errors import Invalid
from server.webcare_clock import format_duration
from web.context import PageContext, finish, render
from web.handlers import page
from web.pages.webcare import team_organisation


def _day(raw: str | None, fallback: date) -> date:
    if not raw:
        return fallback
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise Invalid("A date is written as YYYY-MM-DD.") from None


async def _report(ctx: PageContext, org: organisations.Organisation) -> webcare_reports.Report:
    async with connection(ctx.deps.pool) as conn:
        hours = await webcare_settings.get_hours(conn, org.id)
        today = ctx.now.astimezone(ZoneInfo(hours.time_zone)).date()
        end = _day(ctx.request.query_params.get("to"), today)
        start = _day(ctx.request.query_params.get("from"), end - timedelta(days=6))
        if (end - start).days > 366 * 3:
            raise Invalid("A report covers at most three years.")
        return await webcare_reports.load_report(conn, org.id, start, end, ctx.now)


@page(signed_in=True)
async def report_page(ctx: PageContext) -> Response:
    assert ctx.viewer is not None
    org = await team_organisation(ctx)
    report = await _report(ctx, org)

    def hours(value: float | None) -> str:
        return "–" if value is None else format_duration(timedelta(hours=value), ctx.lang)

    def share(value: float | None) -> str:
        return "–" if value is None else f"{round(value * 100)} %"

    return render(ctx, "webcare/report.html", organisation=org, report=report, hours=hours, share=share,
                  may_administer=ctx.viewer.administers(org.id))


@page(signed_in=True)
async def report_csv(ctx: PageContext) -> Response:
    org = await team_organisation(ctx)
    report = await _report(ctx, org)
    name = f"webcare-{org.slug}-{report.start.isoformat()}-{report.end.isoformat()}.csv"
    return finish(Response(webcare_reports.to_csv(report), media_type="text/csv; charset=utf-8",
                           headers={"Content-Disposition": f'attachment; filename="{name}"'}), ctx)


ROUTES = [
    Route("/orgs/{slug}/webcare/report", report_page, methods=["GET"]),
    Route("/orgs/{slug}/webcare/report.csv", report_csv, methods=["GET"]),
]
