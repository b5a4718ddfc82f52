"""Fetching remote actors and objects with signed GETs, and keeping them in the accounts and posts cache.

Owns: WebFinger lookups of `user@host`, actor fetches (authority follows origin: a document must come from the
host of its id), and object fetches. Never: stores posts (federation/inbound/ does, through server/).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from federation import badge_proofs, keys, signatures, vocab
from federation.context import Federation
from federation.netguard import NetguardError
from moderation import domain_blocks
from server import accounts, badges, limits, text, trust
from server.accounts import Account, RemoteProfile
from server.db.pool import connection, transaction

log = logging.getLogger("ambtenaar.federation")
ACCEPT = 'application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
STALE_AFTER = timedelta(days=1)
MAX_DOCUMENT = 1024 * 1024


class ResolveError(Exception):
    """A remote actor or object could not be fetched or is not what it claims to be."""


class Blocked(ResolveError):
    """The server is one this node does not federate with (suspended, or not on the allowlist)."""


async def refuse_blocked(fed: Federation, host: str) -> None:
    """Nothing is fetched from, or looked up at, a server we do not federate with (moderation/domain_blocks.py),
    so that a blocked server cannot make us fetch from it either."""
    async with connection(fed.deps.pool) as conn:
        verdict = await domain_blocks.gate(conn, fed.deps.settings.domain, host)
    if not verdict.allowed:
        raise Blocked(f"{host} is blocked here ({verdict.reason})")


async def signed_get_json(fed: Federation, url: str) -> Mapping[str, Any]:
    """GET an ActivityStreams document, signed by the instance actor (for servers in authorized-fetch mode)."""
    settings = fed.deps.settings
    await refuse_blocked(fed, vocab.host_of(url))
    async with connection(fed.deps.pool) as conn:
        key = await keys.instance_key(conn, settings)
    private_key = fed.private_key(key.private_key_pem)

    def headers_for(hop_url: str) -> dict[str, str]:
        base = {"Accept": ACCEPT}
        return {**base, **signatures.sign_request_cavage("GET", hop_url, base, None, private_key, key.key_id,
                                                         fed.deps.now())}

    try:
        result = await fed.client.get(url, headers_for=headers_for, max_bytes=MAX_DOCUMENT)
    except NetguardError as exc:
        raise ResolveError(f"could not fetch {url}: {exc}") from exc
    if result.status == 410:
        raise ResolveError(f"{url} is gone (410)")
    if result.status != 200:
        raise ResolveError(f"{url} answered {result.status}")
    try:
        doc = limits.loads(result.body)
    except (ValueError, UnicodeDecodeError):
        raise ResolveError(f"{url} did not answer JSON") from None
    if not isinstance(doc, Mapping):
        raise ResolveError(f"{url} did not answer a JSON object")
    # Authority follows origin: whatever the document says its id is, it must live where we fetched it.
    doc_id = doc.get("id")
    if not isinstance(doc_id, str) or vocab.host_of(doc_id) != vocab.host_of(str(result.url)):
        raise ResolveError(f"{url} answered a document whose id is on another host")
    if vocab.host_of(str(result.url)) != vocab.host_of(url):
        await refuse_blocked(fed, vocab.host_of(str(result.url)))  # redirected to a blocked server
    return doc


def profile_of(actor: vocab.RemoteActor) -> RemoteProfile:
    return RemoteProfile(
        actor_uri=actor.id, username=actor.preferred_username, domain=vocab.host_of(actor.id),
        actor_type=actor.type, display_name=actor.name, summary_html=actor.summary_html, profile_url=actor.url,
        inbox_uri=actor.inbox, shared_inbox_uri=actor.shared_inbox, followers_uri=actor.followers,
        key_id=actor.key_id, public_key_pem=actor.public_key_pem, avatar_url=actor.icon_url,
        manually_approves_followers=actor.manually_approves_followers)


async def fetch_actor(fed: Federation, actor_uri: str, *, refresh: bool = False) -> Account:
    """The remote actor, from the cache unless stale (or `refresh`), else fetched and stored."""
    now = fed.deps.now()
    async with connection(fed.deps.pool) as conn:
        cached = await accounts.get_account_by_actor_uri(conn, actor_uri)
    if cached is not None and cached.is_local:
        return cached
    await refuse_blocked(fed, vocab.host_of(actor_uri))
    if cached is not None and not refresh and cached.fetched_at and now - cached.fetched_at < STALE_AFTER:
        return cached
    try:
        doc = await signed_get_json(fed, actor_uri)
        actor = vocab.parse_actor(doc)
    except (ResolveError, vocab.InvalidActivity) as exc:
        if cached is not None:
            log.info("keeping cached actor", extra={"actor": actor_uri, "reason": str(exc)})
            return cached
        raise ResolveError(str(exc)) from exc
    if actor.id != actor_uri:
        raise ResolveError(f"{actor_uri} answered an actor with another id")
    async with transaction(fed.deps.pool) as conn:
        profile = profile_of(actor)
        if await domain_blocks.rejects_media(conn, profile.domain):
            profile = dataclasses.replace(profile, avatar_url=None)
        account = await accounts.upsert_remote_account(conn, profile, now)
        if cached is None:
            account = await domain_blocks.limit_new_account(conn, account)
        if actor.suspended != account.suspended_by_origin:  # its own server suspended it, or lifted that
            account = await accounts.update_origin_suspension(conn, account.id, actor.suspended, now) or account
    if actor.badge is not None or account.remote_badge is not None:
        await evaluate_badge(fed, account, actor.badge)
        async with connection(fed.deps.pool) as conn:
            account = await accounts.get_account(conn, account.id) or account
    return account


async def _verification_page_agrees(fed: Federation, badge: Mapping[str, Any]) -> tuple[bool, str | None]:
    """The issuing node's verification page has the last word: a badge revoked since it was signed is not valid.

    Only a page on the issuer's own host counts; when it cannot be fetched the signed badge stands.
    """
    page = badge.get("verification")
    issuer = badge_proofs.issuer_of(badge)
    if not isinstance(page, str) or issuer is None or vocab.host_of(page) != vocab.host_of(issuer):
        return True, None
    try:
        result = await fed.client.get(page, headers_for=lambda _u: {"Accept": "application/json"},
                                      max_bytes=64 * 1024)
        status = limits.loads(result.body).get("status") if result.status == 200 else None
    except (NetguardError, ValueError, UnicodeDecodeError, AttributeError):
        return True, None
    if status in badges.STATUSES and status != badges.VALID:
        return False, f"the issuing node's verification page says the badge is {status.replace('_', ' ')}"
    return True, None


async def evaluate_badge(fed: Federation, account: Account, badge: Mapping[str, Any] | None) -> None:
    """Verify a remote account's badge: issued by an organisation on a node we trust, signed with that
    organisation's key, for this account, and valid today. The verdict and its reason are stored with the account."""
    verified, reason = False, None
    issuer = badge_proofs.issuer_of(badge) if badge is not None else None
    if badge is not None:
        async with connection(fed.deps.pool) as conn:
            trusted = issuer is not None and await trust.is_trusted(conn, vocab.host_of(issuer))
        if issuer is None:
            reason = "the badge names no issuing organisation"
        elif not trusted:
            reason = f"{vocab.host_of(issuer)} is not a trusted issuer on this node"
        else:
            try:
                organisation = await fetch_actor(fed, issuer)
                key = signatures.load_public_key(organisation.public_key_pem or "")
            except (ResolveError, signatures.SignatureError) as exc:
                reason = f"the issuing organisation could not be checked: {exc}"
            else:
                if organisation.actor_type != "Organization":
                    reason = "the issuer is not an organisation"
                else:
                    result = badge_proofs.check(badge, subject=str(account.actor_uri), issuer_key=key,
                                                issuer_key_id=organisation.key_id,
                                                today=fed.deps.now().date())
                    verified, reason = result.verified, result.reason or None
                    if verified:
                        verified, reason = await _verification_page_agrees(fed, badge)
    async with transaction(fed.deps.pool) as conn:
        await accounts.update_remote_badge(conn, account.id, badge, verified, reason)


