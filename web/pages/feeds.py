"""RSS 2.0 and Atom feeds of an account and of an organisation, for comms teams and feed readers.

Owns: /@{username}/feed.rss|atom (public posts), /@{username}/official.rss|atom (official voice only),
/orgs/{slug}/feed.rss|atom (the organisation's official posts), /orgs/{slug}/all.rss|atom (public posts of its
account and members), the XML of both formats (xml.etree, which escapes text and attributes), and `feed_links`,
the <link rel="alternate"> entries the pages announce in their head.
Never: SQL (the posts come from server/timelines.py, which applies the visibility rule) or a signed-in view: a
feed is read as nobody, and of what nobody may see it keeps only public, published, original posts.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from datetime import datetime
from email.utils import format_datetime
from xml.etree import ElementTree as ET

from starlette.responses import Response
from starlette.routing import Route

from moderation import sanitize
from server import accounts, organisations, timelines
from server.db.pool import connection
from server.errors import NotFound
from server.timelines import Page, PostView
from web.context import PageContext, post_path
from web.handlers import page

FEED_SIZE = 20
ATOM_NS = "http://www.w3.org/2005/Atom"
MEDIA_TYPES = {"rss": "application/rss+xml", "atom": "application/atom+xml"}
_TAG = re.compile(r"<[^>]+>")


def feed_links(ctx: PageContext, *, username: str | None = None, slug: str | None = None,
               name: str = "") -> list[dict[str, str]]:
    """What a page announces in its head: RSS and Atom of the account's or the organisation's posts."""
    found: list[dict[str, str]] = []
    if username is not None:
        found += _links(ctx, f"/@{username}/feed", ctx.gettext("Posts of %(name)s", name=name or username))
        found += _links(ctx, f"/@{username}/official", ctx.gettext("Official posts of %(name)s",
                                                                    name=name or username))
    if slug is not None:
        found += _links(ctx, f"/orgs/{slug}/feed", ctx.gettext("Official posts of %(name)s",
                                                               name=name or slug))
        found += _links(ctx, f"/orgs/{slug}/all", ctx.gettext("All public posts of %(name)s",
                                                              name=name or slug))
    return found


def _links(ctx: PageContext, stem: str, title: str) -> list[dict[str, str]]:
    return [{"type": MEDIA_TYPES[fmt], "title": f"{title} ({fmt.upper()})", "href": f"{stem}.{fmt}"}
            for fmt in ("rss", "atom")]


def _public(views: Sequence[PostView]) -> list[PostView]:
    """Nobody may see public and unlisted posts; a feed is a public listing, so only public, original posts."""
    return [v for v in views if v.post.visibility == "public" and v.reblog is None
            and v.post.state == "published" and v.post.deleted_at is None]


def _plain(view: PostView) -> str:
    text = view.post.source_text or html.unescape(_TAG.sub(" ", view.post.content_html))
    return " ".join(text.split())


def _title(view: PostView) -> str:
    text = view.post.spoiler_text or _plain(view) or "…"
    return text if len(text) <= 80 else text[:79].rstrip() + "…"


def _updated(views: Sequence[PostView], fallback: datetime) -> datetime:
    return max((v.post.edited_at or v.post.created_at for v in views), default=fallback)


def rss_xml(*, title: str, link: str, self_url: str, description: str, language: str, base_url: str,
            views: Sequence[PostView], now: datetime) -> bytes:
    ET.register_namespace("atom", ATOM_NS)
    rss = ET.Element("rss", {"version": "2.0"})
    channel = ET.SubElement(rss, "channel")
    for name, value in (("title", title), ("link", link), ("description", description), ("language", language),
                        ("lastBuildDate", format_datetime(_updated(views, now))), ("generator", "Ambtenaar Online")):
        ET.SubElement(channel, name).text = value
    ET.SubElement(channel, f"{{{ATOM_NS}}}link", {"href": self_url, "rel": "self", "type": MEDIA_TYPES["rss"]})
    for view in views:
        url = base_url + post_path(view)
        item = ET.SubElement(channel, "item")
        ET.SubElement(item, "title").text = _title(view)
        ET.SubElement(item, "link").text = url
        ET.SubElement(item, "guid", {"isPermaLink": "true"}).text = url
        ET.SubElement(item, "pubDate").text = format_datetime(view.post.created_at)
        ET.SubElement(item, "description").text = sanitize.clean_post_html(view.post.content_html)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(rss, encoding="utf-8", xml_declaration=False)


def atom_xml(*, title: str, link: str, self_url: str, subtitle: str, language: str, base_url: str,
             author: str, views: Sequence[PostView], now: datetime) -> bytes:
    ET.register_namespace("", ATOM_NS)

    def sub(parent: ET.Element, name: str, text: str | None = None, **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM_NS}}}{name}", attrs)
        element.text = text
        return element

    feed = ET.Element(f"{{{ATOM_NS}}}feed", {"{http://www.w3.org/XML/1998/namespace}lang": language})
    sub(feed, "id", self_url)
    sub(feed, "title", title)
    sub(feed, "subtitle", subtitle)
    sub(feed, "updated", _updated(views, now).isoformat())
    sub(feed, "link", href=link, rel="alternate", type="text/html")
    sub(feed, "link", href=self_url, rel="self", type=MEDIA_TYPES["atom"])
    sub(sub(feed, "author"), "name", author)
    sub(feed, "generator", "Ambtenaar Online")
    for view in views:
        url = base_url + post_path(view)
        entry = sub(feed, "entry")
        sub(entry, "id", url)
        sub(entry, "title", _title(view))
        sub(entry, "published", view.post.created_at.isoformat())
        sub(entry, "updated", (view.post.edited_at or view.post.created_at).isoformat())
        sub(entry, "link", href=url, rel="alternate", type="text/html")
        sub(sub(entry, "author"), "name", view.author.name)
        sub(entry, "content", sanitize.clean_post_html(view.post.content_html), type="html")
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="utf-8", xml_declaration=False)


def _response(ctx: PageContext, fmt: str, *, title: str, path: str, description: str, author: str,
              views: Sequence[PostView]) -> Response:
    base = ctx.deps.settings.base_url
    self_url = f"{base}{ctx.request.url.path}"
    common = dict(title=title, link=base + path, self_url=self_url, language=ctx.lang,
                  base_url=base, views=views, now=ctx.now)
    body = rss_xml(description=description, **common) if fmt == "rss" else \
        atom_xml(subtitle=description, author=author, **common)  # type: ignore[arg-type]
    return Response(body, media_type=f"{MEDIA_TYPES[fmt]}; charset=utf-8",
                    headers={"Cache-Control": "public, max-age=300"})


async def _local_account(conn: object, username: str) -> accounts.Account:
    account = await accounts.get_account_by_username(conn, username)  # type: ignore[arg-type]
    if account is None or not account.is_local or not account.is_active:
        raise NotFound("There is no account with that name here.")
    return account


def _account_feed(fmt: str, official_only: bool):  # type: ignore[no-untyped-def]
    @page()
    async def handler(ctx: PageContext) -> Response:
        async with connection(ctx.deps.pool) as conn:
            account = await _local_account(conn, ctx.request.path_params["username"])
            ids = await timelines.account_ids(conn, None, account.id, Page(limit=timelines.MAX_LIMIT),
                                              exclude_reblogs=True)
            views = _public(await timelines.hydrate(conn, ids, None))
        if official_only:
            views = [v for v in views if v.post.voice == "official"]
        views = views[:FEED_SIZE]
        kind = ctx.gettext("Official posts of %(name)s" if official_only else "Posts of %(name)s",
                           name=account.name)
        return _response(ctx, fmt, title=kind, path=f"/@{account.username}", description=kind,
                         author=account.name, views=views)
    handler.__name__ = f"account_{'official' if official_only else 'feed'}_{fmt}"
    return handler


def _organisation_feed(fmt: str, everyone: bool):  # type: ignore[no-untyped-def]
    @page()
    async def handler(ctx: PageContext) -> Response:
        async with connection(ctx.deps.pool) as conn:
            org = await organisations.get_organisation_by_slug(conn, ctx.request.path_params["slug"])
            if org is None:
                raise NotFound("There is no organisation with that name here.")
            if everyone:
                # Each member's own public listing through the rule, merged: the newest FEED_SIZE of them all.
                members = await accounts.list_organisation_members(conn, org.id)
                org_account = await accounts.get_organisation_account(conn, org.id)
                ids: set[int] = set()
                for member in [*members, *([org_account] if org_account else [])]:
                    ids.update(await timelines.account_ids(conn, None, member.id, Page(limit=FEED_SIZE),
                                                           exclude_reblogs=True))
                newest = sorted(ids, reverse=True)[:timelines.MAX_LIMIT]
            else:
                newest = await timelines.organisation_ids(conn, None, org.id, Page(limit=timelines.MAX_LIMIT))
            views = _public(await timelines.hydrate(conn, newest, None))[:FEED_SIZE]
        kind = ctx.gettext("All public posts of %(name)s" if everyone else "Official posts of %(name)s",
                           name=org.name)
        return _response(ctx, fmt, title=kind, path=f"/orgs/{org.slug}", description=kind, author=org.name,
                         views=views)
    handler.__name__ = f"organisation_{'all' if everyone else 'feed'}_{fmt}"
    return handler


ROUTES = [
    *[Route(f"/@{{username}}/{name}.{fmt}", _account_feed(fmt, name == "official"), methods=["GET"])
      for name in ("feed", "official") for fmt in ("rss", "atom")],
    *[Route(f"/orgs/{{slug}}/{name}.{fmt}", _organisation_feed(fmt, name == "all"), methods=["GET"])
      for name in ("feed", "all") for fmt in ("rss", "atom")],
]
