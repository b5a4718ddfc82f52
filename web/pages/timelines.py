"""Lists of posts: home, the public timeline, hashtag pages and organisation pages.

Owns: /, /public, /tags/{tag}, /orgs/{slug}. Never: SQL or federation.
"""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from server import accounts, handle_domains, organisations, profiles, timelines
from server.db.pool import connection
from server.errors import NotFound
from server.timelines import Page
from web.context import PageContext, render
from web.handlers import page
from web.pages import feeds, share
from web.pages.posts import composer_values

PAGE_SIZE = 20


def page_bounds(ctx: PageContext) -> Page:
    raw = ctx.request.query_params.get("max_id", "")
    return Page(max_id=int(raw) if raw.isdigit() and len(raw) < 20 else None, limit=PAGE_SIZE)


def older_link(ctx: PageContext, ids: list[int]) -> str | None:
    return f"{ctx.request.url.path}?max_id={ids[-1]}" if len(ids) >= PAGE_SIZE else None


@page()
async def home(ctx: PageContext) -> Response:
    viewer_id = ctx.viewer.id if ctx.viewer else None
    async with connection(ctx.deps.pool) as conn:
        if ctx.viewer:
            ids = await timelines.home_ids(conn, ctx.viewer.id, page_bounds(ctx))
        else:
            ids = await timelines.public_ids(conn, None, page_bounds(ctx))
        views = await timelines.hydrate(conn, ids, viewer_id)
        orgs = await organisations.list_organisations(conn)
    return render(ctx, "home.html", views=views, older=older_link(ctx, ids), organisations=orgs,
                  composer=composer_values(ctx) if ctx.viewer else None)


@page()
async def public(ctx: PageContext) -> Response:
    viewer_id = ctx.viewer.id if ctx.viewer else None
    async with connection(ctx.deps.pool) as conn:
        ids = await timelines.public_ids(conn, viewer_id, page_bounds(ctx))
        views = await timelines.hydrate(conn, ids, viewer_id)
    return render(ctx, "timeline.html", heading=ctx.gettext("Public posts on this node"), views=views,
                  older=older_link(ctx, ids))


@page()
async def hashtag(ctx: PageContext) -> Response:
    tag = ctx.request.path_params["tag"].lower()
    if not tag or len(tag) > 100 or not all(ch.isalnum() or ch == "_" for ch in tag):
        raise NotFound("That page does not exist.")
    viewer_id = ctx.viewer.id if ctx.viewer else None
    async with connection(ctx.deps.pool) as conn:
        ids = await timelines.tag_ids(conn, viewer_id, tag, page_bounds(ctx))
        views = await timelines.hydrate(conn, ids, viewer_id)
    return render(ctx, "timeline.html", heading=f"#{tag}", views=views, older=older_link(ctx, ids))


@page()
async def organisation(ctx: PageContext) -> Response:
    viewer_id = ctx.viewer.id if ctx.viewer else None
    async with connection(ctx.deps.pool) as conn:
        org = await organisations.get_organisation_by_slug(conn, ctx.request.path_params["slug"])
        if org is None:
            raise NotFound("There is no organisation with that name here.")
        members = await accounts.list_organisation_members(conn, org.id)
        org_account = await accounts.get_organisation_account(conn, org.id)
        ids = await timelines.organisation_ids(conn, viewer_id, org.id, page_bounds(ctx))
        views = await timelines.hydrate(conn, ids, viewer_id)
        org_profile = await profiles.get_profile(conn, org_account.id) if org_account else None
        handle_domain = (await handle_domains.list_live_domains(conn, [org.id])).get(org.id)
    return render(ctx, "organisation.html", organisation=org, members=members, org_account=org_account,
                  handle_domain=handle_domain,
                  org_profile=org_profile, logo_url=profiles.image_url(ctx.deps.settings, org_profile, "avatar"),
                  views=views, older=older_link(ctx, ids), feeds=feeds.feed_links(ctx, slug=org.slug, name=org.name),
                  share=share.organisation_meta(ctx, org, org_account,
                                                profiles.image_url(ctx.deps.settings, org_profile, "avatar")))


ROUTES = [
    Route("/", home, methods=["GET"]),
    Route("/public", public, methods=["GET"]),
    Route("/tags/{tag}", hashtag, methods=["GET"]),
    Route("/orgs/{slug}", organisation, methods=["GET"]),
    # The feeds of these listings, here so that they come before posts' /@{username}/{post_id}.
    *feeds.ROUTES,
]
