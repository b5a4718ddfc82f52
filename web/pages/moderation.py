"""The moderators' queue: reports and what the moderators decide about accounts.

Owns: /admin/reports (open first; filter open, resolved, all), /admin/reports/{id} with its actions (resolve,
warn, limit, suspend, forward, reopen) and /admin/accounts/{id} (the same decisions without a report, and lifting
them). Only admins and moderators of this node. Never: SQL, or what a decision does
(moderation/account_actions.py does it and audits it).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from moderation import account_actions, reports
from moderation.reports import Report
from server import accounts, audit, posts
from server.accounts import Account
from server.db.pool import connection, transaction
from server.errors import DomainError, NotFound
from web.context import PageContext, read_form, redirect, render
from web.handlers import page, path_int

FILTERS = ("open", "resolved", "all")
ACTION_NAMES = {"none": "No action", "warn": "Warned", "silence": "Limited", "suspend": "Suspended"}
CATEGORY_NAMES = {"spam": "Spam", "legal": "Illegal content", "violation": "Rule violation", "other": "Other"}
AUDIT_NAMES = {
    "report.created": "Report filed", "report.received": "Report received from another server",
    "report.forwarded": "Report sent to the account's server", "report.resolved": "Report resolved",
    "report.reopened": "Report reopened", "account.warned": "Account warned", "account.silenced": "Account limited",
    "account.unsilenced": "Limit lifted", "account.suspended": "Account suspended",
    "account.unsuspended": "Suspension lifted", "post.removed": "Post removed",
}


def _moderator(ctx: PageContext) -> Account:
    return account_actions.require_moderator(ctx.viewer)


async def _report(conn: Any, ctx: PageContext, *, for_update: bool = False) -> tuple[Report, Account]:
    report = await reports.get_report(conn, path_int(ctx, "report_id"), for_update=for_update)
    target = await accounts.get_account(conn, report.target_account_id) if report else None
    if report is None or target is None:
        raise NotFound("There is no such report.")
    return report, target


async def _people(conn: Any, entries: list[audit.Entry], found: list[Report]) -> dict[int, Account]:
    ids = {e.actor_account_id for e in entries if e.actor_account_id} \
        | {r.reporter_account_id for r in found if r.reporter_account_id} \
        | {r.target_account_id for r in found} | {r.resolved_by_account_id for r in found if r.resolved_by_account_id}
    return await accounts.list_accounts_by_ids(conn, [i for i in ids if i is not None])


async def _history(conn: Any, report: Report | None, target: Account) -> list[audit.Entry]:
    """What was decided about the report and the account, newest first."""
    entries = await audit.list_entries(conn, subject_type="account", subject_id=target.id, limit=100)
    if report is not None:
        entries += await audit.list_entries(conn, subject_type="report", subject_id=report.id, limit=100)
    return sorted({e.id: e for e in entries}.values(), key=lambda e: e.id, reverse=True)


@page(signed_in=True)
async def queue(ctx: PageContext) -> Response:
    _moderator(ctx)
    shown = ctx.request.query_params.get("state", "open")
    shown = shown if shown in FILTERS else "open"
    raw = ctx.request.query_params.get("max_id", "")
    before = int(raw) if raw.isdigit() and len(raw) < 20 else None
    async with connection(ctx.deps.pool) as conn:
        # Newest first; the open ones are the default view, so "all" needs no reordering that paging would break.
        found = await reports.list_reports(conn, state=None if shown == "all" else shown, before_id=before, limit=50)
        people = await _people(conn, [], found)
        open_count = await reports.count_reports(conn)
    older = f"/admin/reports?state={shown}&max_id={min(r.id for r in found)}" if len(found) >= 50 else None
    return render(ctx, "admin_reports.html", reports=found, people=people, shown=shown, open_count=open_count,
                  older=older, action_names=ACTION_NAMES, category_names=CATEGORY_NAMES)


async def _render_report(ctx: PageContext, *, status: int = 200, error: str | None = None) -> Response:
    _moderator(ctx)
    async with connection(ctx.deps.pool) as conn:
        report, target = await _report(conn, ctx)
        entries = await _history(conn, report, target)
        people = await _people(conn, entries, [report])
        others = [r for r in await reports.list_reports(conn, target_account_id=target.id, limit=20)
                  if r.id != report.id]
        found = await posts.list_posts(conn, [p.post_id for p in report.posts if p.post_id is not None])
        live = {post_id: post for post_id, post in found.items() if post.deleted_at is None}
    notice = ctx.gettext("Done.") if ctx.request.query_params.get("done") else None
    return render(ctx, "admin_report.html", status=status, report=report, target=target, people=people,
                  entries=entries, others=others, live_posts=live, error=error, notice=notice,
                  action_names=ACTION_NAMES, category_names=CATEGORY_NAMES, audit_names=AUDIT_NAMES,
                  max_comment=reports.MAX_COMMENT)


@page(signed_in=True)
async def report_page(ctx: PageContext) -> Response:
    return await _render_report(ctx)


ReportStep = Callable[[Any, PageContext, Account, Report, Account, str], Awaitable[Any]]


async def _resolve(conn: Any, ctx: PageContext, moderator: Account, report: Report, target: Account,
                   text: str) -> None:
    await account_actions.resolve(conn, moderator, report, now=ctx.now)


async def _reopen(conn: Any, ctx: PageContext, moderator: Account, report: Report, target: Account,
                  text: str) -> None:
    await account_actions.reopen(conn, moderator, report, now=ctx.now)


async def _forward(conn: Any, ctx: PageContext, moderator: Account, report: Report, target: Account,
                   text: str) -> None:
    await reports.forward_report(conn, moderator, report, target, comment=text, now=ctx.now)


async def _destroy_records(ctx: PageContext) -> bool:
    """The suspension form's box: the law requires destroying what the account sent (no archive copy). The form
    was read (and its CSRF token checked) by the action; Starlette keeps it."""
    return (await ctx.request.form()).get("destroy_records") == "on"


def _decision(decision: str) -> ReportStep:
    async def step(conn: Any, ctx: PageContext, moderator: Account, report: Report, target: Account,
                   text: str) -> None:
        await account_actions.decide(conn, moderator, target, decision, text=text, report=report, now=ctx.now,
                                     destroy_records=decision == "suspend" and await _destroy_records(ctx))
    return step


REPORT_STEPS: dict[str, ReportStep] = {
    "resolve": _resolve, "reopen": _reopen, "forward": _forward,
    "warn": _decision("warn"), "silence": _decision("silence"), "suspend": _decision("suspend"),
}


Step = Callable[[Any, PageContext, Account, str], Awaitable[Any]]


def _action(name: str, step: Step, again: Callable[..., Awaitable[Response]],
            path: str) -> Callable[[Request], Awaitable[Response]]:
    """One POST of the moderators' pages: CSRF, moderator check, the step in one transaction; a refusal shows
    the page again with the reason, success goes back to it (`path` names the page, with its path parameter)."""
    @page(signed_in=True)
    async def handler(ctx: PageContext) -> Response:
        form = await read_form(ctx)
        moderator = _moderator(ctx)
        try:
            async with transaction(ctx.deps.pool) as conn:
                await step(conn, ctx, moderator, str(form.get("text", ""))[:20_000])
        except NotFound:
            raise
        except DomainError as error:
            return await again(ctx, status=error.http_status, error=error.translated(ctx.gettext))
        return redirect(ctx, path.format(**{k: path_int(ctx, k) for k in ctx.request.path_params}) + "?done=1")
    handler.__name__ = name
    return handler


def _report_step(name: str) -> Step:
    async def step(conn: Any, ctx: PageContext, moderator: Account, text: str) -> None:
        report, target = await _report(conn, ctx, for_update=True)
        await REPORT_STEPS[name](conn, ctx, moderator, report, target, text)
    return step


def _account_step(decision: str) -> Step:
    async def step(conn: Any, ctx: PageContext, moderator: Account, text: str) -> None:
        target = await accounts.get_account(conn, path_int(ctx, "account_id"))
        if target is None:
            raise NotFound("There is no account with that name here.")
        await account_actions.decide(conn, moderator, target, decision, text=text, now=ctx.now,
                                     destroy_records=decision == "suspend" and await _destroy_records(ctx))
    return step


async def _render_account(ctx: PageContext, *, status: int = 200, error: str | None = None) -> Response:
    _moderator(ctx)
    async with connection(ctx.deps.pool) as conn:
        target = await accounts.get_account(conn, path_int(ctx, "account_id"))
        if target is None:
            raise NotFound("There is no account with that name here.")
        entries = await _history(conn, None, target)
        about = await reports.list_reports(conn, target_account_id=target.id, limit=50)
        people = await _people(conn, entries, about)
    notice = ctx.gettext("Done.") if ctx.request.query_params.get("done") else None
    return render(ctx, "admin_account.html", status=status, target=target, entries=entries, reports=about,
                  people=people, error=error, notice=notice, category_names=CATEGORY_NAMES,
                  audit_names=AUDIT_NAMES)


@page(signed_in=True)
async def account_page(ctx: PageContext) -> Response:
    return await _render_account(ctx)


ROUTES = [
    Route("/admin/reports", queue, methods=["GET"]),
    Route("/admin/reports/{report_id}", report_page, methods=["GET"]),
    *[Route(f"/admin/reports/{{report_id}}/{name}", _action(f"report_{name}", _report_step(name), _render_report,
                                                            "/admin/reports/{report_id}"), methods=["POST"])
      for name in REPORT_STEPS],
    Route("/admin/accounts/{account_id}", account_page, methods=["GET"]),
    *[Route(f"/admin/accounts/{{account_id}}/{decision}",
            _action(f"account_{decision}", _account_step(decision), _render_account, "/admin/accounts/{account_id}"),
            methods=["POST"]) for decision in account_actions.DECISIONS],
]
