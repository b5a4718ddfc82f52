"""What crawlers and browsers ask of every site: /robots.txt and /favicon.ico.

Owns: the crawl rules (public pages, profiles, posts, organisations and feeds may be indexed; sign-in, settings,
admin, review, the API and OAuth may not) and the icon at the address browsers try without asking the page.
Never: SQL, or anything that differs per visitor.
"""

from __future__ import annotations

from importlib import resources

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from web.context import deps_of

# Pages that are one person's own or staff-only: a crawler has no business there and would only see a sign-in page.
PRIVATE_PREFIXES = ("/admin/", "/api/", "/oauth/", "/settings", "/compose", "/review", "/notifications", "/login",
                    "/logout", "/invite/", "/password/", "/two-factor/", "/lang/", "/media/proxy/", "/search",
                    "/interact", "/authorize_interaction")


def robots_text(base_url: str) -> str:
    lines = ["User-agent: *", *[f"Disallow: {prefix}" for prefix in PRIVATE_PREFIXES], "Allow: /", ""]
    lines.append(f"# Feeds of accounts and organisations: {base_url}/@name/feed.rss, {base_url}/orgs/slug/feed.atom")
    return "\n".join(lines) + "\n"


async def robots(request: Request) -> Response:
    return PlainTextResponse(robots_text(deps_of(request).settings.base_url),
                             headers={"Cache-Control": "public, max-age=3600"})


async def favicon(request: Request) -> Response:
    icon = (resources.files("web") / "static" / "favicon.ico").read_bytes()
    return Response(icon, media_type="image/vnd.microsoft.icon", headers={"Cache-Control": "public, max-age=86400"})


ROUTES = [
    Route("/robots.txt", robots, methods=["GET"]),
    Route("/favicon.ico", favicon, methods=["GET"]),
]
