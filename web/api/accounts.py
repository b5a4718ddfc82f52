"""Accounts in the client API: who am I, profiles, their posts, followers, and following.

Owns: /api/v1/accounts/*. Never: SQL (domain modules do it).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from starlette.responses import Response
from starlette.routing import Route

from server import accounts, endorsements, follows, profiles, publishing, timelines
from server import relationships as mutes_blocks  # `relationships` is the endpoint below
from server.accounts import Account
from web.api.entities import credential_account_json, render_account, render_accounts, render_status_ids
from web.api.quotes import account_quote_policy, update_account_policy
from web.api.filtering import filter_statuses
from web.api.http import ApiCall, ApiError, Params, api, json_response, link_header, not_found
from server.db.pool import connection, transaction


async def target_account(call: ApiCall) -> Account:
    """The account a path's id names, as long as it is active; 404 otherwise."""
    async with connection(call.deps.pool) as conn:
        account = await accounts.get_account(conn, call.path_id())
    if account is None or not account.is_active:
        raise not_found()
    return account


def relationship_json(other_id: int, following: bool, followed_by: bool, requested: bool = False,
                      relations: mutes_blocks.Relations | None = None,
                      kept: endorsements.Kept | None = None) -> dict[str, Any]:
    rel = relations or mutes_blocks.Relations()
    kept = kept or endorsements.Kept()
    return {"id": str(other_id), "following": following, "showing_reblogs": following, "notifying": False,
            "languages": None, "followed_by": followed_by, "blocking": rel.blocking, "blocked_by": rel.blocked_by,
            "muting": rel.muting, "muting_notifications": rel.muting_notifications, "requested": requested,
            "requested_by": False, "domain_blocking": False, "endorsed": kept.endorsed, "note": kept.note}


async def relationship_entities(conn: asyncpg.Connection, viewer_id: int, ids: list[int]) -> dict[int, dict[str, Any]]:
    """Mastodon's Relationship for each known account: follows, and the viewer's mutes and blocks either way."""
    found = await follows.list_relationships(conn, viewer_id, ids)
    other = await mutes_blocks.list_relations(conn, viewer_id, ids)
    kept = await endorsements.list_kept(conn, viewer_id, ids)
    return {i: relationship_json(i, *found[i], relations=other.get(i), kept=kept.get(i)) for i in ids if i in found}


@api(scope="read:accounts")
async def verify_credentials(call: ApiCall) -> Response:
    account = call.need_account()
    async with connection(call.deps.pool) as conn:
        entity = await render_account(conn, call.deps.settings, account)
        profile = await profiles.get_profile(conn, account.id)
        quote_policy = await account_quote_policy(conn, account)
    credential = credential_account_json(entity, account, profile)
    credential["source"]["quote_policy"] = quote_policy  # Mastodon 4.5 (web/api/quotes.py)
    return json_response(credential)


@api(scope="write:accounts")
async def update_credentials(call: ApiCall) -> Response:
    account = call.need_account()
    params = call.params
    source = params.mapping("source")
    language = str(source.get("language") or account.language)
    if language not in ("nl", "en"):
        raise ApiError(422, "Validation failed: language must be nl or en")
    images: dict[str, bytes] = {}
    for kind in profiles.KINDS:
        upload = params.upload(kind)
        if upload is not None:
            images[kind] = await upload.read()
    descriptions = {kind: params.str(f"{kind}_description") or "" for kind in profiles.KINDS
                    if f"{kind}_description" in params.values}
    async with transaction(call.deps.pool) as conn:
        updated = await accounts.update_profile(
            conn, account, display_name=params.str("display_name", account.display_name) or "",
            bio=params.str("note", account.bio) or "",
            default_voice=params.str("default_voice") or str(source.get("default_voice") or account.default_voice),
            language=language, locked=params.bool("locked", account.manually_approves_followers))
        profile = await profiles.update_profile(
            conn, settings=call.deps.settings, account_id=account.id, now=call.deps.now(), images=images,
            descriptions=descriptions, fields=fields_attributes(params),
            bot=params.bool("bot") if "bot" in params.values else None,
            discoverable=params.bool("discoverable") if "discoverable" in params.values else None,
            announce=(updated.display_name, updated.bio, updated.manually_approves_followers)
            != (account.display_name, account.bio, account.manually_approves_followers))
        await update_account_policy(conn, call, account)
        entity = await render_account(conn, call.deps.settings, updated)
        quote_policy = await account_quote_policy(conn, updated)
    credential = credential_account_json(entity, updated, profile)
    credential["source"]["quote_policy"] = quote_policy  # Mastodon 4.5 (web/api/quotes.py)
    return json_response(credential)


