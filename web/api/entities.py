"""Mastodon's JSON entities (Account, Status, Notification, MediaAttachment, ...) built from our domain records.

Owns: the shape of every entity, including our additive extensions (`voice` and `organisation` on Status,
`ambtenaar` on Account) that standard apps ignore. Never: queries beyond loading what an entity shows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timezone
from html import escape
from typing import Any

import asyncpg

from server import accounts, badges, handle_domains, media, organisations, polls, profiles, timelines, uris
from server.accounts import Account
from server.badges import Badge
from server.config import Settings
from server.media import Attachment
from server.notifications import REVIEW_TYPES, SCHEDULED_TYPES, Notification
from server.organisations import Organisation
from server.profiles import Profile
from server.timelines import AccountStats, PostView
from web.api import quote_entities

ROLE_NAMES = {"official": "official", "reviewer": "reviewer", "org_admin": "org-admin", "webcare": "webcare"}


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def account_uri(settings: Settings, username: str) -> str:
    return f"{settings.base_url}/users/{username}"


def status_uri(settings: Settings, username: str, post_id: int) -> str:
    return f"{settings.base_url}/users/{username}/statuses/{post_id}"


def organisation_json(settings: Settings, org: Organisation) -> dict[str, Any]:
    return {"slug": org.slug, "name": org.name, "kind": org.kind, "website": org.website or None,
            "url": f"{settings.base_url}/orgs/{org.slug}"}


def bio_html(bio: str) -> str:
    return "".join(f"<p>{escape(p)}</p>" for p in bio.split("\n\n") if p.strip()).replace("\n", "<br>")


def account_json(settings: Settings, account: Account, stats: AccountStats | None,
                 org: Organisation | None, badge: Badge | None = None, today: date | None = None,
                 profile: Profile | None = None) -> dict[str, Any]:
    stats = stats or AccountStats(0, 0, 0, None)
    # A badge counts only for the organisation the account belongs to now.
    badge = badge if badge is not None and org is not None and badge.organisation_id == org.id else None
    today = today or badges.local_date(datetime.now(timezone.utc))
    # A remote avatar only through our media proxy: apps never load it from the remote server.
    avatar = (uris.proxied_media(settings, account.avatar_url) if account.avatar_url and not account.is_local
              else profiles.image_url(settings, profile, "avatar") or f"{settings.base_url}/static/avatar.png")
    header = ((uris.proxied_media(settings, profile.header_url) if profile and profile.header_url and not account.is_local
               else profiles.image_url(settings, profile, "header")) or f"{settings.base_url}/static/header.png")
    local = account.is_local
    return {
        "id": str(account.id),
        "username": account.username,
        "acct": account.acct,
        "display_name": account.display_name,
        "locked": account.manually_approves_followers,
        "bot": profile.bot if profile and local else account.actor_type in ("Service", "Application"),
        "discoverable": profile.discoverable if profile and local else True,
        "indexable": True,
        "group": False,
        "created_at": iso(account.created_at.replace(hour=0, minute=0, second=0, microsecond=0)),
        "note": bio_html(account.bio) if local else account.bio,  # remote bios are sanitised HTML already
        "url": f"{settings.base_url}/@{account.username}" if local else (account.profile_url or account.actor_uri),
        "uri": account_uri(settings, account.username) if local else account.actor_uri,
        "avatar": avatar,
        "avatar_static": avatar,
        "header": header,
        "header_static": header,
        "followers_count": stats.followers,
        "following_count": stats.following,
        "statuses_count": stats.statuses,
        "last_status_at": stats.last_status_at.date().isoformat() if stats.last_status_at else None,
        "hide_collections": False,
        "noindex": False,
        "emojis": [],
        "roles": [],
        # A remote field's value is sanitised HTML already (federation/vocab.py); ours is text.
        "fields": [{"name": f["name"], "value": escape(f["value"]) if local else f["value"], "verified_at": None}
                   for f in (profile.fields if profile else [])],
        # Our extension: who this official is, and their badge (verified only while it is valid today).
        "ambtenaar": {
            "organisation": organisation_json(settings, org),
            "role": "organisation" if account.is_organisation else ROLE_NAMES.get(account.org_role or "", None),
            "function": badge.function_title if badge else None,
            "unit": (badge.unit or None) if badge else None,
            "verified": badge is not None and badge.is_valid(today),
            "badge_status": badge.status(today) if badge else None,
            "badge_url": badges.badge_url(settings.base_url, badge.id) if badge else None,
            "valid_from": badge.valid_from.isoformat() if badge else None,
            "valid_until": badge.valid_until.isoformat() if badge and badge.valid_until else None,
        } if org else remote_badge_json(account),
    }


def remote_badge_json(account: Account) -> dict[str, Any] | None:
    """The badge another node claims for its account, with our verdict (verified only from trusted issuers)."""
    claimed = account.remote_badge
    if not claimed:
        return None
    organisation = claimed.get("organisation") if isinstance(claimed.get("organisation"), dict) else {}
    return {"organisation": {"slug": None, "name": organisation.get("name"), "kind": None,
                             "website": organisation.get("website"), "url": organisation.get("id")},
            "role": None, "function": claimed.get("function"), "unit": claimed.get("unit"),
            "verified": account.remote_badge_verified,
            "badge_status": {badges.REMOTE_VERIFIED: "valid", badges.REMOTE_CHECKING: "checking"}.get(
                badges.remote_status(account) or "", "unverified"),
            "unverified_reason": account.remote_badge_reason, "badge_url": claimed.get("verification"),
            "valid_from": claimed.get("validFrom"), "valid_until": claimed.get("validUntil")}


async def render_accounts(conn: asyncpg.Connection, settings: Settings, people: Sequence[Account], *,
                          known_orgs: Mapping[int, Organisation] | None = None) -> list[dict[str, Any]]:
    """Account entities, with a fixed number of queries however many; `known_orgs`: organisations the caller
    loaded already (timelines.hydrate did, for the authors of a page), asked again only when one is missing."""
    stats = await timelines.account_stats(conn, [a.id for a in people])
    org_ids = [a.organisation_id for a in people if a.organisation_id]
    orgs: Mapping[int, Organisation] = known_orgs or {}
    if any(o not in orgs for o in org_ids):
        orgs = await organisations.list_organisations_by_ids(conn, org_ids)
    current = await badges.list_current_for_accounts(conn, [a.id for a in people if a.is_local and a.organisation_id])
    today = badges.local_date(datetime.now(timezone.utc))
    found = await profiles.list_profiles(conn, [a.id for a in people])
    # A remote account whose handle is on another domain than its actor (split domain, issue 17) is given by the
    # handle its WebFinger confirmed, as Mastodon gives it: bob@example.com, not bob@social.example.com.
    split = await handle_domains.list_remote_handle_domains(conn, [a.id for a in people if not a.is_local])
    rendered = [account_json(settings, a, stats.get(a.id), orgs.get(a.organisation_id) if a.organisation_id else None,
                             current.get(a.id), today, found.get(a.id))
                for a in people]
    for item, account in zip(rendered, people):
        if account.id in split:
            item["acct"] = f"{account.username}@{split[account.id]}"
    return rendered


async def render_account(conn: asyncpg.Connection, settings: Settings, account: Account) -> dict[str, Any]:
    return (await render_accounts(conn, settings, [account]))[0]


def credential_account_json(base: dict[str, Any], account: Account, profile: Profile | None = None) -> dict[str, Any]:
    """verify_credentials adds `source`: what the person typed, for editing in the app."""
    fields = [{"name": f["name"], "value": f["value"], "verified_at": None} for f in (profile.fields if profile else [])]
    return {**base, "source": {"privacy": "public", "sensitive": False, "language": account.language,
                               "note": account.bio, "fields": fields, "follow_requests_count": 0,
                               "discoverable": profile.discoverable if profile else True,
                               "indexable": True, "hide_collections": False, "attribution_domains": [],
                               "default_voice": account.default_voice},
            "role": {"id": "-99", "name": "", "permissions": "0", "color": "", "highlighted": False}}


def attachment_json(settings: Settings, attachment: Attachment) -> dict[str, Any]:
    """Remote images are given with our proxy's URLs (apps never load them from the remote server) and their
    original address in `remote_url`, as Mastodon does."""
    def size(width: int, height: int) -> dict[str, Any]:
        return {"width": width, "height": height, "size": f"{width}x{height}", "aspect": width / max(height, 1)}

    meta: dict[str, Any] = {"focus": {"x": attachment.focus_x, "y": attachment.focus_y}}
    if attachment.width and attachment.height:
        meta["original"] = size(attachment.width, attachment.height)
    if attachment.preview_width and attachment.preview_height:
        meta["small"] = size(attachment.preview_width, attachment.preview_height)
    return {"id": str(attachment.id), "type": "image", "url": media.public_url(settings, attachment),
            "preview_url": media.public_url(settings, attachment, preview=True),
            "remote_url": attachment.remote_url, "preview_remote_url": None, "text_url": None, "meta": meta,
            "description": attachment.description or None, "blurhash": attachment.blurhash or None}


def _status_json(settings: Settings, view: PostView, account_entities: dict[int, dict[str, Any]],
                 reblog: dict[str, Any] | None) -> dict[str, Any]:
    post = view.post
    author = view.author
    is_boost = post.reblog_of_id is not None
    if post.uri:
        uri, url = post.uri, None if is_boost else (post.url or post.uri)
    else:
        uri = status_uri(settings, author.username, post.id) + ("/activity" if is_boost else "")
        url = None if is_boost else f"{settings.base_url}/@{author.username}/{post.id}"
    return {
        "id": str(post.id),
        "uri": uri,
        "url": url,
        "created_at": iso(post.created_at),
        "edited_at": iso(post.edited_at),
        "account": account_entities[author.id],
        "content": "" if is_boost else post.content_html,
        "text": None,
        "visibility": post.visibility,
        "sensitive": bool(post.spoiler_text),
        "spoiler_text": post.spoiler_text,
        "media_attachments": [attachment_json(settings, a) for a in view.attachments],
        "application": None,
        "mentions": [{"id": str(m.id), "username": m.username, "acct": m.acct,
                      "url": f"{settings.base_url}/@{m.username}" if m.is_local else (m.profile_url or m.actor_uri)}
                     for m in view.mentions],
        "tags": [{"name": t, "url": f"{settings.base_url}/tags/{t}"} for t in view.tags],
        "emojis": [],
        "reblogs_count": view.reblogs_count,
        "favourites_count": view.favourites_count,
        "replies_count": view.replies_count,
        "in_reply_to_id": str(post.in_reply_to_id) if post.in_reply_to_id else None,
        "in_reply_to_account_id": str(view.in_reply_to_account.id) if view.in_reply_to_account else None,
        "reblog": reblog,
        "poll": poll_json(view.poll, datetime.now(timezone.utc)) if view.poll else None,
        "card": None,
        "language": post.language,
        "favourited": view.favourited,
        "reblogged": view.reblogged,
        "muted": view.muted,
        "bookmarked": view.bookmarked,
        "pinned": view.pinned,
        "filtered": [],
        # Our extensions: the voice the post speaks in, and for official voice the organisation it speaks for.
        "voice": post.voice if post.voice_declared else None,
        # `verified`: ours, or a remote organisation on a node trusted to issue badges; otherwise only a claim.
        "organisation": {**organisation_json(settings, view.organisation), "verified": True}
        if view.organisation else (
            {"slug": None, "name": post.voice_organisation_name, "kind": None, "website": None,
             "url": post.voice_organisation_uri, "verified": view.voice_verified}
            if post.voice == "official" and post.voice_organisation_name else None),
    }


def _status_people(views: Sequence[PostView]) -> dict[int, Account]:
    """The authors a page of views shows: each post's, the boosted post's and the quoted post's."""
    people: dict[int, Account] = {}
    for view in views:
        for shown in (view, view.reblog, view.quoted, view.reblog.quoted if view.reblog else None):
            if shown is not None:
                people[shown.author.id] = shown.author
                if shown.reblog is not None:
                    people[shown.reblog.author.id] = shown.reblog.author
    return people


