"""The signed-in person's notifications, with a way to report what notified them; and moderators' notes to them.

Owns: /notifications. Never: SQL (server/notifications.py and moderation/reports.py own the tables).
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.responses import Response
from starlette.routing import Route

from moderation import reports
from server import accounts, handle_domains, notifications, organisations, timelines
from server.accounts import Account
from server.db.pool import connection
from server.notifications import Notification
from server.timelines import PostView
from web.context import PageContext, render
from web.handlers import page

PAGE_SIZE = 30
# What happened, with the name of who did it.
TEXT = {
    "mention": "%(name)s mentioned you",
    "status": "%(name)s posted",
    "reblog": "%(name)s boosted your post",
    "follow": "%(name)s followed you",
    "follow_request": "%(name)s asked to follow you",
    "favourite": "%(name)s liked your post",
    "update": "%(name)s edited a post you boosted",
    "quote": "%(name)s quoted your post",
    "poll": "A poll by %(name)s has ended",
    "review_approved": "%(name)s approved your post: it is published now",
    "review_rejected": "%(name)s did not approve your post",
    "review_changes_requested": "%(name)s asks you to change your post before it can be published",
    "scheduled_held": "Your scheduled post waits for a reviewer of your organisation",
    "scheduled_failed": "Your scheduled post was not published",
}
WARNING_TEXT = {
    "warn": "The moderators sent you a warning",
    "silence": "The moderators limited your account: your posts reach only your followers",
    "unsilence": "The moderators lifted the limit on your account",
    "suspend": "The moderators suspended your account",
    "unsuspend": "The moderators lifted the suspension of your account",
    "delete_statuses": "The moderators removed one of your posts",
}


@dataclass(frozen=True)
class Item:
    notification: Notification
    account: Account
    view: PostView | None

    @property
    def is_review(self) -> bool:
        """A reviewer's decision on one's own post: a colleague's step, not something to report."""
        return self.notification.type in notifications.REVIEW_TYPES

    @property
    def reportable_post_id(self) -> int | None:
        """The post to attach to a report: only one the notifying account wrote (not our own liked post)."""
        if self.view is None or self.view.post.account_id != self.account.id or self.is_review:
            return None
        return self.view.post.id


@page(signed_in=True)
async def notifications_page(ctx: PageContext) -> Response:
    assert ctx.viewer is not None
    raw = ctx.request.query_params.get("max_id", "")
    max_id = int(raw) if raw.isdigit() and len(raw) < 20 else None
    async with connection(ctx.deps.pool) as conn:
        found = await notifications.list_notifications(conn, ctx.viewer.id, max_id=max_id, since_id=None,
                                                       min_id=None, limit=PAGE_SIZE)
        people = await accounts.list_accounts_by_ids(conn, list({n.from_account_id for n in found}))
        post_ids = list(dict.fromkeys(n.post_id for n in found if n.post_id))
        views = {v.post.id: v for v in await timelines.hydrate(conn, post_ids, ctx.viewer.id)}
        warnings = await reports.list_warnings(conn, ctx.viewer.id, limit=10) if max_id is None else []
        open_reports = await reports.count_reports(conn) if reports.is_moderator(ctx.viewer) else None
        # An organisation admin is warned here when the organisation's handle domain failed its daily check.
        handle_domain = await handle_domains.get_handle_domain(conn, ctx.viewer.organisation_id) \
            if ctx.viewer.organisation_id and ctx.viewer.administers(ctx.viewer.organisation_id) else None
        organisation = await organisations.get_organisation(conn, ctx.viewer.organisation_id) \
            if handle_domain is not None and handle_domain.state == "failing" else None
    items = []
    for n in found:
        who = people.get(n.from_account_id)
        # Someone the moderators suspended is gone from view here too.
        if who is None or who.is_suspended or (n.post_id and n.post_id not in views):
            continue
        items.append(Item(n, who, views.get(n.post_id) if n.post_id else None))
    older = f"/notifications?max_id={found[-1].id}" if len(found) >= PAGE_SIZE else None
    return render(ctx, "notifications.html", items=items, texts=TEXT, warnings=warnings,
                  warning_texts=WARNING_TEXT, open_reports=open_reports, older=older,
                  failing_domain=(organisation, handle_domain.domain) if organisation and handle_domain else None)


ROUTES = [Route("/notifications", notifications_page, methods=["GET"])]
