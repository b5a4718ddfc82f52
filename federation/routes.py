"""The ActivityPub URL table: actors, their collections, our objects, the shared inbox and our JSON-LD terms.

Owns: content negotiation (ActivityStreams JSON for servers, a redirect to the page for browsers; and the documents
the pages' own URLs answer to servers, PAGE_DOCUMENTS) and paging of collections. Never: business logic; inbox handling lives in federation/inbox.py.
"""

from __future__ import annotations

import json
from typing import Any

import asyncpg

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from federation import inbox, keys, objects, wire
from federation.authorized_fetch import signed_only
from federation import featured as featured_posts
from server import accounts, follows, organisations, posts, quotes, read_cache, timelines, uris, visibility
from server.accounts import Account
from server.config import Settings
from server.db.pool import connection
from server.deps import Deps
from server.posts import Post
from server.timelines import Page

AP_TYPES = ("application/activity+json", "application/ld+json")
AP_MEDIA_TYPE = "application/activity+json"
PAGE_SIZE = 20


def wants_activity_json(request: Request) -> bool:
    accept = request.headers.get("accept", "").lower()
    return any(t in accept for t in AP_TYPES)


def ap_response(doc: Any, status: int = 200) -> Response:
    return Response(json.dumps(doc, ensure_ascii=False), status_code=status, media_type=AP_MEDIA_TYPE,
                    headers={"Vary": "Accept", "Cache-Control": "max-age=60"})


def _signer_id(request: Request) -> int | None:
    signer = getattr(request.state, "signer", None)
    return signer.id if signer is not None else None


def _cache_headers(request: Request) -> tuple[tuple[str, str], ...]:
    """Unsigned fetches get what anyone gets, which a proxy may keep; a signer's answer (authorized fetch) is
    theirs alone."""
    if _signer_id(request) is None:
        return (("Vary", "Accept"), ("Cache-Control", "public, max-age=60"))
    return (("Vary", "Accept, Signature, Signature-Input"), ("Cache-Control", "private, max-age=60"))


def ap_fresh(request: Request, doc: Any, tags: set[str]) -> read_cache.Fresh:
    """A document the read cache may keep under the request's key (`_cached`): the same for everyone who asks
    it the same way."""
    return read_cache.Fresh(json.dumps(doc, ensure_ascii=False).encode(), AP_MEDIA_TYPE, frozenset(tags),
                            _cache_headers(request))


async def _cached(request: Request, render: Any) -> Response:
    """Answer from the process's read cache when it holds this document, else render (and maybe keep) it; the key
    holds all the answer depends on: path, query and the signer (authorized fetch). A browser is redirected to
    the page: nothing to keep."""
    key = ("ap", request.url.path, request.url.query, str(_signer_id(request)))
    return await read_cache.respond(request, key if wants_activity_json(request) else None, render)


def not_found() -> Response:
    return JSONResponse({"error": "Record not found"}, status_code=404)


async def _local(request: Request, *, even_if_suspended: bool = False) -> Account | None:
    """A suspended account keeps only its actor document (marked `suspended`, as Mastodon serves it); its posts
    and collections are gone."""
    deps: Deps = request.app.state.deps
    async with connection(deps.pool) as conn:
        account = await accounts.get_account_by_username(conn, request.path_params["username"])
    if account is None or account.disabled_at is not None or (account.is_suspended and not even_if_suspended):
        return None
    return account


async def actor(request: Request) -> Response:
    return await _cached(request, lambda: _actor(request))


async def _actor(request: Request) -> Response | read_cache.Fresh:
    account = await _local(request, even_if_suspended=True)
    if account is None:
        return not_found()
    if not wants_activity_json(request):
        return RedirectResponse(f"/@{account.username}", status_code=302, headers={"Vary": "Accept"})
    deps: Deps = request.app.state.deps
    async with connection(deps.pool) as conn:
        doc = await objects.actor_json(conn, deps.settings, account)
    return ap_fresh(request, doc, {read_cache.account_tag(account.id)})


async def instance_actor(request: Request) -> Response:
    deps: Deps = request.app.state.deps
    async with connection(deps.pool) as conn:
        key = await keys.instance_key(conn, deps.settings)
    return ap_response(wire.instance_actor_to_json(deps.settings, key.public_key_pem))


async def _visible_post(request: Request, account: Account) -> Post | None:
    """The post named in the path, by this account, if whoever asks may see it. The visibility rule for the signer
    in authorized-fetch mode (a follower may fetch a followers-only post, as from Mastodon); for anyone else, what
    nobody signed in may see: public and unlisted, published posts."""
    raw = str(request.path_params["post_id"])
    if not raw.isdigit() or len(raw) > 19:
        return None
    deps: Deps = request.app.state.deps
    signer = getattr(request.state, "signer", None)
    async with connection(deps.pool) as conn:
        post = await visibility.get_visible_post(conn, int(raw), signer.id if signer is not None else None)
    return post if post is not None and post.account_id == account.id else None


