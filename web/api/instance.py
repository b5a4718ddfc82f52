"""What this server is: /api/v1/instance and /api/v2/instance, in the shapes Mastodon apps parse, and the servers
it limits (/api/v1/instance/domain_blocks).

Owns: the instance entities and the version string apps read. Never: SQL beyond counting (moderation/domain_blocks.py
decides what the public list holds).
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from moderation import domain_blocks
from server import SOFTWARE_NAME, __version__
from server import accounts, languages
from server import pins, site_texts, tags
from web.api.entities import media_limits, poll_limits, render_account
from web.api.http import ApiCall, api, json_response
from web.api.entities import iso
from web.api.http import ApiError
from server.config import Settings
from server.db.pool import connection

# Apps read the leading Mastodon version to decide which features to use; the part in brackets names us.
MASTODON_COMPATIBLE = "4.3.0"
API_VERSION = 2
VERSION = f"{MASTODON_COMPATIBLE} (compatible; {SOFTWARE_NAME} {__version__})"
DESCRIPTION = ("Officials of government bodies post here in public, each post in official voice (on behalf of "
               "their organisation) or in personal capacity.")


def streaming_url(settings: Settings) -> str:
    """Where apps open the streaming API (web/api/streaming.py): this node itself, at /api/v1/streaming, served by
    every web process; apps add the path, as they do to Mastodon's `wss://host`."""
    return f"{'wss' if settings.scheme == 'https' else 'ws'}://{settings.domain}"


def _configuration(settings: Settings) -> dict[str, Any]:
    return {
        "urls": {"streaming": streaming_url(settings), "status": None},
        "accounts": {"max_featured_tags": tags.MAX_FEATURED, "max_pinned_statuses": pins.MAX_PINS},
        "statuses": {"max_characters": settings.max_post_length, "max_media_attachments": 4,
                     "characters_reserved_per_url": 23},
        "media_attachments": media_limits(),
        "polls": poll_limits(),
        "translation": {"enabled": False},
        # No Web Push (docs/client-api.md): no VAPID key, so apps do not subscribe; /api/v1/push/subscription is 404.
        "vapid": {"public_key": ""},
    }


async def _counts(call: ApiCall) -> dict[str, int]:
    async with connection(call.deps.pool) as conn:
        row = await conn.fetchrow(
            "SELECT (SELECT count(*) FROM accounts WHERE kind = 'person' AND disabled_at IS NULL) AS users, "
            "(SELECT count(*) FROM posts WHERE deleted_at IS NULL AND reblog_of_id IS NULL) AS statuses")
    return {"users": int(row["users"]), "statuses": int(row["statuses"])}


async def _contact(call: ApiCall) -> dict[str, Any] | None:
    """The instance's contact: its first admin, as Mastodon shows the site contact's account."""
    async with connection(call.deps.pool) as conn:
        admin = await accounts.get_first_admin(conn)
        return await render_account(conn, call.deps.settings, admin) if admin else None


@api(auth="optional", rate_limited=False)
async def instance_v1(call: ApiCall) -> Response:
    settings = call.deps.settings
    counts = await _counts(call)
    config = _configuration(settings)
    return json_response({
        "uri": settings.domain, "title": f"Ambtenaar Online — {settings.domain}",
        "short_description": DESCRIPTION, "description": DESCRIPTION, "email": "", "version": VERSION,
        "urls": {"streaming_api": streaming_url(settings)},
        "stats": {"user_count": counts["users"], "status_count": counts["statuses"], "domain_count": 0},
        "thumbnail": f"{settings.base_url}/static/header.png", "languages": ["nl", "en"],
        "registrations": False, "approval_required": False, "invites_enabled": True,
        "configuration": {k: config[k] for k in ("accounts", "statuses", "media_attachments", "polls")},
        "contact_account": await _contact(call), "rules": [],
    })


