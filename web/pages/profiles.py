"""Profiles, following, and the signed-in person's settings.

Owns: /@{username}, its follow/unfollow actions, and /settings. Never: SQL or federation.
"""

from __future__ import annotations

from starlette.datastructures import FormData, UploadFile
from starlette.responses import Response
from starlette.routing import Route

from server import (account_security, accounts, badges, follows, handle_domains, organisations, profiles, publishing,
                    quotes, read_cache, relationships, timelines, uris)
from server.db.pool import connection, transaction
from server.errors import DomainError, Gone, NotFound
from federation import resolver
from federation.webfinger import parse_handle
from web.context import LANG_COOKIE, PageContext, account_path, read_form, redirect, render
from web.handlers import page, path_int
from web.page_cache import cached_page, view_tags
from web.pages import feeds, share
from web.pages.timelines import older_link, page_bounds


def _shown(account: accounts.Account | None) -> accounts.Account:
    if account is None or account.disabled_at is not None:
        raise NotFound("There is no account with that name here.")
    if account.is_suspended:
        raise Gone("This account has been suspended by the moderators of this server.")
    return account


async def _account(ctx: PageContext) -> accounts.Account:
    async with connection(ctx.deps.pool) as conn:
        return _shown(await accounts.get_account_by_username(conn, ctx.request.path_params["username"]))


async def _account_by_id(ctx: PageContext) -> accounts.Account:
    async with connection(ctx.deps.pool) as conn:
        return _shown(await accounts.get_account(conn, path_int(ctx, "account_id")))


@page()
async def profile(ctx: PageContext) -> Response:
    async def render(shown: PageContext) -> tuple[Response, set[str]]:
        return await _profile(shown, await _account(shown))
    return await cached_page(ctx, render)


@page()
async def account_page(ctx: PageContext) -> Response:
    """What we know of any account by its id; local accounts move to their own address."""
    account = await _account_by_id(ctx)
    if account.is_local:
        return redirect(ctx, f"/@{account.username}")
    return (await _profile(ctx, account))[0]


async def _profile(ctx: PageContext, account: accounts.Account) -> tuple[Response, set[str]]:
    """The page, and the tags of what it shows (web/page_cache.py)."""
    viewer_id = ctx.viewer.id if ctx.viewer else None
    async with connection(ctx.deps.pool) as conn:
        org = await organisations.get_organisation(conn, account.organisation_id) if account.organisation_id else None
        ids = await timelines.account_ids(conn, viewer_id, account.id, page_bounds(ctx))
        views = await timelines.hydrate(conn, ids, viewer_id)
        followers, following = await follows.count_follows(conn, account.id)
        state = await follows.get_follow_state(conn, viewer_id, account.id) if viewer_id else None
        badge = await badges.get_current_badge(conn, account.id) if account.is_local else None
        relations = (await relationships.list_relations(conn, viewer_id, [account.id])).get(account.id) \
            if viewer_id and viewer_id != account.id else None
        profile = await profiles.get_profile(conn, account.id)
        handle_domain = await handle_domains.handle_domain_of(conn, account) if account.is_local else \
            (await handle_domains.list_remote_handle_domains(conn, [account.id])).get(account.id)
    feed_list = feeds.feed_links(ctx, username=account.username, name=account.name) if account.is_local else []
    tags = view_tags(views) | {read_cache.account_tag(account.id)}
    return render(ctx, "profile.html", account=account, organisation=org, views=views, older=older_link(ctx, ids),
                  handle_domain=handle_domain,
                  profile=profile, avatar_url=_image_url(ctx, account, profile, "avatar"),
                  header_url=_image_url(ctx, account, profile, "header"),
                  feeds=feed_list, share=share.profile_meta(ctx, account, org,
                                                            _image_url(ctx, account, profile, "avatar"),
                                                            profile.avatar_description, handle_domain),
                  relations=relations or relationships.Relations(),
                  followers=followers, following=following, is_following=state is not None,
                  follow_pending=state is not None and state[0] == "pending", badge=badge,
                  badge_status=badge.status(badges.local_date(ctx.now)) if badge else None), tags


def _image_url(ctx: PageContext, account: accounts.Account, profile: profiles.Profile, kind: str) -> str | None:
    """A profile's avatar or header: our own file, or a remote one through the media proxy; None without one."""
    if account.is_local:
        return profiles.image_url(ctx.deps.settings, profile, kind)
    remote = account.avatar_url if kind == "avatar" else profile.header_url
    return uris.proxied_media(ctx.deps.settings, remote) if remote else None