async def _announce_json(conn: asyncpg.Connection, settings: Settings, boost: Post, booster: Account) -> Any | None:
    original = await posts.get_post(conn, boost.reblog_of_id) if boost.reblog_of_id else None
    author = await accounts.get_account(conn, original.account_id) if original else None
    if original is None or author is None:
        return None
    return wire.announce_to_json(settings, boost, booster, wire.post_uri(settings, original, author),
                                 wire.account_actor_uri(settings, author))


async def _post_document(request: Request, *, as_activity: bool) -> Response:
    return await _cached(request, lambda: _render_post_document(request, as_activity=as_activity))


async def _render_post_document(request: Request, *, as_activity: bool) -> Response | read_cache.Fresh:
    account = await _local(request)
    if account is None:
        return not_found()
    if not wants_activity_json(request):
        return RedirectResponse(f"/@{account.username}/{request.path_params['post_id']}", status_code=302,
                                headers={"Vary": "Accept"})
    post = await _visible_post(request, account)
    if post is None:
        return not_found()
    deps: Deps = request.app.state.deps
    # Kept only when anyone who may ask gets it: a follower-only post is rendered for its signer every time.
    keep = post.visibility in ("public", "unlisted")
    tags = {read_cache.post_tag(post.id), read_cache.account_tag(account.id)}
    async with connection(deps.pool) as conn:
        if post.reblog_of_id is not None:
            announce = await _announce_json(conn, deps.settings, post, account)
            if announce is None:
                return not_found()
            tags.add(read_cache.post_tag(post.reblog_of_id))
            return ap_fresh(request, announce, tags) if keep else ap_response(announce)
        note = await objects.note_json(conn, deps.settings, post, account, with_context=not as_activity)
    doc = wire.create_to_json(deps.settings, note) if as_activity else note
    return ap_fresh(request, doc, tags) if keep else ap_response(doc)


async def status(request: Request) -> Response:
    """A post's canonical id: the Note (a boost's id: its Announce, as Mastodon answers); browsers go to the page."""
    return await _post_document(request, as_activity=False)


async def status_activity(request: Request) -> Response:
    """The id of the activity that brought a post out (`<post id>/activity`): its Create, or a boost's Announce."""
    return await _post_document(request, as_activity=True)


async def quote_authorization(request: Request) -> Response:
    """A QuoteAuthorization (FEP-044f), which servers fetch to check a quote of the post: for whoever may see the
    quoted post, while the author has not revoked it (then 404, as Mastodon answers)."""
    account = await _local(request)
    raw = str(request.path_params["quote_id"])
    post = await _visible_post(request, account) if account is not None else None
    if account is None or post is None or not raw.isdigit() or len(raw) > 19:
        return not_found()
    deps: Deps = request.app.state.deps
    async with connection(deps.pool) as conn:
        quote = await quotes.get_quote(conn, int(raw))
    if quote is None or quote.quoted_post_id != post.id or quote.state != "accepted":
        return not_found()
    settings = deps.settings
    return ap_response(wire.quote_authorization_to_json(
        settings, uris.quote_authorization(settings, account.username, post.id, quote.id),
        uris.actor(settings, account.username), quote.quoting_uri, uris.status(settings, account.username, post.id)))


async def organisation_actor(request: Request) -> Response:
    """An organisation page's document: the organisation's own account, the actor that speaks for it."""
    deps: Deps = request.app.state.deps
    async with connection(deps.pool) as conn:
        org = await organisations.get_organisation_by_slug(conn, request.path_params["slug"])
        account = await accounts.get_organisation_account(conn, org.id) if org else None
        if account is None or account.disabled_at is not None:
            return not_found()
        return ap_response(await objects.actor_json(conn, deps.settings, account))


def _profile_for_browsers(request: Request, account: Account) -> Response | None:
    """A collection opened in a browser shows the profile it belongs to."""
    if wants_activity_json(request):
        return None
    return RedirectResponse(f"/@{account.username}", status_code=302, headers={"Vary": "Accept"})


