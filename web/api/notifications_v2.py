"""Grouped notifications in the client API (Mastodon 4.3's /api/v2/notifications).

Owns: GET /api/v2/notifications, /api/v2/notifications/:group_key, its /accounts and /dismiss, and
/api/v2/notifications/unread_count: the response `{accounts, statuses, notification_groups}` with the NotificationGroup
entity. A group's post passes the visibility rule and the viewer's filters of the `notifications` context (a
group whose post is hidden by one is left out, as its notification is from v1). Our own types keep their
extensions (`ambtenaar_review` on a reviewer's decision, shown as `status`), taken from the group's newest
notification as v1 renders it. Never: SQL, or grouping (server/notification_groups.py).
"""

from __future__ import annotations

from typing import Any

import asyncpg
from starlette.responses import Response
from starlette.routing import Route

from server import accounts, markers, notification_groups, notifications
from server.db.pool import connection, transaction
from server.notification_groups import Group
from server.notifications import TYPES
from web.api.entities import iso, render_accounts, render_notifications_and_accounts
from web.api.filtering import filter_notifications
from web.api.http import ApiCall, api, json_response, link_header, not_found

READ, WRITE = "read:notifications", "write:notifications"
PARTIAL_ACCOUNT = ("id", "acct", "url", "avatar", "avatar_static", "locked", "bot")  # PartialAccountWithAvatar


def _types(call: ApiCall, name: str) -> list[str]:
    return notifications.stored_types([str(t) for t in call.params.list(name) if str(t) in TYPES])


def _grouped_types(call: ApiCall) -> list[str]:
    """The types the app shows grouped (Mastodon: favourite, follow and reblog unless it names fewer)."""
    given = [str(t) for t in call.params.list("grouped_types")]
    return [t for t in notification_groups.GROUPABLE if t in given] if given else list(notification_groups.GROUPABLE)


async def render_groups(conn: asyncpg.Connection, call: ApiCall, groups: list[Group], viewer_id: int,
                        paginated: bool) -> dict[str, Any]:
    # The sample accounts are rendered with the notifications' own: one set of queries for any number of groups.
    entries, people = await render_notifications_and_accounts(
        conn, call.deps.settings, [g.latest for g in groups], viewer_id,
        [a for g in groups for a in g.sample_account_ids])
    entries = await filter_notifications(conn, viewer_id, entries, call.deps.now())
    by_id = {int(e["id"]): e for e in entries}
    shown = [g for g in groups if g.latest.id in by_id]
    wanted = list(dict.fromkeys(a for g in shown for a in g.sample_account_ids))
    statuses: dict[str, Any] = {}
    result = []
    for g in shown:
        entry = by_id[g.latest.id]
        group: dict[str, Any] = {"group_key": g.group_key, "notifications_count": g.notifications_count,
                                 "type": entry["type"], "most_recent_notification_id": str(g.page_max_id)}
        if paginated:
            group.update({"page_min_id": str(g.page_min_id), "page_max_id": str(g.page_max_id),
                          "latest_page_notification_at": iso(g.latest_page_notification_at)})
        group["sample_account_ids"] = [str(a) for a in g.sample_account_ids if a in people]
        if entry.get("status"):
            group["status_id"] = entry["status"]["id"]
            statuses[entry["status"]["id"]] = entry["status"]
        group.update({k: v for k, v in entry.items() if k.startswith("ambtenaar_")})
        result.append(group)
    body: dict[str, Any] = {"accounts": [people[a] for a in wanted if a in people],
                            "statuses": list(statuses.values()), "notification_groups": result}
    if call.params.str("expand_accounts") == "partial_avatars":
        # Mastodon's smaller answer for apps that show a row of avatars: each group's newest account in full,
        # the other sample accounts as PartialAccountWithAvatar.
        full = list(dict.fromkeys(g.sample_account_ids[0] for g in shown if g.sample_account_ids))
        body["accounts"] = [people[a] for a in full if a in people]
        body["partial_accounts"] = [{key: people[a][key] for key in PARTIAL_ACCOUNT}
                                    for a in wanted if a in people and a not in full]
    return body


@api(scope=READ)
async def index(call: ApiCall) -> Response:
    viewer = call.need_account()
    page = call.page(default_limit=40, maximum=80)
    types = _types(call, "types")
    if call.params.list("types") and not types:
        return json_response({"accounts": [], "statuses": [], "notification_groups": []})
    async with connection(call.deps.pool) as conn:
        groups = await notification_groups.list_groups(
            conn, viewer.id, max_id=page.max_id, since_id=page.since_id, min_id=page.min_id, limit=page.limit,
            grouped_types=_grouped_types(call), types=types, exclude_types=_types(call, "exclude_types"),
            include_filtered=call.params.bool("include_filtered"), from_account_id=call.params.id("account_id"))
        body = await render_groups(conn, call, groups, viewer.id, paginated=True)
    headers = link_header(call.request, max(g.page_max_id for g in groups), min(g.page_min_id for g in groups),
                          len(groups) >= page.limit) if groups else {}
    return json_response(body, headers=headers)


def _group_key(call: ApiCall) -> str:
    key = str(call.request.path_params["group_key"])
    if len(key) > 200:
        raise not_found()
    return key


@api(scope=READ)
async def show(call: ApiCall) -> Response:
    viewer = call.need_account()
    async with connection(call.deps.pool) as conn:
        group = await notification_groups.get_group(conn, viewer.id, _group_key(call))
        body = await render_groups(conn, call, [group], viewer.id, paginated=False) if group else None
    if not body or not body["notification_groups"]:
        raise not_found()
    return json_response(body)


@api(scope=READ)
async def group_accounts(call: ApiCall) -> Response:
    viewer = call.need_account()
    async with connection(call.deps.pool) as conn:
        ids = await notification_groups.list_group_account_ids(conn, viewer.id, _group_key(call))
        if not ids:
            raise not_found()
        people = await accounts.list_accounts_by_ids(conn, ids)
        rendered = await render_accounts(conn, call.deps.settings, [people[i] for i in ids if i in people])
    return json_response(rendered)


@api(scope=WRITE)
async def dismiss(call: ApiCall) -> Response:
    viewer = call.need_account()
    async with transaction(call.deps.pool) as conn:
        await notifications.dismiss_group(conn, viewer.id, _group_key(call), call.deps.now())
    return json_response({})


@api(scope=READ)
async def unread_count(call: ApiCall) -> Response:
    """Unread groups after the notifications marker (Mastodon: `limit` 100 by default, at most 1000)."""
    viewer = call.need_account()
    limit = call.params.int("limit", 100, minimum=1, maximum=1000) or 100
    grouped = bool(_grouped_types(call))
    async with connection(call.deps.pool) as conn:
        found = await markers.list_markers(conn, viewer.id, ["notifications"])
        count = await notifications.count_unread(
            conn, viewer.id, found[0].last_read_id if found else 0, groups=grouped, types=_types(call, "types"),
            exclude_types=_types(call, "exclude_types"), from_account_id=call.params.id("account_id"), limit=limit)
    return json_response({"count": count})


ROUTES = [
    Route("/api/v2/notifications", index, methods=["GET"]),
    Route("/api/v2/notifications/unread_count", unread_count, methods=["GET"]),
    Route("/api/v2/notifications/{group_key}", show, methods=["GET"]),
    Route("/api/v2/notifications/{group_key}/accounts", group_accounts, methods=["GET"]),
    Route("/api/v2/notifications/{group_key}/dismiss", dismiss, methods=["POST"]),
]