async def render_statuses(conn: asyncpg.Connection, settings: Settings, views: Sequence[PostView],
                          viewer_id: int | None = None, *,
                          people: Sequence[Account] = ()) -> tuple[list[dict[str, Any]], dict[int, dict[str, Any]]]:
    """Status entities of views from `timelines.hydrate(..., with_quoted=True)` (their quoted posts one level
    deep, as Mastodon recommends; `viewer_id` decides the quote fields, web/api/quote_entities.py), and the
    Account entities of their authors and of `people`, rendered together: a fixed number of queries."""
    authors = _status_people(views)
    for person in people:
        authors.setdefault(person.id, person)
    known_orgs: dict[int, Organisation] = {}
    for view in views:
        for shown in (view, view.reblog, view.quoted):
            if shown is not None and shown.author_organisation is not None:
                known_orgs[shown.author_organisation.id] = shown.author_organisation
    rendered = await render_accounts(conn, settings, list(authors.values()), known_orgs=known_orgs)
    by_id = {int(a["id"]): a for a in rendered}

    def status(view: PostView) -> dict[str, Any]:
        inner = _status_json(settings, view.reblog, by_id, None) if view.reblog else None
        return _status_json(settings, view, by_id, inner)

    result = [status(view) for view in views]
    await quote_entities.add_quote_fields(conn, result, views, viewer_id, status)
    return result, by_id