def _follow_action(action: str, by_id: bool = False):  # type: ignore[no-untyped-def]
    @page(signed_in=True)
    async def handler(ctx: PageContext) -> Response:
        assert ctx.viewer is not None
        target = await (_account_by_id(ctx) if by_id else _account(ctx))
        await read_form(ctx)
        async with transaction(ctx.deps.pool) as conn:
            await getattr(publishing, action)(conn, ctx.viewer, target, ctx.now)
        return redirect(ctx, account_path(target))
    handler.__name__ = action
    return handler


@page()
async def search(ctx: PageContext) -> Response:
    """Find people here, or on other servers by their handle (@name@server) or a profile or post URL (a post
    found by its URL opens on its page here, which applies the visibility rule)."""
    query = ctx.request.query_params.get("q", "").strip()[:300]
    found: list[accounts.Account] = []
    problem = None
    if query:
        is_url = query.startswith(("http://", "https://"))
        local = uris.parse_local(ctx.deps.settings, query) if is_url else None
        if local is not None and local[0]:
            kind, username, post_id = local
            return redirect(ctx, f"/@{username}" + (f"/{post_id}" if kind == "post" else ""))
        if ctx.viewer is not None and (is_url or parse_handle(query)):
            fed = ctx.request.app.state.federation
            handle = parse_handle(query)
            try:
                if handle is None:
                    resolved = await resolver.resolve_url(fed, query)
                    if not isinstance(resolved, accounts.Account):
                        return redirect(ctx, f"/posts/{resolved.id}")
                    found.append(resolved)
                elif handle[1] != ctx.deps.settings.domain:
                    found.append(await resolver.resolve_handle(fed, *handle))
            except resolver.ResolveError:
                problem = ctx.gettext("Nothing was found at that address.") if handle is None else \
                    ctx.gettext("No account was found at that address.")
        async with connection(ctx.deps.pool) as conn:
            found += [a for a in await accounts.search_accounts(conn, query, 20) if a.id not in {f.id for f in found}]
    return render(ctx, "search.html", query=query, found=found, problem=problem)


async def _render_settings(ctx: PageContext, values: dict[str, str], status: int = 200, **extra: object) -> Response:
    assert ctx.viewer is not None
    async with connection(ctx.deps.pool) as conn:
        pending_ids = await follows.list_pending_follower_ids(conn, ctx.viewer.id)
        pending = list((await accounts.list_accounts_by_ids(conn, pending_ids)).values())
        profile = await profiles.get_profile(conn, ctx.viewer.id)
    return render(ctx, "settings.html", status=status, values=values, requests=pending,
                  profile=profile, avatar_url=profiles.image_url(ctx.deps.settings, profile, "avatar"),
                  header_url=profiles.image_url(ctx.deps.settings, profile, "header"),
                  field_rows=range(profiles.MAX_FIELDS), **extra)


def _profile_values(profile: profiles.Profile) -> dict[str, str]:
    values = {f"{kind}_description": profile.description(kind) for kind in profiles.KINDS}
    for i in range(profiles.MAX_FIELDS):
        item = profile.fields[i] if i < len(profile.fields) else {"name": "", "value": ""}
        values[f"field_{i}_name"], values[f"field_{i}_value"] = item["name"], item["value"]
    return values


async def _uploads(form: FormData) -> dict[str, bytes]:
    """The avatar and header chosen in the form (a file input left empty sends an empty part: no change)."""
    chosen: dict[str, bytes] = {}
    for kind in profiles.KINDS:
        upload = form.get(kind)
        if isinstance(upload, UploadFile) and (upload.filename or upload.size):
            chosen[kind] = await upload.read()
    return chosen


def _follow_request(accept: bool):  # type: ignore[no-untyped-def]
    @page(signed_in=True)
    async def handler(ctx: PageContext) -> Response:
        assert ctx.viewer is not None
        await read_form(ctx)
        async with transaction(ctx.deps.pool) as conn:
            follower = await accounts.get_account(conn, path_int(ctx, "account_id"))
            if follower is None:
                raise NotFound("There is no account with that name here.")
            await publishing.decide_follow_request(conn, ctx.viewer, follower, accept=accept, now=ctx.now)
        return redirect(ctx, "/settings#follow-requests")
    handler.__name__ = "accept_follower" if accept else "reject_follower"
    return handler


