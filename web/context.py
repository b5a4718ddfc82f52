"""Per-request state of a page: who is signed in, which language, the CSRF token; and rendering.

Owns: the session and CSRF cookies, the Jinja environment and the HTML sanitiser applied at render.
Never: runs SQL itself (server/sessions.py does) or decides what a page shows.

CSRF uses a double-submit token: a random value in an HttpOnly SameSite=Lax cookie that every form repeats in a
hidden field; a POST whose field does not match the cookie is refused. Combined with SameSite cookies and an
Origin check this is the defence OWASP recommends for server-rendered forms.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from babel.dates import format_date, format_datetime, get_timezone
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from moderation import sanitize
from server import limits, media, profiles, sessions
from server.accounts import Account
from server.db.pool import connection
from server.deps import Deps
from server.errors import DomainError, Invalid
from server.i18n import LANGUAGE_NAMES, choose_language, ngettext, translations

SESSION_COOKIE = "ao_session"
CSRF_COOKIE = "ao_csrf"
LANG_COOKIE = "ao_lang"


class CsrfRejected(DomainError):
    """A form came without the token of this browser's session."""

    http_status = 403


def sanitise_html(html: str) -> Markup:
    """Post HTML is escaped when we make it (remote HTML cleaned when it arrived); cleaning it again at render with
    moderation/sanitize.py's policy keeps a stored mistake harmless."""
    return Markup(sanitize.clean_post_html(html))  # safe: an allowlist policy built it


@cache
def environment() -> Environment:
    env = Environment(loader=PackageLoader("web", "templates"), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["post_html"] = sanitise_html
    return env


@dataclass
class PageContext:
    request: Request
    deps: Deps
    viewer: Account | None
    lang: str
    csrf_token: str
    new_csrf: bool
    extra_cookies: dict[str, str] = field(default_factory=dict)

    def gettext(self, message: str, **values: Any) -> str:
        text = translations(self.lang).gettext(message)
        return text % values if values else text

    def ngettext(self, singular: str, plural: str, n: int, **values: Any) -> str:
        """A counted message, `%(n)d` filled in, in the plural form of the visitor's language."""
        return ngettext(self.lang, singular, plural, n, **values)

    @property
    def now(self) -> datetime:
        return self.deps.now()


def deps_of(request: Request) -> Deps:
    deps: Deps = request.app.state.deps
    return deps


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def page_context(request: Request) -> PageContext:
    deps = deps_of(request)
    viewer: Account | None = None
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        async with connection(deps.pool) as conn:
            viewer = await sessions.get_session_account(conn, token, deps.now())
    lang = choose_language(cookie=request.cookies.get(LANG_COOKIE), account_language=viewer.language if viewer else None,
                           accept_language=request.headers.get("accept-language", ""),
                           default=deps.settings.default_language)
    csrf = request.cookies.get(CSRF_COOKIE, "")
    new_csrf = len(csrf) < 32
    if new_csrf:
        csrf = secrets.token_urlsafe(32)
    return PageContext(request=request, deps=deps, viewer=viewer, lang=lang, csrf_token=csrf, new_csrf=new_csrf)


def _origin_ok(request: Request, settings_base_url: str) -> bool:
    """Browsers send Origin on POST; when they do it must be us (behind a proxy, the public URL)."""
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin is None
    own = {f"{request.url.scheme}://{request.url.netloc}", settings_base_url}
    return urlsplit(origin)._replace(path="", query="", fragment="").geturl() in own


async def read_form(ctx: PageContext) -> FormData:
    """The submitted form, after the CSRF check."""
    form = await ctx.request.form(max_files=4, max_fields=50)
    if limits.unstorable(form.multi_items()):  # PostgreSQL cannot store it; refuse before any query sees it
        raise Invalid("The text contains a character that cannot be stored.")
    sent = str(form.get("csrf_token", ""))
    cookie = ctx.request.cookies.get(CSRF_COOKIE, "")
    if not cookie or not sent or not hmac.compare_digest(sent, cookie) \
            or not _origin_ok(ctx.request, ctx.deps.settings.base_url):
        raise CsrfRejected("This form has expired or did not come from this site. Reload the page and try again.")
    return form


def set_cookie(response: Response, ctx: PageContext, name: str, value: str, max_age: int | None) -> None:
    response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="lax",
                        secure=ctx.deps.settings.secure_cookies, path="/")


def finish(response: Response, ctx: PageContext) -> Response:
    if ctx.new_csrf:
        set_cookie(response, ctx, CSRF_COOKIE, ctx.csrf_token, None)
    for name, value in ctx.extra_cookies.items():
        if value:
            set_cookie(response, ctx, name, value, 60 * 60 * 24 * 365)
        else:
            response.delete_cookie(name, path="/")
    response.headers["Cache-Control"] = "no-store" if ctx.viewer else "no-cache"
    return response


VISIBILITY_NAMES = {"public": "Public", "unlisted": "Unlisted (not in public timelines)",
                    "private": "Followers only", "direct": "Mentioned people only"}
KIND_NAMES = {"gemeente": "Municipality", "provincie": "Province", "ministerie": "Ministry",
              "waterschap": "Water authority", "uitvoeringsorganisatie": "Executive agency", "other": "Organisation"}
DISPLAY_TIMEZONE = "Europe/Amsterdam"


def account_path(account: Account) -> str:
    """Our page about an account: its profile here, or for a remote account what we know of it."""
    return f"/@{account.username}" if account.is_local else f"/accounts/{account.id}"


def post_path(view: Any) -> str:
    post, author = view.post, view.author
    return f"/@{author.username}/{post.id}" if author.is_local else f"/posts/{post.id}"


def render(ctx: PageContext, template: str, status: int = 200, **values: Any) -> Response:
    def when(moment: datetime) -> str:
        return format_datetime(moment, "medium", tzinfo=get_timezone(DISPLAY_TIMEZONE), locale=ctx.lang)

    def day(value: date) -> str:
        return format_date(value, "long", locale=ctx.lang)

    html = environment().get_template(template).render(
        _=ctx.gettext, _n=ctx.ngettext, lang=ctx.lang, viewer=ctx.viewer, csrf_token=ctx.csrf_token, settings=ctx.deps.settings,
        request=ctx.request, languages=LANGUAGE_NAMES, path=ctx.request.url.path, when=when, day=day,
        visibility_name=lambda v: ctx.gettext(VISIBILITY_NAMES.get(v, v)),
        kind_name=lambda k: ctx.gettext(KIND_NAMES.get(k, k)), account_path=account_path, post_path=post_path,
        media_url=lambda a, preview=False: media.public_url(ctx.deps.settings, a, preview=preview),
        profile_image_url=lambda profile, kind: profiles.image_url(ctx.deps.settings, profile, kind),
        **{"now": ctx.now, **values})
    return finish(HTMLResponse(html, status_code=status), ctx)


def redirect(ctx: PageContext, url: str) -> Response:
    return finish(RedirectResponse(url, status_code=303), ctx)


def safe_next(url: str | None, fallback: str = "/") -> str:
    """Only paths on this site, so that a `next` link cannot send people elsewhere."""
    if not url or not url.startswith("/") or url.startswith("//") or "\\" in url:
        return fallback
    return url


def error_page(ctx: PageContext, error: DomainError) -> Response:
    return render(ctx, "error.html", status=error.http_status, message=error.translated(ctx.gettext))