def _remove_image(kind: str) -> Callable[[ApiCall], Awaitable[Response]]:
    """DELETE /api/v1/profile/avatar and /header (Mastodon 4.2): take the image off; housekeeping deletes its file."""
    @api(scope="write:accounts")
    async def remove(call: ApiCall) -> Response:
        account = call.need_account()
        async with transaction(call.deps.pool) as conn:
            profile = await profiles.update_profile(conn, settings=call.deps.settings, account_id=account.id,
                                                    now=call.deps.now(), remove=[kind])
            entity = await render_account(conn, call.deps.settings, account)
        return json_response(credential_account_json(entity, account, profile))
    return remove


_FIELD_KEY = re.compile(r"^fields_attributes\[(\d{1,2})\]\[(name|value)\]$")


def fields_attributes(params: Params) -> list[dict[str, Any]] | None:
    """Mastodon's profile fields, in any of its shapes: form `fields_attributes[0][name]=..`, or JSON
    `{"fields_attributes": {"0": {"name": .., "value": ..}}}` or a list of such objects; None when not given."""
    rows: dict[int, dict[str, Any]] = {}
    for key, items in params.values.items():
        match = _FIELD_KEY.match(key)
        if match:
            rows.setdefault(int(match.group(1)), {})[match.group(2)] = items[-1]
    given = params.values.get("fields_attributes")
    if given:
        value = given[-1]
        if isinstance(value, dict):
            try:
                rows.update({int(k): v for k, v in value.items()})
            except ValueError:
                raise ApiError(422, "Validation failed: fields_attributes must be numbered") from None
        elif isinstance(value, list):
            rows.update(enumerate(value))
        else:
            raise ApiError(422, "Validation failed: fields_attributes must be a list of name and value")
    if not rows and not given:
        return None
    return [rows[i] for i in sorted(rows)]


@api(scope="read:accounts", auth="optional")
async def get_account(call: ApiCall) -> Response:
    account = await target_account(call)
    async with connection(call.deps.pool) as conn:
        return json_response(await render_account(conn, call.deps.settings, account))


@api(scope="read:accounts", auth="optional")
async def several(call: ApiCall) -> Response:
    """GET /api/v1/accounts?id[]=: the active accounts among the ids, in their order; the others left out."""
    ids = call.ids()
    async with connection(call.deps.pool) as conn:
        found = await accounts.list_accounts_by_ids(conn, ids)
        people = [found[i] for i in ids if i in found and found[i].is_active]
        return json_response(await render_accounts(conn, call.deps.settings, people))


@api(scope="read:accounts", auth="optional")
async def lookup(call: ApiCall) -> Response:
    acct = (call.params.str("acct") or "").strip().lstrip("@")
    username, _, host = acct.partition("@")
    async with connection(call.deps.pool) as conn:
        if host and host.lower() != call.deps.settings.domain:
            account = await accounts.get_remote_account(conn, username, host)
        else:
            account = await accounts.get_account_by_username(conn, username) if username else None
        if account is None or not account.is_active:
            raise not_found()
        return json_response(await render_account(conn, call.deps.settings, account))


@api(scope="read:accounts", auth="optional")
async def search(call: ApiCall) -> Response:
    limit = call.params.int("limit", 40, minimum=1, maximum=80) or 40
    offset = call.params.int("offset", 0, minimum=0) or 0
    async with connection(call.deps.pool) as conn:
        found = await accounts.search_accounts(conn, call.params.str("q") or "", limit, offset)
        return json_response(await render_accounts(conn, call.deps.settings, found))


@api(scope="read:statuses", auth="optional")
async def statuses(call: ApiCall) -> Response:
    account = await target_account(call)
    viewer_id = call.account.id if call.account else None
    page = call.page()
    async with connection(call.deps.pool) as conn:
        if call.params.bool("pinned"):  # all pins at once (at most 5), newest pin first, as Mastodon
            pinned = await timelines.pinned_ids(conn, viewer_id, account.id) if page.max_id is None else []
            return json_response(await render_status_ids(conn, call.deps.settings, pinned, viewer_id))
        ids = await timelines.account_ids(conn, viewer_id, account.id, page,
                                          exclude_replies=call.params.bool("exclude_replies"),
                                          exclude_reblogs=call.params.bool("exclude_reblogs"),
                                          tagged=call.params.str("tagged"), only_media=call.params.bool("only_media"))
        rendered = await render_status_ids(conn, call.deps.settings, ids, viewer_id)
        rendered = await filter_statuses(conn, viewer_id, rendered, "account", call.deps.now())
    return json_response(rendered, headers=link_header(call.request, ids[0] if ids else None,
                                                       ids[-1] if ids else None, len(ids) >= page.limit))


