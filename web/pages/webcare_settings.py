"""The webcare settings page: opening hours, holidays, the promised response time and time zone; saved replies;
webhooks with their latest deliveries; and the organisation account's tokens for webcare tools.

Owns: /orgs/{slug}/webcare/settings and its forms. Who may change what: anyone on the webcare team changes saved
replies and tokens for webcare tools; opening hours, promise and webhooks are for the organisation's admins and
instance admins (`Account.administers`), shown read-only to the rest of the team.
Never: SQL or validation of the values (server/webcare_settings.py, server/webcare_hooks.py).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import date, time
from decimal import Decimal, InvalidOperation
from typing import Any

import asyncpg
from starlette.datastructures import FormData
from starlette.responses import Response
from starlette.routing import Route

from server import organisations, webcare_hooks, webcare_settings, webcare_tokens
from server.db.pool import connection, transaction
from server.errors import DomainError, Forbidden, Invalid
from server.webcare_clock import WEEKDAYS
from web.context import PageContext, read_form, redirect, render
from web.handlers import page, path_int
from web.pages.webcare import team_organisation

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
NOTICES = {"hours": "The opening hours have been saved.", "reply": "The saved reply has been added.",
           "reply_removed": "The saved reply has been removed.", "hook_removed": "The webhook has been removed.",
           "token_revoked": "The token has been revoked."}
TOKEN_SCOPES = "read write"


def _require_admin(ctx: PageContext, org: organisations.Organisation) -> None:
    assert ctx.viewer is not None
    if not ctx.viewer.administers(org.id):
        raise Forbidden("Only the organisation's admins and instance admins may change this.")


def _hours_values(hours: Any) -> dict[str, Any]:
    """The form's values from the stored settings."""
    days = {}
    for number in range(1, 8):
        span = hours.days.get(number)
        days[number] = {"open": span[0].strftime("%H:%M") if span else "",
                        "close": span[1].strftime("%H:%M") if span else "", "closed": span is None}
    minutes = int(hours.promise.total_seconds() // 60)
    return {"days": days, "holidays": "\n".join(d.isoformat() for d in sorted(hours.holidays)),
            "promise_hours": str(minutes // 60), "promise_minutes": str(minutes % 60), "time_zone": hours.time_zone}


async def _tokens(ctx: PageContext, org: organisations.Organisation) -> list[webcare_tokens.OrganisationToken]:
    """The organisation account's active tokens, for the whole team: the issue asks that a webcare member can make
    one for a tool (server/webcare_tokens.py's rule), so each of them sees, makes and revokes them, audited."""
    assert ctx.viewer is not None
    async with connection(ctx.deps.pool) as conn:
        return await webcare_tokens.list_organisation_tokens(conn, ctx.viewer, org.id)


async def show_settings(ctx: PageContext, org: organisations.Organisation, *, status: int = 200,
                        error: str | None = None, hours_values: dict[str, Any] | None = None,
                        reply_values: dict[str, str] | None = None, new_secret: tuple[str, str] | None = None,
                        new_token: str | None = None) -> Response:
    assert ctx.viewer is not None
    async with connection(ctx.deps.pool) as conn:
        hours = await webcare_settings.get_hours(conn, org.id)
        replies = await webcare_settings.list_saved_replies(conn, org.id)
        hooks = await webcare_hooks.list_webhooks(conn, org.id)
        deliveries = await webcare_hooks.list_deliveries(conn, org.id, limit=20)
    notice = NOTICES.get(ctx.request.query_params.get("done", ""))
    return render(ctx, "webcare/settings.html", status=status, organisation=org, error=error,
                  may_administer=ctx.viewer.administers(org.id), hours=hours_values or _hours_values(hours),
                  day_names=DAY_NAMES, weekdays=WEEKDAYS, replies=replies, reply=reply_values or {},
                  hooks=hooks, deliveries=deliveries, new_secret=new_secret, tokens=await _tokens(ctx, org),
                  new_token=new_token, notice=ctx.gettext(notice) if notice else None)


@page(signed_in=True)
async def settings_page(ctx: PageContext) -> Response:
    return await show_settings(ctx, await team_organisation(ctx))


def _promise_minutes(hours_text: str, minutes_text: str) -> int:
    """Hours with a decimal point or comma (1,5 is an hour and a half) plus whole minutes."""
    try:
        hours = Decimal((hours_text.strip() or "0").replace(",", "."))
        minutes = int(minutes_text.strip() or "0")
    except (InvalidOperation, ValueError):
        raise Invalid("Write the promised response time as a number of hours and minutes.") from None
    if not hours.is_finite() or hours < 0 or minutes < 0 or hours > 100_000:
        raise Invalid("Write the promised response time as a number of hours and minutes.")
    return int(hours * 60) + minutes


def _holidays(text: str) -> list[date]:
    return sorted({webcare_settings.parse_holiday(line) for line in re.split(r"[\s,]+", text) if line.strip()})


@page(signed_in=True)
async def save_hours(ctx: PageContext) -> Response:
    """Opening hours per weekday, holidays, the promise and the time zone, saved together or not at all."""
    assert ctx.viewer is not None
    form = await read_form(ctx)
    org = await team_organisation(ctx)
    _require_admin(ctx, org)
    values: dict[str, Any] = {
        "days": {n: {"open": str(form.get(f"open_{n}", ""))[:5], "close": str(form.get(f"close_{n}", ""))[:5],
                     "closed": form.get(f"closed_{n}") == "yes"} for n in range(1, 8)},
        "holidays": str(form.get("holidays", ""))[:6000], "promise_hours": str(form.get("promise_hours", ""))[:12],
        "promise_minutes": str(form.get("promise_minutes", ""))[:6], "time_zone": str(form.get("time_zone", ""))[:60]}
    try:
        async with transaction(ctx.deps.pool) as conn:
            current = await webcare_settings.get_hours(conn, org.id)
            for number, day in values["days"].items():
                span: tuple[time, time] | None = None
                if not day["closed"] and (day["open"] or day["close"]):
                    if not day["open"] or not day["close"]:
                        raise Invalid("Give both the opening and the closing time, or close the day.")
                    span = (webcare_settings.parse_time(day["open"]), webcare_settings.parse_time(day["close"]))
                if span != current.days.get(number):
                    await webcare_settings.set_day(conn, org.id, number, *(span or (None, None)),
                                                   actor_id=ctx.viewer.id, now=ctx.now)
            holidays = _holidays(values["holidays"])
            if set(holidays) != set(current.holidays):
                await webcare_settings.set_holidays(conn, org.id, holidays, actor_id=ctx.viewer.id, now=ctx.now)
            minutes = _promise_minutes(values["promise_hours"], values["promise_minutes"])
            if minutes != int(current.promise.total_seconds() // 60):
                await webcare_settings.set_promise(conn, org.id, minutes, actor_id=ctx.viewer.id, now=ctx.now)
            if values["time_zone"].strip() != current.time_zone:
                await webcare_settings.set_time_zone(conn, org.id, values["time_zone"], actor_id=ctx.viewer.id,
                                                     now=ctx.now)
    except DomainError as error:
        return await show_settings(ctx, org, status=error.http_status, error=error.translated(ctx.gettext),
                                   hours_values=values)
    return redirect(ctx, f"/orgs/{org.slug}/webcare/settings?done=hours#hours-heading")


@page(signed_in=True)
async def add_reply(ctx: PageContext) -> Response:
    assert ctx.viewer is not None
    form = await read_form(ctx)
    org = await team_organisation(ctx)
    values = {name: str(form.get(name, ""))[:6000] for name in ("title", "body_nl", "body_en")}
    try:
        async with transaction(ctx.deps.pool) as conn:
            await webcare_settings.add_saved_reply(conn, org.id, title=values["title"], body_nl=values["body_nl"],
                                                   body_en=values["body_en"], actor_id=ctx.viewer.id, now=ctx.now)
    except DomainError as error:
        return await show_settings(ctx, org, status=error.http_status, error=error.translated(ctx.gettext),
                                   reply_values=values)
    return redirect(ctx, f"/orgs/{org.slug}/webcare/settings?done=reply#replies-heading")


# A removal: (connection, page, organisation, id from the address) -> None; the caller checks the rights first.
Removal = Callable[[asyncpg.Connection, PageContext, organisations.Organisation, int], Awaitable[None]]
# Something made and shown once (a webhook's secret, a token): its values for `show_settings`.
Making = Callable[[asyncpg.Connection, PageContext, organisations.Organisation, FormData], Awaitable[dict[str, Any]]]


def _removal(param: str, done: str, remove: Removal, *, admins_only: bool = True):  # type: ignore[no-untyped-def]
    """A POST that removes one thing of the organisation and goes back to the settings with a notice."""
    @page(signed_in=True)
    async def handler(ctx: PageContext) -> Response:
        await read_form(ctx)
        org = await team_organisation(ctx)
        if admins_only:
            _require_admin(ctx, org)
        async with transaction(ctx.deps.pool) as conn:
            await remove(conn, ctx, org, path_int(ctx, param))
        return redirect(ctx, f"/orgs/{org.slug}/webcare/settings?done={done}")
    handler.__name__ = f"remove_{done}"
    return handler


def _shown_once(make: Making, *, admins_only: bool = True):  # type: ignore[no-untyped-def]
    """A POST that makes a webhook (admins) or a token (the team); its secret is on this one answer and never
    again."""
    @page(signed_in=True)
    async def handler(ctx: PageContext) -> Response:
        form = await read_form(ctx)
        org = await team_organisation(ctx)
        if admins_only:
            _require_admin(ctx, org)
        try:
            async with transaction(ctx.deps.pool) as conn:
                shown = await make(conn, ctx, org, form)
        except DomainError as error:
            return await show_settings(ctx, org, status=error.http_status, error=error.translated(ctx.gettext))
        return await show_settings(ctx, org, **shown)
    handler.__name__ = make.__name__
    return handler


async def _remove_reply(conn: asyncpg.Connection, ctx: PageContext, org: organisations.Organisation,
                        reply_id: int) -> None:
    assert ctx.viewer is not None
    await webcare_settings.remove_saved_reply(conn, org.id, reply_id, actor_id=ctx.viewer.id, now=ctx.now)


async def _remove_hook(conn: asyncpg.Connection, ctx: PageContext, org: organisations.Organisation,
                       hook_id: int) -> None:
    assert ctx.viewer is not None
    await webcare_hooks.remove_webhook(conn, org.id, hook_id, actor_id=ctx.viewer.id, now=ctx.now)


async def _revoke_token(conn: asyncpg.Connection, ctx: PageContext, org: organisations.Organisation,
                        token_id: int) -> None:
    assert ctx.viewer is not None
    await webcare_tokens.revoke_organisation_token(conn, ctx.viewer, org.id, token_id, ctx.now)


async def add_hook(conn: asyncpg.Connection, ctx: PageContext, org: organisations.Organisation,
                   form: FormData) -> dict[str, Any]:
    assert ctx.viewer is not None
    hook, secret = await webcare_hooks.add_webhook(conn, org.id, str(form.get("url", ""))[:2100],
                                                   actor_id=ctx.viewer.id, now=ctx.now)
    return {"new_secret": (hook.url, secret)}


async def create_token(conn: asyncpg.Connection, ctx: PageContext, org: organisations.Organisation,
                       form: FormData) -> dict[str, Any]:
    """A token of the organisation's own account for a webcare tool (server/webcare_tokens.py)."""
    assert ctx.viewer is not None
    token = await webcare_tokens.create_organisation_token(
        conn, ctx.viewer, org.id, scopes=str(form.get("scopes", TOKEN_SCOPES))[:200],
        name=str(form.get("name", ""))[:300], now=ctx.now)
    return {"new_token": token}


ROUTES = [
    Route("/orgs/{slug}/webcare/settings", settings_page, methods=["GET"]),
    Route("/orgs/{slug}/webcare/settings/hours", save_hours, methods=["POST"]),
    Route("/orgs/{slug}/webcare/settings/replies", add_reply, methods=["POST"]),
    Route("/orgs/{slug}/webcare/settings/replies/{reply_id}/remove",
          _removal("reply_id", "reply_removed", _remove_reply, admins_only=False), methods=["POST"]),
    Route("/orgs/{slug}/webcare/settings/hooks", _shown_once(add_hook), methods=["POST"]),
    Route("/orgs/{slug}/webcare/settings/hooks/{hook_id}/remove", _removal("hook_id", "hook_removed", _remove_hook),
          methods=["POST"]),
    Route("/orgs/{slug}/webcare/settings/tokens", _shown_once(create_token, admins_only=False), methods=["POST"]),
    Route("/orgs/{slug}/webcare/settings/tokens/{token_id}/revoke",
          _removal("token_id", "token_revoked", _revoke_token, admins_only=False), methods=["POST"]),
]
