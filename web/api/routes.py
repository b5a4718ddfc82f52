"""The client API's URL table.

Owns: which endpoint modules are mounted. Never: logic.
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from web.api import accounts, instance, media, misc, oauth, reports, statuses, streaming, timelines, user_controls
from web.api import scheduled_statuses
from web.api import conversations, filters, lists, notification_requests, notifications_v2
from web.api import endorsements, status_marks, tags
from web.api import polls
from web.api import quotes
from web.api import webcare


def routes() -> list[BaseRoute]:
    # endorsements first: /api/v1/accounts/familiar_followers before accounts' /api/v1/accounts/{id}
    return [*oauth.ROUTES, *instance.ROUTES, *endorsements.ROUTES, *tags.ROUTES, *status_marks.ROUTES,
            *accounts.ROUTES, *statuses.ROUTES,
            # before timelines: its /api/v1/notifications/{id} would take /api/v1/notifications/requests
            *notification_requests.ROUTES, *notifications_v2.ROUTES, *timelines.ROUTES, *media.ROUTES,
            *lists.ROUTES, *filters.ROUTES, *conversations.ROUTES, *misc.ROUTES, *user_controls.ROUTES, *reports.ROUTES, *streaming.ROUTES,
            *scheduled_statuses.ROUTES, *polls.ROUTES, *quotes.ROUTES, *webcare.ROUTES]