async def render_status_ids(conn: asyncpg.Connection, settings: Settings, post_ids: Sequence[int],
                            viewer_id: int | None) -> list[dict[str, Any]]:
    views = await timelines.hydrate(conn, post_ids, viewer_id, with_quoted=True)
    return (await render_statuses(conn, settings, views, viewer_id))[0]


async def render_notifications(conn: asyncpg.Connection, settings: Settings, items: Sequence[Notification],
                               viewer_id: int) -> list[dict[str, Any]]:
    return (await render_notifications_and_accounts(conn, settings, items, viewer_id))[0]


async def render_notifications_and_accounts(
        conn: asyncpg.Connection, settings: Settings, items: Sequence[Notification], viewer_id: int,
        account_ids: Sequence[int] = ()) -> tuple[list[dict[str, Any]], dict[int, dict[str, Any]]]:
    """Notification entities, and the Account entities of `account_ids` (those that exist) rendered with theirs
    (the grouped notifications' sample accounts): a fixed number of queries for any number."""
    people = await accounts.list_accounts_by_ids(conn, list({n.from_account_id for n in items} | set(account_ids)))
    views = await timelines.hydrate(conn, [n.post_id for n in items if n.post_id], viewer_id, with_quoted=True)
    status_list, rendered = await render_statuses(conn, settings, views, viewer_id, people=list(people.values()))
    statuses = {int(s["id"]): s for s in status_list}
    result = []
    for n in items:
        if n.from_account_id not in rendered or (n.post_id and n.post_id not in statuses):
            continue
        entry: dict[str, Any] = {"id": str(n.id), "type": n.api_type, "created_at": iso(n.created_at),
                                 "group_key": n.group_key or f"ungrouped-{n.id}", "account": rendered[n.from_account_id]}
        if n.post_id:
            entry["status"] = statuses[n.post_id]
        if n.type in REVIEW_TYPES:  # shown as `status`; apps that know us read the decision here
            entry["ambtenaar_review"] = {"decision": n.type.removeprefix("review_"), "reason": n.note or None}
        if n.type in SCHEDULED_TYPES:  # one's own scheduled post at its time: held for review, or not published
            entry["ambtenaar_scheduled"] = {"outcome": n.type.removeprefix("scheduled_"), "reason": n.note or None}
        result.append(entry)
    return result, rendered