async def actor_for_key(fed: Federation, key_id: str, *, refresh: bool = False) -> Account:
    """The actor that owns a keyId: Mastodon's keyId is `<actor>#main-key`; others put the key in its own doc."""
    if not refresh:
        async with connection(fed.deps.pool) as conn:
            known = await accounts.get_account_by_key_id(conn, key_id)
        if known is not None:
            return known
    actor_uri = key_id.split("#", 1)[0]
    account = await fetch_actor(fed, actor_uri, refresh=True)
    if account.key_id != key_id:
        # The keyId is a separate document (e.g. /key): it names its owner, who must name it back.
        doc = await signed_get_json(fed, key_id)
        owner = doc.get("owner") if isinstance(doc.get("owner"), str) else None
        if owner is None:
            raise ResolveError(f"the key {key_id} names no owner")
        account = await fetch_actor(fed, owner, refresh=True)
        if account.key_id != key_id:
            raise ResolveError(f"the actor {owner} does not list the key {key_id}")
    return account


async def webfinger(fed: Federation, username: str, host: str) -> str:
    """The actor URI behind `username@host`."""
    await refuse_blocked(fed, host)
    resource = quote(f"acct:{username}@{host}", safe=":@")
    schemes = ["https"] + (["http"] if fed.deps.settings.allow_private_addresses else [])
    last_error: Exception | None = None
    for scheme in schemes:
        url = f"{scheme}://{host}/.well-known/webfinger?resource={resource}"
        try:
            result = await fed.client.get(url, headers_for=lambda _u: {"Accept": "application/jrd+json"},
                                          max_bytes=256 * 1024)
        except NetguardError as exc:
            last_error = exc
            continue
        if result.status != 200:
            raise ResolveError(f"{username}@{host} was not found ({result.status})")
        try:
            jrd = limits.loads(result.body)
        except (ValueError, UnicodeDecodeError):
            raise ResolveError(f"{host} answered WebFinger with something that is not JSON") from None
        links = jrd.get("links") if isinstance(jrd, Mapping) else None
        for link in links if isinstance(links, list) else []:
            if isinstance(link, Mapping) and link.get("rel") == "self" and isinstance(link.get("href"), str) \
                    and "activity+json" in str(link.get("type", "")) + " activity+json":
                return str(link["href"])
        raise ResolveError(f"{username}@{host} has no ActivityPub actor")
    raise ResolveError(f"could not reach {host}: {last_error}")


