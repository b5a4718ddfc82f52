"""Our posts and actors as the JSON other servers fetch or receive: loads what wire's builders need.

Owns: gathering author, parent, mentions, tags and attachments of a post for `wire.note_to_json`, and the
actor document with its key and organisation. Never: HTTP.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import asyncpg

from federation import badge_proofs, keys, poll_wire, signatures, wire
from server import accounts, badges, handle_domains, media, organisations, polls, posts, profiles, quotes, uris, voice
from server.accounts import Account
from server.config import Settings
from server.posts import Post


async def parent_uri(conn: asyncpg.Connection, settings: Settings, post: Post) -> str | None:
    if post.in_reply_to_id is None:
        return post.in_reply_to_uri
    parent = await posts.get_post(conn, post.in_reply_to_id, include_deleted=True)
    if parent is None:
        return post.in_reply_to_uri
    parent_author = await accounts.get_account(conn, parent.account_id)
    assert parent_author is not None
    return wire.post_uri(settings, parent, parent_author)


async def note_json(conn: asyncpg.Connection, settings: Settings, post: Post, author: Account, *,
                    with_context: bool = True) -> dict[str, Any]:
    mentioned_ids = await posts.list_mentioned_account_ids(conn, post.id)
    mentioned = list((await accounts.list_accounts_by_ids(conn, mentioned_ids)).values())
    tags = (await posts.list_tags(conn, [post.id])).get(post.id, [])
    attachments = (await media.list_for_posts(conn, [post.id])).get(post.id, [])
    organisation = await organisations.get_organisation(conn, post.organisation_id) if post.organisation_id else None
    org_account = await accounts.get_organisation_account(conn, organisation.id) if organisation else None
    if post.voice == "official" and organisation is None and post.voice_organisation_name:
        line = f"{voice.OFFICIAL_MARK} {post.voice_organisation_name}"  # a remote official post we relay
    else:
        line = voice.line(post.voice, post.language, organisation)
    ctx = wire.NoteContext(author=author, in_reply_to_uri=await parent_uri(conn, settings, post),
                            mentioned=mentioned, tags=tags, attachments=attachments, voice_line=line,
                            voice_organisation_uri=uris.actor(settings, org_account.username) if org_account else None,
                            quote_policy=await quotes.get_policy(conn, post))
    note = wire.note_to_json(settings, post, ctx, with_context=with_context)
    poll = await polls.get_poll(conn, post.id)
    return note | poll_wire.question_fields(poll) if poll else note


async def actor_json(conn: asyncpg.Connection, settings: Settings, account: Account,
                     now: datetime | None = None) -> dict[str, Any]:
    """The actor document; a valid badge adds the profile field Mastodon shows and the badge signed by the
    organisation's own key."""
    now = now or datetime.now(timezone.utc)
    key = await keys.account_key(conn, settings, account)
    org = await organisations.get_organisation(conn, account.organisation_id) if account.organisation_id else None
    badge = None
    if org is not None and not account.is_organisation:
        found = (await badges.list_active_for_accounts(conn, [account.id], badges.local_date(now))).get(account.id)
        badge = found if found is not None and found.organisation_id == org.id else None
    profile = await profiles.get_profile(conn, account.id)
    domain = await handle_domains.handle_domain_of(conn, account)
    if badge is None or org is None:
        return wire.actor_to_json(settings, account, key.public_key_pem, org, profile=profile, handle_domain=domain)
    verification = badges.badge_url(settings.base_url, badge.id)
    text = f"{org.name} — {badge.function_title}" + (f" ({badge.unit})" if badge.unit else "")
    org_account = await accounts.get_organisation_account(conn, org.id)
    signed = None
    if org_account is not None:
        org_key = await keys.account_key(conn, settings, org_account)
        document = badge_proofs.badge_document(
            subject=uris.actor(settings, account.username), organisation_actor=uris.actor(settings, org_account.username),
            organisation_name=org.name, organisation_website=org.website, function=badge.function_title,
            unit=badge.unit, valid_from=badge.valid_from, valid_until=badge.valid_until, verification=verification)
        signed = badge_proofs.sign(document, signatures.load_private_key(org_key.private_key_pem), org_key.key_id, now)
    return wire.actor_to_json(settings, account, key.public_key_pem, org, (verification, text), signed,
                              profile=profile, handle_domain=domain)
