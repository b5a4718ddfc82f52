"""The client API's URL table.

Owns: which endpoint modules are mounted. Never: logic.
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from web.api import accounts, instance, media, misc, oauth, reports, statuses, streaming, timelines, user_controls


def routes() -> list[BaseRoute]:
    return [*oauth.ROUTES, *instance.ROUTES, *accounts.ROUTES, *statuses.ROUTES, *timelines.ROUTES, *media.ROUTES,
            *misc.ROUTES, *user_controls.ROUTES, *reports.ROUTES, *streaming.ROUTES]