@page(signed_in=True)
async def settings_form(ctx: PageContext) -> Response:
    assert ctx.viewer is not None
    async with connection(ctx.deps.pool) as conn:
        profile = await profiles.get_profile(conn, ctx.viewer.id)
        quote_policy = await quotes.get_account_policy(conn, ctx.viewer.id) or ""
    return await _render_settings(ctx, {"quote_policy": quote_policy,
                                        "display_name": ctx.viewer.display_name, "bio": ctx.viewer.bio,
                                        "default_voice": ctx.viewer.default_voice, "language": ctx.viewer.language,
                                        "locked": "on" if ctx.viewer.manually_approves_followers else "",
                                        **_profile_values(profile)})


@page(signed_in=True)
async def settings_submit(ctx: PageContext) -> Response:
    assert ctx.viewer is not None
    form = await read_form(ctx)
    values = {name: str(form.get(name, "")) for name in ("display_name", "bio", "default_voice", "language",
                                                         "quote_policy")}
    values["locked"] = "on" if form.get("locked") else ""
    profile_names = [f"{kind}_description" for kind in profiles.KINDS] + [
        f"field_{i}_{part}" for i in range(profiles.MAX_FIELDS) for part in ("name", "value")]
    values.update({name: str(form.get(name, "")) for name in profile_names})
    viewer = ctx.viewer
    try:
        images = await _uploads(form)
        async with transaction(ctx.deps.pool) as conn:
            updated = await accounts.update_profile(conn, viewer, display_name=values["display_name"],
                                                    bio=values["bio"], default_voice=values["default_voice"],
                                                    language=values["language"], locked=bool(values["locked"]))
            # Who may quote my posts (server/quotes.py); empty: the default by voice.
            await quotes.upsert_account_policy(conn, viewer.id, values["quote_policy"] or None)
            await profiles.update_profile(
                conn, settings=ctx.deps.settings, account_id=viewer.id, now=ctx.now, images=images,
                descriptions={kind: values[f"{kind}_description"] for kind in profiles.KINDS},
                remove=[kind for kind in profiles.KINDS if form.get(f"remove_{kind}") and kind not in images],
                fields=[{"name": values[f"field_{i}_name"], "value": values[f"field_{i}_value"]}
                        for i in range(profiles.MAX_FIELDS)],
                announce=(updated.display_name, updated.bio, updated.manually_approves_followers)
                != (viewer.display_name, viewer.bio, viewer.manually_approves_followers))
    except DomainError as error:
        return await _render_settings(ctx, values, error.http_status, error=error.translated(ctx.gettext))
    ctx.extra_cookies[LANG_COOKIE] = updated.language
    ctx.lang = updated.language
    ctx.viewer = updated
    return await _render_settings(ctx, values, saved=True)


@page(signed_in=True)
async def revoke_token(ctx: PageContext) -> Response:
    """Kept for links from before the security page listed apps; revokes one token, audited."""
    assert ctx.viewer is not None
    token_id = path_int(ctx, "token_id")
    await read_form(ctx)
    async with transaction(ctx.deps.pool) as conn:
        await account_security.revoke_token(conn, ctx.viewer, token_id, ctx.now)
    return redirect(ctx, "/settings/security#apps")


ROUTES = [
    Route("/@{username}", profile, methods=["GET"]),
    Route("/@{username}/follow", _follow_action("follow"), methods=["POST"]),
    Route("/@{username}/unfollow", _follow_action("unfollow"), methods=["POST"]),
    Route("/accounts/{account_id}", account_page, methods=["GET"]),
    Route("/accounts/{account_id}/follow", _follow_action("follow", by_id=True), methods=["POST"]),
    Route("/accounts/{account_id}/unfollow", _follow_action("unfollow", by_id=True), methods=["POST"]),
    Route("/search", search, methods=["GET"]),
    Route("/settings", settings_form, methods=["GET"]),
    Route("/settings", settings_submit, methods=["POST"]),
    Route("/settings/tokens/{token_id}/revoke", revoke_token, methods=["POST"]),
    Route("/settings/follow-requests/{account_id}/accept", _follow_request(True), methods=["POST"]),
    Route("/settings/follow-requests/{account_id}/reject", _follow_request(False), methods=["POST"]),
]
