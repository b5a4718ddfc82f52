"""The signed-in person's scheduled posts: the list, a new time, cancelling; and the composer's time field.

Owns: /scheduled and its actions; reading and showing the composer's `datetime-local` value, which is a time in
Europe/Amsterdam (the site's one display zone, web/context.py). Never: SQL or the rules (server/scheduled.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from starlette.responses import Response
from starlette.routing import Route

from federation import resolver
from server import media, scheduled
from server.db.pool import connection, transaction
from server.errors import DomainError, Invalid
from server.publishing import Draft
from web.context import DISPLAY_TIMEZONE, PageContext, read_form, redirect, render
from web.handlers import page, path_int

ZONE = ZoneInfo(DISPLAY_TIMEZONE)
FIELD_FORMAT = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> sends and shows (minutes)


def local_time(raw: str) -> datetime | None:
    """The composer's time field: empty means now; otherwise a date and time in Amsterdam."""
    if not raw.strip():
        return None
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise Invalid("Give the date and time as day, month, year, hours and minutes.") from None
    return moment.replace(tzinfo=ZONE) if moment.tzinfo is None else moment


def field_value(moment: datetime) -> str:
    return moment.astimezone(ZONE).strftime(FIELD_FORMAT)


def earliest(ctx: PageContext) -> str:
    """The `min` of the time fields: the browser's picker offers nothing sooner than the server accepts."""
    return field_value(ctx.now + scheduled.MINIMUM_OFFSET + timedelta(minutes=1))


async def schedule_from_composer(ctx: PageContext, draft: Draft, scheduled_at: datetime) -> Response:
    """The composer with a time filled in: keep the post for then (refusals go back to the composer, as for a
    post now) and show the list of scheduled posts."""
    assert ctx.viewer is not None
    await scheduled.schedule_post(ctx.deps, ctx.viewer, draft, scheduled_at,
                                  resolve_mentions=partial(resolver.resolve_mentions,
                                                           ctx.request.app.state.federation))
    return redirect(ctx, "/scheduled")


async def _list_page(ctx: PageContext, *, status: int = 200, error: str | None = None) -> Response:
    assert ctx.viewer is not None
    async with connection(ctx.deps.pool) as conn:
        items = await scheduled.list_scheduled(conn, ctx.viewer.id, limit=scheduled.TOTAL_LIMIT * 2,
                                               states=(scheduled.PENDING, scheduled.FAILED, scheduled.DEAD))
        images = await media.list_for_scheduled(conn, [i.id for i in items])
    waiting = sorted((i for i in items if i.state == scheduled.PENDING), key=lambda i: i.scheduled_at)
    failed = [i for i in items if i.state != scheduled.PENDING]
    return render(ctx, "scheduled.html", status=status, waiting=waiting, failed=failed, images=images,
                  field_value=field_value, earliest=earliest(ctx), error=error)


@page(signed_in=True)
async def list_page(ctx: PageContext) -> Response:
    return await _list_page(ctx)


@page(signed_in=True)
async def change_time(ctx: PageContext) -> Response:
    assert ctx.viewer is not None
    scheduled_id = path_int(ctx, "scheduled_id")
    form = await read_form(ctx)
    try:
        moment = local_time(str(form.get("scheduled_at", "")))
        if moment is None:
            raise Invalid("Choose the date and time at which the post should be published.")
        async with transaction(ctx.deps.pool) as conn:
            await scheduled.update_time(conn, ctx.viewer, scheduled_id, moment, ctx.now)
    except DomainError as error:
        return await _list_page(ctx, status=error.http_status, error=error.translated(ctx.gettext))
    return redirect(ctx, f"/scheduled#scheduled-{scheduled_id}")


@page(signed_in=True)
async def delete(ctx: PageContext) -> Response:
    assert ctx.viewer is not None
    scheduled_id = path_int(ctx, "scheduled_id")
    await read_form(ctx)
    async with transaction(ctx.deps.pool) as conn:
        await scheduled.delete_scheduled(conn, ctx.viewer, scheduled_id)
    return redirect(ctx, "/scheduled")


ROUTES = [
    Route("/scheduled", list_page, methods=["GET"]),
    Route("/scheduled/{scheduled_id}/time", change_time, methods=["POST"]),
    Route("/scheduled/{scheduled_id}/delete", delete, methods=["POST"]),
]