def tag_json(settings: Settings, name: str, history: Sequence[tuple[datetime, int, int]] = (),
             following: bool | None = None) -> dict[str, Any]:
    """Mastodon's Tag: `history` as strings of a UNIX day, posts and accounts; `following` only for a viewer."""
    entity: dict[str, Any] = {"name": name, "url": f"{settings.base_url}/tags/{name}",
                              "history": [{"day": str(int(day.timestamp())), "uses": str(uses),
                                           "accounts": str(people)} for day, uses, people in history]}
    if following is not None:
        entity["following"] = following
    return entity


def featured_tag_json(settings: Settings, featured_id: int, name: str, posts: int,
                      last_at: datetime | None) -> dict[str, Any]:
    """Mastodon's FeaturedTag, as its serializer writes it: the count as a string, the last post's date only. `url`
    is the tag's page here (we have no per-profile tag page like Mastodon's /@name/tagged/tag)."""
    return {"id": str(featured_id), "name": name, "url": f"{settings.base_url}/tags/{name}",
            "statuses_count": str(posts), "last_status_at": last_at.date().isoformat() if last_at else None}


def poll_json(view: polls.PollView, now: datetime) -> dict[str, Any]:
    """Mastodon's Poll: hidden totals are null until the end; `voted` and `own_votes` only for a signed-in viewer
    (the author counts as having voted, as on Mastodon). Its id is the post's: a post has one poll."""
    poll = view.poll
    shown = poll.shows_totals(now)
    entity: dict[str, Any] = {
        "id": str(poll.post_id), "expires_at": iso(poll.expires_at), "expired": poll.expired(now),
        "multiple": poll.multiple, "votes_count": poll.votes_count, "voters_count": poll.voters_count,
        "options": [{"title": title, "votes_count": count if shown else None}
                    for title, count in zip(poll.options, poll.votes)], "emojis": []}
    if view.own_votes is not None:
        entity |= {"voted": view.voted, "own_votes": list(view.own_votes)}
    return entity


def poll_limits() -> dict[str, int]:
    """configuration.polls of /api/v1/instance and /api/v2/instance: the limits server/polls.py enforces."""
    return {"max_options": polls.MAX_OPTIONS, "max_characters_per_option": polls.MAX_OPTION_CHARS,
            "min_expiration": polls.MIN_EXPIRATION, "max_expiration": polls.MAX_EXPIRATION}


def media_limits() -> dict[str, Any]:
    return {"supported_mime_types": list(media.SUPPORTED_MIME_TYPES), "description_limit": media.MAX_DESCRIPTION,
            "image_size_limit": media.MAX_BYTES, "image_matrix_limit": media.MAX_PIXELS,
            "video_size_limit": 0, "video_frame_rate_limit": 0, "video_matrix_limit": 0}
