"""Scheduled posts in the client API: `scheduled_at` on POST /api/v1/statuses and /api/v1/scheduled_statuses.

Owns: Mastodon's ScheduledStatus entity and its endpoints (list, show, new time, cancel); reading `scheduled_at`.
Never: SQL or the rules (server/scheduled.py).
"""

from __future__ import annotations

from datetime import datetime, timezone
from functools import partial
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from federation import resolver
from server import media, publishing, scheduled
from server.config import Settings
from server.db.pool import connection, transaction
from server.i18n import translations
from server.publishing import Draft
from server.scheduled import ScheduledStatus
from web.api.entities import attachment_json, iso
from web.api.http import ApiCall, ApiError, api, json_response, link_header

MAX_LIMIT = 40  # Mastodon's largest page of scheduled statuses


def _moment(raw: str) -> datetime:
    """An ISO 8601 date and time; without an offset it is UTC, as Rails reads it."""
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise ApiError(422, "Validation failed: scheduled_at must be an ISO 8601 date and time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def requested_time(call: ApiCall) -> datetime | None:
    """`scheduled_at` of a new post; None when absent or not in the future, since Mastodon then publishes the post
    at once."""
    raw = call.params.str("scheduled_at")
    if not raw:
        return None
    moment = _moment(raw)
    return moment if moment > call.deps.now() else None


def scheduled_json(settings: Settings, item: ScheduledStatus, images: list[media.Attachment]) -> dict[str, Any]:
    """Mastodon's ScheduledStatus: the parameters as given (plus our `voice`), the images in the post's order."""
    p = item.params
    by_id = {a.id: a for a in images}
    return {"id": str(item.id), "scheduled_at": iso(item.scheduled_at),
            "params": {"text": p.get("text"), "poll": p.get("poll"), "media_ids": p.get("media_ids"),
                       "sensitive": p.get("sensitive"), "visibility": p.get("visibility"), "idempotency": None,
                       "scheduled_at": None, "spoiler_text": p.get("spoiler_text"),
                       "application_id": p.get("application_id"), "in_reply_to_id": p.get("in_reply_to_id"),
                       "language": p.get("language"), "with_rate_limit": False, "allowed_mentions": None,
                       "quote_approval_policy": p.get("quote_approval_policy"), "voice": p.get("voice")},
            "media_attachments": [attachment_json(settings, by_id[i]) for i in item.media_ids if i in by_id]}


async def _render(call: ApiCall, items: list[ScheduledStatus]) -> list[dict[str, Any]]:
    async with connection(call.deps.pool) as conn:
        images = await media.list_for_scheduled(conn, [i.id for i in items])
    return [scheduled_json(call.deps.settings, i, images.get(i.id, [])) for i in items]


async def schedule(call: ApiCall, draft: Draft, scheduled_at: datetime, idempotency_key: str) -> Response:
    """POST /api/v1/statuses with a future `scheduled_at`: a ScheduledStatus instead of a Status."""
    author = call.need_account()
    try:
        item = await scheduled.schedule_post(
            call.deps, author, draft, scheduled_at, idempotency_key=idempotency_key,
            sensitive=call.params.bool("sensitive") if "sensitive" in call.params.values else None,
            application_id=call.token.app_id if call.token else None,
            resolve_mentions=partial(resolver.resolve_mentions, call.request.app.state.federation))
    except publishing.PolicyStopped as stopped:  # the same answer as for a post now (docs/client-api.md)
        return json_response({"error": stopped.translated(translations(call.lang).gettext),
                              "policy": stopped.verdict.to_json()}, status=422)
    return json_response((await _render(call, [item]))[0])


@api(scope="read:statuses")
async def index(call: ApiCall) -> Response:
    author = call.need_account()
    page = call.page(default_limit=20, maximum=MAX_LIMIT)
    async with connection(call.deps.pool) as conn:
        items = await scheduled.list_scheduled(conn, author.id, max_id=page.max_id, since_id=page.since_id,
                                               min_id=page.min_id, limit=page.limit)
    return json_response(await _render(call, items), headers=link_header(
        call.request, items[0].id if items else None, items[-1].id if items else None, len(items) == page.limit))


@api(scope="read:statuses")
async def show(call: ApiCall) -> Response:
    author = call.need_account()
    async with connection(call.deps.pool) as conn:
        item = await scheduled.get_scheduled(conn, author.id, call.path_id())
    return json_response((await _render(call, [item]))[0])


@api(scope="write:statuses")
async def update(call: ApiCall) -> Response:
    """Mastodon changes only the time of a scheduled status."""
    author = call.need_account()
    raw = call.params.str("scheduled_at")
    async with transaction(call.deps.pool) as conn:
        item = await scheduled.get_scheduled(conn, author.id, call.path_id())
        if raw:
            item = await scheduled.update_time(conn, author, item.id, _moment(raw), call.deps.now())
    return json_response((await _render(call, [item]))[0])


@api(scope="write:statuses")
async def delete(call: ApiCall) -> Response:
    author = call.need_account()
    async with transaction(call.deps.pool) as conn:
        await scheduled.delete_scheduled(conn, author, call.path_id())
    return json_response({})


ROUTES = [
    Route("/api/v1/scheduled_statuses", index, methods=["GET"]),
    Route("/api/v1/scheduled_statuses/{id}", show, methods=["GET"]),
    Route("/api/v1/scheduled_statuses/{id}", update, methods=["PUT"]),
    Route("/api/v1/scheduled_statuses/{id}", delete, methods=["DELETE"]),
]