async def resolve_handle(fed: Federation, username: str, host: str) -> Account:
    """Find (and cache) a remote account by its handle; the WebFinger host must agree with the actor's."""
    await refuse_blocked(fed, host)
    async with connection(fed.deps.pool) as conn:
        cached = await accounts.get_remote_account(conn, username, host)
    if cached is not None and cached.fetched_at and fed.deps.now() - cached.fetched_at < STALE_AFTER:
        return cached
    actor_uri = await webfinger(fed, username, host)
    return await fetch_actor(fed, actor_uri, refresh=True)


async def fetch_object(fed: Federation, uri: str) -> Mapping[str, Any]:
    return await signed_get_json(fed, uri)


async def resolve_mentions(fed: Federation, body: str, *, limit: int = 5, timeout: float = 8.0) -> None:
    """Look up the remote @user@host handles of a text we do not know yet, so the post can mention them.

    Best effort and bounded: a handle that cannot be found stays plain text, as on Mastodon.
    """
    domain = fed.deps.settings.domain
    unknown = []
    async with connection(fed.deps.pool) as conn:
        for mention in text.find_mentions(body):
            if mention.host and mention.host != domain \
                    and await accounts.get_remote_account(conn, mention.username, mention.host) is None:
                unknown.append(mention)
    if not unknown:
        return

    async def one(username: str, host: str) -> None:
        try:
            await resolve_handle(fed, username, host)
        except ResolveError as exc:
            log.info("mention not resolved", extra={"handle": f"{username}@{host}", "reason": str(exc)})

    try:
        async with asyncio.timeout(timeout):
            await asyncio.gather(*(one(m.username, str(m.host)) for m in unknown[:limit]))
    except TimeoutError:
        log.info("mention lookups timed out", extra={"count": len(unknown)})
