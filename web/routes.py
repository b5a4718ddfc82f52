"""The page URL table: every area's routes and the static files.

Owns: the order of routes. Never: logic.
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from web.pages import (admin, audit, auth, badges, domains, moderation, notifications, oauth, policy, post_removal,
                       posts, profiles, reports, review, security_settings, timelines, two_factor, user_controls)
from web.pages import org_profile, organisations_admin, remote_interaction, site, statement
from web.pages import scheduled
from web.pages import site_texts
from web.pages import quotes
from web.pages import polls
from web.pages import webcare, webcare_reports, webcare_settings
from web.pages import archive, woo
from web.pages import handle_domains
from web.negotiation import negotiated


def routes() -> list[BaseRoute]:
    return negotiated([
        Mount("/static", app=StaticFiles(packages=[("web", "static")]), name="static"),
        *site.ROUTES,
        *statement.ROUTES,
        *site_texts.ROUTES,
        *auth.ROUTES,
        *two_factor.ROUTES,
        *security_settings.ROUTES,
        *review.ROUTES,
        *audit.ROUTES,
        *policy.ROUTES,
        *org_profile.ROUTES,
        *oauth.ROUTES,
        *timelines.ROUTES,
        *user_controls.ROUTES,  # before posts: /@{username}/block is not a post id
        *quotes.ROUTES,
        *polls.ROUTES,
        *posts.ROUTES,
        *profiles.ROUTES,
        *webcare_settings.ROUTES,
        *webcare_reports.ROUTES,
        *webcare.ROUTES,
        *archive.ROUTES,
        *woo.ROUTES,
        *handle_domains.ROUTES,
        *organisations_admin.ROUTES,  # before admin: /admin/organisations/new is not a slug
        *badges.ROUTES,
        *admin.ROUTES,
        *moderation.ROUTES,
        *post_removal.ROUTES,
        *notifications.ROUTES,
        *scheduled.ROUTES,
        *reports.ROUTES,
        *domains.ROUTES,
        *remote_interaction.ROUTES,
    ])