@api(auth="optional", rate_limited=False)
async def instance_v2(call: ApiCall) -> Response:
    settings = call.deps.settings
    counts = await _counts(call)
    configuration = _configuration(settings)
    async with connection(call.deps.pool) as conn:
        terms = await site_texts.get_text(conn, "terms_of_service")
    configuration["urls"] |= {"about": f"{settings.base_url}/about", "privacy_policy": f"{settings.base_url}/privacy",
                              "terms_of_service": f"{settings.base_url}/voorwaarden" if terms else None}
    return json_response({
        "domain": settings.domain, "title": f"Ambtenaar Online — {settings.domain}", "version": VERSION,
        "source_url": f"{settings.base_url}/about", "description": DESCRIPTION,
        "usage": {"users": {"active_month": counts["users"]}},
        "thumbnail": {"url": f"{settings.base_url}/static/header.png"}, "icon": [],
        "languages": ["nl", "en"], "configuration": configuration,
        "registrations": {"enabled": False, "approval_required": False,
                          "message": "Accounts are made by invitation from an organisation.", "url": None},
        "api_versions": {"mastodon": API_VERSION},
        "contact": {"email": "", "account": await _contact(call)}, "rules": [],
    })


@api(auth="optional", rate_limited=False)
async def extended_description(call: ApiCall) -> Response:
    return json_response({"updated_at": None, "content": f"<p>{DESCRIPTION}</p>"})


async def _site_text(call: ApiCall, kind: str) -> site_texts.SiteText:
    async with connection(call.deps.pool) as conn:
        found = await site_texts.get_text(conn, kind)
    if found is None:
        name = "privacy policy" if kind == "privacy_policy" else "terms of service"
        raise ApiError(404, f"Record not found: this server's admins have not written its {name} yet")
    return found


@api(auth="optional", rate_limited=False)
async def privacy_policy(call: ApiCall) -> Response:
    """Mastodon's GET /api/v1/instance/privacy_policy: the text an instance admin wrote on /admin/texts."""
    text = await _site_text(call, "privacy_policy")
    return json_response({"updated_at": iso(text.updated_at), "content": text.html})


@api(auth="optional", rate_limited=False)
async def terms_of_service(call: ApiCall) -> Response:
    """Mastodon 4.4's GET /api/v1/instance/terms_of_service: one version, in force since it was saved (we keep no
    dated versions, so `succeeded_by` is null and `date` is not taken); `updated_at` as for the privacy policy."""
    text = await _site_text(call, "terms_of_service")
    return json_response({"effective_date": text.updated_at.date().isoformat(), "effective": True,
                          "content": text.html, "succeeded_by": None, "updated_at": iso(text.updated_at)})


@api(auth="none", rate_limited=False)
async def limited_domains(call: ApiCall) -> Response:
    """Mastodon's GET /api/v1/instance/domain_blocks: domain, digest, severity (Mastodon's names: a server whose
    media only is rejected is `noop`, as Mastodon lists it) and comment."""
    async with connection(call.deps.pool) as conn:
        found = domain_blocks.public_list(await domain_blocks.list_policies(conn))
    return json_response([{k: v for k, v in b.items() if k != "label"} for b in found],
                         headers={"Cache-Control": "public, max-age=300"})


@api(auth="optional", rate_limited=False)
async def posting_languages(call: ApiCall) -> Response:
    """Mastodon's GET /api/v1/instance/languages: the languages a post may be given (server/languages.py)."""
    return json_response([{"code": code, "name": name} for code, name in languages.known_languages().items()],
                         headers={"Cache-Control": "public, max-age=86400"})


ROUTES = [
    Route("/api/v1/instance", instance_v1, methods=["GET"]),
    Route("/api/v2/instance", instance_v2, methods=["GET"]),
    Route("/api/v1/instance/extended_description", extended_description, methods=["GET"]),
    Route("/api/v1/instance/domain_blocks", limited_domains, methods=["GET"]),
    Route("/api/v1/instance/languages", posting_languages, methods=["GET"]),
    Route("/api/v1/instance/privacy_policy", privacy_policy, methods=["GET"]),
    Route("/api/v1/instance/terms_of_service", terms_of_service, methods=["GET"]),
]