async def outbox(request: Request) -> Response:
    account = await _local(request)
    if account is None:
        return not_found()
    if (browser := _profile_for_browsers(request, account)) is not None:
        return browser
    deps: Deps = request.app.state.deps
    settings = deps.settings
    collection_id = uris.outbox(settings, account.username)
    async with connection(deps.pool) as conn:
        if request.query_params.get("page") != "true":
            total = (await timelines.account_stats(conn, [account.id]))[account.id].statuses
            return ap_response(wire.ordered_collection(settings, collection_id, total, f"{collection_id}?page=true"))
        raw_max = request.query_params.get("max_id", "")
        page = Page(max_id=int(raw_max) if raw_max.isdigit() and len(raw_max) < 20 else None, limit=PAGE_SIZE)
        ids = await timelines.account_ids(conn, None, account.id, page, exclude_reblogs=True)
        found = await posts.list_posts(conn, ids)
        items = []
        for post_id in ids:
            post = found[post_id]
            if post.visibility not in ("public", "unlisted"):
                continue
            note = await objects.note_json(conn, settings, post, account, with_context=False)
            items.append({k: v for k, v in wire.create_to_json(settings, note).items() if k != "@context"})
    next_page = f"{collection_id}?page=true&max_id={ids[-1]}" if len(ids) >= PAGE_SIZE else None
    page_id = f"{collection_id}?page=true" + (f"&max_id={raw_max}" if raw_max else "")
    return ap_response(wire.collection_page(settings, page_id, collection_id, items, next_page))


async def _follow_collection(request: Request, followers_side: bool) -> Response:
    account = await _local(request)
    if account is None:
        return not_found()
    if (browser := _profile_for_browsers(request, account)) is not None:
        return browser
    deps: Deps = request.app.state.deps
    settings = deps.settings
    collection_id = (uris.followers if followers_side else uris.following)(settings, account.username)
    async with connection(deps.pool) as conn:
        counts = await follows.count_follows(conn, account.id)
        total = counts[0] if followers_side else counts[1]
        if request.query_params.get("page") != "true":
            return ap_response(wire.ordered_collection(settings, collection_id, total, f"{collection_id}?page=true"))
        raw_max = request.query_params.get("max_id", "")
        max_id = int(raw_max) if raw_max.isdigit() and len(raw_max) < 20 else None
        lister = follows.list_follower_ids if followers_side else follows.list_following_ids
        ids = await lister(conn, account.id, max_id=max_id, since_id=None, limit=PAGE_SIZE)
        people = await accounts.list_accounts_by_ids(conn, ids)
    items = [wire.account_actor_uri(settings, people[i]) for i in ids if i in people]
    next_page = f"{collection_id}?page=true&max_id={ids[-1]}" if len(ids) >= PAGE_SIZE else None
    page_id = f"{collection_id}?page=true" + (f"&max_id={raw_max}" if raw_max else "")
    return ap_response(wire.collection_page(settings, page_id, collection_id, items, next_page))


async def followers(request: Request) -> Response:
    return await _follow_collection(request, followers_side=True)


async def following(request: Request) -> Response:
    return await _follow_collection(request, followers_side=False)


async def featured(request: Request) -> Response:
    account = await _local(request)
    if account is None:
        return not_found()
    if (browser := _profile_for_browsers(request, account)) is not None:
        return browser
    deps: Deps = request.app.state.deps
    signer = getattr(request.state, "signer", None)
    async with connection(deps.pool) as conn:
        return ap_response(await featured_posts.collection_json(conn, deps.settings, account,
                                                                signer.id if signer is not None else None))


async def terms(request: Request) -> Response:
    """Our JSON-LD context document: the terms every document we serve or send also defines inline."""
    settings = request.app.state.deps.settings
    return JSONResponse({"@context": wire.context(settings)[-1]}, media_type="application/ld+json")


ROUTES = [
    Route("/actor", instance_actor, methods=["GET"]),
    Route("/actor/inbox", inbox.shared_inbox, methods=["POST"]),
    Route("/inbox", inbox.shared_inbox, methods=["POST"]),
    Route("/ns", terms, methods=["GET"]),
    # In authorized-fetch mode these answer only signed requests of servers we federate with; the instance
    # actor above stays public (federation/authorized_fetch.py).
    Route("/users/{username}", signed_only(actor, pages=True), methods=["GET"]),
    Route("/users/{username}/inbox", inbox.personal_inbox, methods=["POST"]),
    Route("/users/{username}/outbox", signed_only(outbox, pages=True), methods=["GET"]),
    Route("/users/{username}/followers", signed_only(followers, pages=True), methods=["GET"]),
    Route("/users/{username}/following", signed_only(following, pages=True), methods=["GET"]),
    Route("/users/{username}/collections/featured", signed_only(featured, pages=True), methods=["GET"]),
    Route("/users/{username}/statuses/{post_id}", signed_only(status, pages=True), methods=["GET"]),
    Route("/users/{username}/statuses/{post_id}/activity", signed_only(status_activity, pages=True),
          methods=["GET"]),
    Route("/users/{username}/statuses/{post_id}/quotes/{quote_id}", signed_only(quote_authorization),
          methods=["GET"]),
]

# What a page's URL answers to a server that asks for ActivityStreams JSON (web/negotiation.py sends it here):
# the same document as the canonical id, under the same authorized-fetch rule.
PAGE_DOCUMENTS = {
    "/@{username}": signed_only(actor),
    "/@{username}/{post_id}": signed_only(status),
    "/orgs/{slug}": signed_only(organisation_actor),
}
