"""The one path a post takes: validate, store, and record the outbox event, in one transaction.

Owns: the rules a post must meet (length, visibility, voice, reply target) and the order of steps for create,
edit, delete, boost, like and follow. Never: sends anything to other servers; it writes outbox events and
federation/ picks them up.

The organisation's policy checks (moderation.policy) will run between validation and storage; until they exist
every valid post is published at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from server import accounts, events, follows, media, notifications, organisations, posts, reactions, text, timelines
from server.accounts import Account
from server.config import Settings
from server.errors import Forbidden, Invalid, NotFound
from server.posts import Post


@dataclass(frozen=True)
class Draft:
    text: str
    spoiler_text: str = ""
    visibility: str = "public"
    voice: str | None = None  # None: the author's default voice
    in_reply_to_id: int | None = None
    language: str | None = None
    media_ids: tuple[int, ...] = ()


def choose_voice(author: Account, requested: str | None) -> str:
    """The voice a post gets; the server, not the form, decides who may speak for an organisation."""
    voice = (requested or author.default_voice).strip().lower()
    if voice not in accounts.VOICES:
        raise Invalid("The voice must be official or personal.")
    if voice not in author.allowed_voices:
        if voice == "official":
            raise Forbidden("Only members of an organisation can post in official voice.")
        raise Forbidden("An organisation account always speaks in official voice.")
    return voice


def check_text(settings: Settings, body: str, spoiler_text: str, *, has_media: bool = False) -> None:
    if not body.strip() and not has_media:
        raise Invalid("A post needs some text.")
    length = text.plain_length(body) + len(spoiler_text.strip())
    if length > settings.max_post_length:
        raise Invalid("A post may be at most %(max)d characters; this one has %(length)d.",
                      max=settings.max_post_length, length=length)
    if "\x00" in body or "\x00" in spoiler_text:
        raise Invalid("The text contains a character that cannot be stored.")


async def _render(conn: asyncpg.Connection, settings: Settings, body: str) -> tuple[text.RenderedText, list[int]]:
    """Render the text, linking @mentions of accounts that exist here or that we know on other servers.

    Remote handles must already be in the accounts cache: the edges (web, API) look unknown ones up first
    (federation.resolver.resolve_mentions), so that publishing itself never waits on the network.
    """
    found: dict[str, Account] = {}
    local_wanted = [m.username for m in text.find_mentions(body) if m.host in (None, settings.domain)]
    for account in await accounts.list_accounts_by_usernames(conn, local_wanted):
        found[account.username.lower()] = account
        found[f"{account.username.lower()}@{settings.domain}"] = account
    for mention in text.find_mentions(body):
        if mention.host and mention.host != settings.domain:
            remote = await accounts.get_remote_account(conn, mention.username, mention.host)
            if remote is not None and remote.gone_at is None:
                found[mention.handle.lower()] = remote
    urls = {handle: f"{settings.base_url}/@{a.username}" if a.is_local else (a.profile_url or str(a.actor_uri))
            for handle, a in found.items()}
    rendered = text.render(body, settings.base_url, urls)
    return rendered, sorted({found[m.handle.lower()].id for m in rendered.mentions})


async def create_post(conn: asyncpg.Connection, settings: Settings, author: Account, draft: Draft,
                      now: datetime) -> Post:
    """Validate and publish a post; the caller owns the transaction, so a refusal leaves nothing behind."""
    check_text(settings, draft.text, draft.spoiler_text, has_media=bool(draft.media_ids))
    if draft.visibility not in posts.VISIBILITIES:
        raise Invalid("The visibility must be public, unlisted, private (followers only) or direct.")
    voice = choose_voice(author, draft.voice)
    language = draft.language or author.language
    if language not in ("nl", "en"):
        raise Invalid("The language must be nl or en.")
    if draft.in_reply_to_id is not None:
        target = await timelines.get_visible_post(conn, draft.in_reply_to_id, author.id)
        if target is None or target.reblog_of_id is not None:
            raise NotFound("The post you are replying to does not exist or is not visible to you.")
    rendered, mention_ids = await _render(conn, settings, draft.text)
    post = await posts.insert_post(
        conn, account_id=author.id, source_text=draft.text.strip(), content_html=rendered.html,
        spoiler_text=draft.spoiler_text.strip(), visibility=draft.visibility, voice=voice,
        organisation_id=author.organisation_id if voice == "official" else None, language=language,
        in_reply_to_id=draft.in_reply_to_id, tags=rendered.tags, mention_ids=mention_ids, now=now)
    await media.attach_to_post(conn, author.id, post.id, list(draft.media_ids))
    for mentioned_id in mention_ids:
        await notifications.insert_notification(conn, account_id=mentioned_id, type="mention",
                                                from_account_id=author.id, post_id=post.id, now=now)
    await events.record_event(conn, "post.created", post.id, author.id, now)
    await _organisation_boost(conn, post, author, now)
    return post


async def _organisation_boost(conn: asyncpg.Connection, post: Post, author: Account, now: datetime) -> None:
    """The organisation's own account boosts what its officials say on its behalf, never personal posts."""
    if post.voice != "official" or post.organisation_id is None or post.visibility not in ("public", "unlisted"):
        return
    organisation = await organisations.get_organisation(conn, post.organisation_id)
    org_account = await accounts.get_organisation_account(conn, post.organisation_id)
    if organisation is None or not organisation.auto_boost or org_account is None or org_account.id == author.id:
        return
    boost_post = await posts.insert_boost(conn, account_id=org_account.id, post=post, now=now)
    if boost_post is not None:
        await events.record_event(conn, "boost.created", boost_post.id, org_account.id, now)


