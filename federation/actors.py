"""Remote actors: fetched through federation/transport.py, read by federation/vocab.py, kept in `accounts`.

Owns: the cache of remote accounts (fresh for a day, refreshed on demand), storing an actor (`store_actor`, the
one place moderation hears that a remote account is stored: reject-media avatars, a new account's domain limit,
its own server's suspension, and the badge it claims, kept unchecked and queued for the worker), the keyId to
actor lookup the inbox uses, and `user@host` handles. Never: checks a badge here (federation/remote_badges.py
does, in the worker), fetches anything but the actor (or its separate key document), or stores posts.

An inbox POST from an actor not cached here costs one outgoing GET, the actor's document; a keyId that is a
document of its own (not `<actor>#main-key`) costs that document and its owner.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from datetime import datetime, timedelta

import asyncpg

from federation import split_domain, transport, vocab
from federation.context import Federation
from federation.transport import ResolveError
from moderation import domain_blocks
from server import accounts, badges, handle_domains, profiles, text
from server.accounts import Account, RemoteProfile
from server.db.pool import connection, transaction

log = logging.getLogger("ambtenaar.federation")
STALE_AFTER = timedelta(days=1)


def profile_of(actor: vocab.RemoteActor) -> RemoteProfile:
    return RemoteProfile(
        actor_uri=actor.id, username=actor.preferred_username, domain=vocab.host_of(actor.id),
        actor_type=actor.type, display_name=actor.name, summary_html=actor.summary_html, profile_url=actor.url,
        inbox_uri=actor.inbox, shared_inbox_uri=actor.shared_inbox, followers_uri=actor.followers,
        key_id=actor.key_id, public_key_pem=actor.public_key_pem, avatar_url=actor.icon_url,
        manually_approves_followers=actor.manually_approves_followers)


async def store_actor(conn: asyncpg.Connection, actor: vocab.RemoteActor, known: Account | None,
                      now: datetime) -> Account:
    """Upsert a parsed remote actor in the caller's transaction, with what moderation asks of a stored account."""
    if known is not None:
        # The badge check's row first, as the worker finishing a check takes it (then the account): one order.
        await badges.lock_remote_check(conn, known.id)
    profile = profile_of(actor)
    header_url = actor.image_url
    if await domain_blocks.rejects_media(conn, profile.domain):
        profile = dataclasses.replace(profile, avatar_url=None)
        header_url = None
    account = await accounts.upsert_remote_account(conn, profile, now)
    if known is None:
        account = await domain_blocks.limit_new_account(conn, account)
    if actor.suspended != account.suspended_by_origin:  # its own server suspended it, or lifted that
        account = await accounts.update_origin_suspension(conn, account.id, actor.suspended, now) or account
    await profiles.store_remote(conn, account.id, fields=actor.fields, header_url=header_url, now=now)
    # A claimed badge is not checked here (that costs fetches of the issuer): kept as unchecked, queued.
    return await badges.record_remote_claim(conn, account, actor.badge, now)


async def fetch_actor(fed: Federation, actor_uri: str, *, refresh: bool = False) -> Account:
    """The remote actor, from the cache unless stale (or `refresh`), else fetched (one GET) and stored."""
    now = fed.deps.now()
    async with connection(fed.deps.pool) as conn:
        cached = await accounts.get_account_by_actor_uri(conn, actor_uri)
    if cached is not None and cached.is_local:
        return cached
    await transport.refuse_blocked(fed, vocab.host_of(actor_uri))
    if cached is not None and not refresh and cached.fetched_at and now - cached.fetched_at < STALE_AFTER:
        return cached
    try:
        actor = vocab.parse_actor(await transport.signed_get_json(fed, actor_uri))
    except (ResolveError, vocab.InvalidActivity) as exc:
        if cached is not None:
            log.info("keeping cached actor", extra={"actor": actor_uri, "reason": str(exc)})
            return cached
        raise ResolveError(str(exc)) from exc
    if actor.id != actor_uri:
        raise ResolveError(f"{actor_uri} answered an actor with another id")
    async with transaction(fed.deps.pool) as conn:
        return await store_actor(conn, actor, cached, now)


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
        owner = vocab.key_owner(await transport.fetch_object(fed, key_id))
        if owner is None:
            raise ResolveError(f"the key {key_id} names no owner")
        account = await fetch_actor(fed, owner, refresh=True)
        if account.key_id != key_id:
            raise ResolveError(f"the actor {owner} does not list the key {key_id}")
    return account


async def resolve_handle(fed: Federation, username: str, host: str) -> Account:
    """Find (and cache) an account by its handle. `user@<an organisation's live handle domain>` is the local
    account, with no network round trip (issue 17). A remote split-domain handle (bob@example.com, actor on
    social.example.com) is canonicalised (federation/split_domain.py): the account is stored once, by its actor
    URI, and the confirmed handle remembered so the next lookup needs no WebFinger."""
    async with connection(fed.deps.pool) as conn:
        local = await handle_domains.get_local_by_handle(conn, username, host)
    if local is not None:
        return local
    await transport.refuse_blocked(fed, host)
    async with connection(fed.deps.pool) as conn:
        cached = await handle_domains.get_remote_by_handle(conn, username, host)
    if cached is not None and cached.fetched_at and fed.deps.now() - cached.fetched_at < STALE_AFTER:
        return cached
    jrd = await transport.webfinger_document(fed, username, host)
    actor_uri = vocab.webfinger_actor(jrd)
    if actor_uri is None:
        raise ResolveError(f"{username}@{host} has no ActivityPub actor")
    account = await fetch_actor(fed, actor_uri, refresh=True)
    handle = split_domain.canonical_handle(username, host, vocab.webfinger_subject(jrd), actor_uri)
    if handle.confirm:
        try:
            confirmed = await transport.webfinger(fed, handle.username, handle.domain) == actor_uri
        except ResolveError:
            confirmed = False
        handle = handle if confirmed else split_domain.fallback(account.username, actor_uri)
    if split_domain.is_split(handle, actor_uri):
        async with connection(fed.deps.pool) as conn:
            await handle_domains.remember_remote_handle(conn, account.id, handle.username, handle.domain,
                                                        fed.deps.now())
    return account


async def resolve_mentions(fed: Federation, body: str, *, limit: int = 5, timeout: float = 8.0) -> None:
    """Look up the remote @user@host handles of a text we do not know yet, so the post can mention them.

    Best effort and bounded: a handle that cannot be found stays plain text, as on Mastodon.
    """
    domain = fed.deps.settings.domain
    unknown = []
    async with connection(fed.deps.pool) as conn:
        for mention in text.find_mentions(body):
            if mention.host and mention.host != domain \
                    and await handle_domains.get_local_by_handle(conn, mention.username, mention.host) is None \
                    and await handle_domains.get_remote_by_handle(conn, mention.username, mention.host) is None:
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