async def _follow_list(call: ApiCall, followers: bool) -> Response:
    account = await target_account(call)
    limit = call.params.int("limit", 40, minimum=1, maximum=80) or 40
    max_id, since_id = call.params.id("max_id"), call.params.id("since_id")
    async with connection(call.deps.pool) as conn:
        lister = follows.list_follower_ids if followers else follows.list_following_ids
        ids = await lister(conn, account.id, max_id=max_id, since_id=since_id, limit=limit)
        people = await accounts.list_accounts_by_ids(conn, ids)
        rendered = await render_accounts(conn, call.deps.settings, [people[i] for i in ids if i in people])
    return json_response(rendered, headers=link_header(call.request, ids[0] if ids else None,
                                                       ids[-1] if ids else None, len(ids) >= limit))


@api(scope="read:accounts", auth="optional")
async def followers(call: ApiCall) -> Response:
    return await _follow_list(call, followers=True)


@api(scope="read:accounts", auth="optional")
async def following(call: ApiCall) -> Response:
    return await _follow_list(call, followers=False)


async def relationship_answer(call: ApiCall, other_id: int) -> Response:
    viewer = call.need_account()
    async with connection(call.deps.pool) as conn:
        found = await relationship_entities(conn, viewer.id, [other_id])
    return json_response(found.get(other_id) or relationship_json(other_id, False, False))


@api(scope="write:follows")
async def follow(call: ApiCall) -> Response:
    viewer = call.need_account()
    target = await target_account(call)
    if target.id == viewer.id:
        raise ApiError(403, "You cannot follow yourself")
    async with transaction(call.deps.pool) as conn:
        await publishing.follow(conn, viewer, target, call.deps.now())
    return await relationship_answer(call, target.id)


@api(scope="write:follows")
async def unfollow(call: ApiCall) -> Response:
    viewer = call.need_account()
    target = await target_account(call)
    async with transaction(call.deps.pool) as conn:
        await publishing.unfollow(conn, viewer, target, call.deps.now())
    return await relationship_answer(call, target.id)


@api(scope="read:follows")
async def relationships(call: ApiCall) -> Response:
    viewer = call.need_account()
    ids = []
    for raw in call.params.list("id"):
        text = str(raw)
        if text.isdigit() and len(text) <= 19:
            ids.append(int(text))
    async with connection(call.deps.pool) as conn:
        found = await relationship_entities(conn, viewer.id, ids)
    return json_response([found[i] for i in ids if i in found])


@api(scope="read:follows")
async def follow_requests(call: ApiCall) -> Response:
    account = call.need_account()
    limit = call.params.int("limit", 40, minimum=1, maximum=80) or 40
    async with connection(call.deps.pool) as conn:
        ids = await follows.list_pending_follower_ids(conn, account.id, limit)
        people = await accounts.list_accounts_by_ids(conn, ids)
        return json_response(await render_accounts(conn, call.deps.settings, [people[i] for i in ids if i in people]))


def _decide(accept: bool):  # type: ignore[no-untyped-def]
    @api(scope="write:follows")
    async def handler(call: ApiCall) -> Response:
        account = call.need_account()
        async with transaction(call.deps.pool) as conn:
            follower = await accounts.get_account(conn, call.path_id())
            if follower is None:
                raise not_found()
            await publishing.decide_follow_request(conn, account, follower, accept=accept, now=call.deps.now())
            found = await relationship_entities(conn, account.id, [follower.id])
        return json_response(found.get(follower.id) or relationship_json(follower.id, False, False))
    handler.__name__ = "authorize" if accept else "reject"
    return handler


ROUTES = [
    Route("/api/v1/follow_requests", follow_requests, methods=["GET"]),
    Route("/api/v1/follow_requests/{id}/authorize", _decide(True), methods=["POST"]),
    Route("/api/v1/follow_requests/{id}/reject", _decide(False), methods=["POST"]),
    Route("/api/v1/accounts/verify_credentials", verify_credentials, methods=["GET"]),
    Route("/api/v1/accounts/update_credentials", update_credentials, methods=["PATCH", "PUT", "POST"]),
    Route("/api/v1/profile/avatar", _remove_image("avatar"), methods=["DELETE"]),
    Route("/api/v1/profile/header", _remove_image("header"), methods=["DELETE"]),
    Route("/api/v1/accounts", several, methods=["GET"]),
    Route("/api/v1/accounts/lookup", lookup, methods=["GET"]),
    Route("/api/v1/accounts/search", search, methods=["GET"]),
    Route("/api/v1/accounts/relationships", relationships, methods=["GET"]),
    Route("/api/v1/accounts/{id}", get_account, methods=["GET"]),
    Route("/api/v1/accounts/{id}/statuses", statuses, methods=["GET"]),
    Route("/api/v1/accounts/{id}/followers", followers, methods=["GET"]),
    Route("/api/v1/accounts/{id}/following", following, methods=["GET"]),
    Route("/api/v1/accounts/{id}/follow", follow, methods=["POST"]),
    Route("/api/v1/accounts/{id}/unfollow", unfollow, methods=["POST"]),
]