async def _own_post(conn: asyncpg.Connection, author: Account, post_id: int) -> Post:
    post = await posts.get_post(conn, post_id)
    if post is None or post.reblog_of_id is not None:
        raise NotFound("That post does not exist.")
    if post.account_id != author.id:
        raise Forbidden("You can only change your own posts.")
    return post


async def edit_post(conn: asyncpg.Connection, settings: Settings, author: Account, post_id: int, *, body: str,
                    spoiler_text: str, now: datetime) -> Post:
    """Change the words of a post; its voice and visibility stay as published."""
    post = await _own_post(conn, author, post_id)
    check_text(settings, body, spoiler_text)
    rendered, mention_ids = await _render(conn, settings, body)
    if body.strip() == post.source_text and spoiler_text.strip() == post.spoiler_text:
        return post
    updated = await posts.update_post_content(conn, post, source_text=body.strip(), content_html=rendered.html,
                                              spoiler_text=spoiler_text.strip(), tags=rendered.tags,
                                              mention_ids=mention_ids, now=now)
    # Mastodon tells those who boosted a post that it changed under their name.
    for booster in await timelines.list_reblogged_by(conn, post.id, limit=1000):
        await notifications.insert_notification(conn, account_id=booster.id, type="update",
                                                from_account_id=author.id, post_id=post.id, now=now)
    await events.record_event(conn, "post.updated", post.id, author.id, now)
    return updated


async def delete_post(conn: asyncpg.Connection, author: Account, post_id: int, now: datetime) -> Post:
    post = await posts.get_post(conn, post_id)
    if post is None or post.reblog_of_id is not None:
        raise NotFound("That post does not exist.")
    if post.account_id != author.id and not author.is_moderator and not author.is_admin:
        raise Forbidden("You can only delete your own posts.")
    await posts.delete_post(conn, post.id, now)
    await events.record_event(conn, "post.deleted", post.id, author.id, now)
    return post


async def _boostable(conn: asyncpg.Connection, viewer: Account, post_id: int) -> Post:
    post = await timelines.get_visible_post(conn, post_id, viewer.id)
    if post is None or post.reblog_of_id is not None:
        raise NotFound("That post does not exist or is not visible to you.")
    return post


async def boost(conn: asyncpg.Connection, viewer: Account, post_id: int, now: datetime) -> Post:
    post = await _boostable(conn, viewer, post_id)
    if post.visibility not in ("public", "unlisted"):
        raise Forbidden("Only public and unlisted posts can be boosted.")
    created = await posts.insert_boost(conn, account_id=viewer.id, post=post, now=now)
    if created is not None:
        await notifications.insert_notification(conn, account_id=post.account_id, type="reblog",
                                                from_account_id=viewer.id, post_id=post.id, now=now)
        await events.record_event(conn, "boost.created", created.id, viewer.id, now)
    return post


async def unboost(conn: asyncpg.Connection, viewer: Account, post_id: int, now: datetime) -> None:
    existing = await posts.get_boost(conn, viewer.id, post_id)
    if existing is not None:
        await posts.delete_post(conn, existing.id, now)
        await events.record_event(conn, "boost.deleted", existing.id, viewer.id, now)


async def favourite(conn: asyncpg.Connection, viewer: Account, post_id: int, now: datetime) -> Post:
    post = await _boostable(conn, viewer, post_id)
    if await reactions.insert_favourite(conn, viewer.id, post.id, now):
        await notifications.insert_notification(conn, account_id=post.account_id, type="favourite",
                                                from_account_id=viewer.id, post_id=post.id, now=now)
        await events.record_event(conn, "favourite.created", post.id, viewer.id, now)
    return post


async def unfavourite(conn: asyncpg.Connection, viewer: Account, post_id: int, now: datetime) -> None:
    like_uri = await reactions.get_like_uri(conn, viewer.id, post_id)
    if await reactions.delete_favourite(conn, viewer.id, post_id):
        await events.record_event(conn, "favourite.deleted", post_id, viewer.id, now, {"like_uri": like_uri})


async def follow(conn: asyncpg.Connection, viewer: Account, target: Account, now: datetime) -> None:
    """Follow; a remote account's follow waits for its server's Accept, which federation/ receives."""
    state = "accepted" if target.is_local and not target.manually_approves_followers else "pending"
    if await follows.insert_follow(conn, viewer.id, target.id, now, state=state):
        await notifications.insert_notification(conn, account_id=target.id,
                                                type="follow" if state == "accepted" else "follow_request",
                                                from_account_id=viewer.id, post_id=None, now=now)
        await events.record_event(conn, "follow.created", target.id, viewer.id, now)


async def unfollow(conn: asyncpg.Connection, viewer: Account, target: Account, now: datetime) -> None:
    existing = await follows.get_follow_state(conn, viewer.id, target.id)
    if await follows.delete_follow(conn, viewer.id, target.id):
        await events.record_event(conn, "follow.deleted", target.id, viewer.id, now,
                                  {"follow_uri": existing[1] if existing else None})


async def decide_follow_request(conn: asyncpg.Connection, account: Account, follower: Account, *, accept: bool,
                                now: datetime) -> None:
    """Approve or refuse a waiting follower; a remote follower's server is told with Accept or Reject."""
    existing = await follows.get_follow_state(conn, follower.id, account.id)
    if existing is None or existing[0] != "pending":
        raise NotFound("There is no follow request from that account.")
    if accept:
        await follows.accept_follow(conn, follower.id, account.id)
        await notifications.insert_notification(conn, account_id=account.id, type="follow",
                                                from_account_id=follower.id, post_id=None, now=now)
    else:
        await follows.delete_follow(conn, follower.id, account.id)
    await events.record_event(conn, "follow.authorized" if accept else "follow.rejected", follower.id, account.id,
                              now, {"follow_uri": existing[1]})
