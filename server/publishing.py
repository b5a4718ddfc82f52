"""The one path a post takes: validate, store, and record the outbox event, in one transaction.

Owns: the rules a post must meet (length, visibility, voice, reply target) and the order of steps for create,
edit, delete, boost, like and follow. Never: sends anything to other servers; it writes outbox events and
federation/ picks them up.

The organisation's policy checks (moderation.policy, a pure library) run between validation and storage: a post
passes, waits for the author's confirmation (warn), waits for a reviewer (hold: stored, not public, not federated)
or is refused (block). Every run with an enabled check is written to the audit log.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

import moderation.policy as policy
from server import (accounts, audit, events, follows, handle_domains, languages, media, notifications, organisations,
                    policy_settings, polls, post_rules, posts, quotes, reactions, relationships, text, timelines,
                    webcare)
from server.accounts import Account
from server.config import Settings
from server.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
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
    confirm_policy: bool = False  # the author confirms the policy warnings shown before
    quote_policy: str | None = None  # who may quote it (server/quotes.py); None: the author's default
    # Descriptions of images chosen in the web composer but not uploaded yet: only for preview_policy, while typing.
    unsent_image_descriptions: tuple[str, ...] = ()
    poll: polls.PollDraft | None = None  # options, duration, multiple choice, hidden totals (server/polls.py)


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


class PolicyStopped(DomainError):
    """The organisation's checks stopped the post; the verdict says why, in Dutch and English."""

    http_status = 422
    prefix = ""

    def __init__(self, verdict: policy.Verdict) -> None:
        self.verdict = verdict
        super().__init__(self.prefix + " " + "; ".join(f.message_en for f in verdict.findings
                                                       if f.action in self.shown_actions))

    shown_actions: tuple[str, ...] = ("block",)

    def translated(self, gettext: Callable[[str], str]) -> str:
        dutch = gettext("Personal capacity") == "Op persoonlijke titel"
        messages = [f.message_nl if dutch else f.message_en for f in self.verdict.findings
                    if f.action in self.shown_actions]
        return f"{gettext(self.prefix)} " + "; ".join(messages)


class PolicyBlocked(PolicyStopped):
    """A check the organisation set to block found something: the post cannot be published as it is."""

    prefix = "Not published:"
    shown_actions = ("block",)


class PolicyNeedsConfirmation(PolicyStopped):
    """A check the organisation set to warn found something: the author must confirm before the post goes on."""

    prefix = "Please confirm:"
    shown_actions = ("warn",)


async def _policy_verdict(conn: asyncpg.Connection, author: Account, draft: Draft, voice: str, language: str,
                          now: datetime) -> policy.Verdict | None:
    """Run the author's organisation's enabled checks, or None when it has switched none on."""
    if author.organisation_id is None:
        return None
    rows = await policy_settings.list_settings(conn, author.organisation_id)
    if not rows:
        return None
    try:
        checks = policy.PolicySettings({r.check_id: policy.CheckSetting(r.action, r.options) for r in rows})
    except ValueError as exc:
        raise Invalid("The organisation's policy settings are not valid: %(reason)s", reason=str(exc)) from None
    organisation = await organisations.get_organisation(conn, author.organisation_id)
    attachments = []
    for media_id in draft.media_ids:
        found = await media.get_attachment(conn, media_id)
        if found is not None:
            attachments.append(policy.Attachment(found.description, found.content_type))
    attachments.extend(policy.Attachment(description, "image/") for description in draft.unsent_image_descriptions)
    recent = await posts.count_official_since(conn, author.organisation_id, now - timedelta(hours=1))
    draft_for_checks = policy.PostDraft(
        text=draft.text, voice=voice, now=now, spoiler_text=draft.spoiler_text, visibility=draft.visibility,
        attachments=tuple(attachments), in_reply_to=draft.in_reply_to_id is not None,
        author=policy.Author(author.username, author.org_role or "member"),
        organisation=organisation.slug if organisation else "", language=language,
        recent_official_posts_last_hour=recent, poll_options=draft.poll.options if draft.poll else ())
    return policy.evaluate(draft_for_checks, checks)


async def preview_policy(conn: asyncpg.Connection, author: Account, draft: Draft,
                         now: datetime) -> policy.Verdict | None:
    """What the organisation's checks would say of this draft, stored nowhere: for the composer, as one types."""
    voice = choose_voice(author, draft.voice)
    return await _policy_verdict(conn, author, draft, voice, draft.language or author.language, now)


async def record_policy_refusal(conn: asyncpg.Connection, author: Account, stopped: PolicyStopped,
                                now: datetime, *, written_by: Account | None = None) -> None:
    """The audit entry of a refused post; `compose.compose_post` writes it in a transaction of its own, since the
    refusal rolls back the post's transaction. The actor is the person who wrote it (for an organisation's
    account, its writer)."""
    await audit.record(conn, actor_id=(written_by or author).id, action=f"policy.{stopped.verdict.outcome}"
                       if isinstance(stopped, PolicyBlocked) else "policy.needs_confirmation",
                       subject_type="account", subject_id=author.id, detail=stopped.verdict.to_json(), now=now)


async def _render(conn: asyncpg.Connection, settings: Settings, body: str) -> tuple[text.RenderedText, list[int]]:
    """Render the text, linking @mentions of accounts that exist here or that we know on other servers.

    Remote handles must already be in the accounts cache: `compose.compose_post` has unknown ones looked up first,
    through the lookup the edges (web, API) pass in, so that publishing itself never waits on the network.
    """
    found: dict[str, Account] = {}
    local_wanted = [m.username for m in text.find_mentions(body) if m.host in (None, settings.domain)]
    for account in await accounts.list_accounts_by_usernames(conn, local_wanted):
        found[account.username.lower()] = account
        found[f"{account.username.lower()}@{settings.domain}"] = account
    for mention in text.find_mentions(body):
        if mention.host and mention.host != settings.domain:
            # @anna@ede.nl is local when ede.nl is her organisation's live handle domain (issue 17); a remote
            # split-domain handle is found by its confirmed handle domain.
            other = (await handle_domains.get_local_by_handle(conn, mention.username, mention.host)
                     or await handle_domains.get_remote_by_handle(conn, mention.username, mention.host))
            if other is not None and other.gone_at is None:
                found[mention.handle.lower()] = other
    urls = {handle: f"{settings.base_url}/@{a.username}" if a.is_local else (a.profile_url or str(a.actor_uri))
            for handle, a in found.items()}
    rendered = text.render(body, settings.base_url, urls)
    return rendered, sorted({found[m.handle.lower()].id for m in rendered.mentions})


async def check_draft(conn: asyncpg.Connection, settings: Settings, author: Account, draft: Draft,
                      now: datetime) -> tuple[str, str, policy.Verdict | None]:
    """The rules a post must meet and the organisation's checks as of `now`: its voice, language and verdict, or
    the refusal. create_post runs it; so does scheduling a post (server/scheduled.py), judged at its time."""
    check_text(settings, draft.text, draft.spoiler_text, has_media=bool(draft.media_ids))
    if draft.poll is not None:
        polls.validate_draft(draft.poll)
        if draft.media_ids:
            raise Invalid("A post can have images or a poll, not both.")
    if draft.visibility not in posts.VISIBILITIES:
        raise Invalid("The visibility must be public, unlisted, private (followers only) or direct.")
    voice = choose_voice(author, draft.voice)
    language = languages.post_language(draft.language, author.language)
    if draft.in_reply_to_id is not None:
        await post_rules.check_reply(conn, author, draft.in_reply_to_id)
    verdict = await _policy_verdict(conn, author, draft, voice, language, now)
    if verdict is not None and verdict.outcome == "block":
        raise PolicyBlocked(verdict)
    if verdict is not None and verdict.requires_confirmation and not draft.confirm_policy:
        raise PolicyNeedsConfirmation(verdict)
    return voice, language, verdict


async def create_post(conn: asyncpg.Connection, settings: Settings, author: Account, draft: Draft,
                      now: datetime, *, written_by: Account | None = None) -> Post:
    """Validate and publish a post; the caller owns the transaction, so a refusal leaves nothing behind.

    `written_by`: a person posting as the organisation's account (`author`), allowed by the one webcare rule
    (`webcare.check_team`); kept on the post and in the audit log, never on the wire."""
    if written_by is not None:
        if not author.is_organisation or author.organisation_id is None:
            raise Forbidden("Only an organisation's own account is written for by its people.")
        webcare.check_team(written_by, author.organisation_id)
    voice, language, verdict = await check_draft(conn, settings, author, draft, now)
    held = verdict is not None and verdict.outcome == "hold"
    rendered, mention_ids = await _render(conn, settings, draft.text)
    post = await posts.insert_post(
        conn, account_id=author.id, source_text=draft.text.strip(), content_html=rendered.html,
        spoiler_text=draft.spoiler_text.strip(), visibility=draft.visibility, voice=voice,
        organisation_id=author.organisation_id if voice == "official" else None, language=language,
        in_reply_to_id=draft.in_reply_to_id, tags=rendered.tags, mention_ids=mention_ids, now=now,
        state="held" if held else "published",
        policy_findings=policy.findings_to_json(verdict.findings) if verdict and verdict.findings else None,
        written_by_id=written_by.id if written_by else None)
    await media.attach_to_post(conn, author.id, post.id, list(draft.media_ids))
    if written_by is not None:
        await audit.record(conn, actor_id=written_by.id, action="post.written_for_organisation", subject_type="post",
                           subject_id=post.id, detail={"organisation_id": author.organisation_id,
                                                       "account": author.username, "writer": written_by.username},
                           now=now)
    if draft.poll is not None:
        await polls.insert_poll(conn, post.id, polls.validate_draft(draft.poll), now)
    if draft.quote_policy:
        await quotes.upsert_post_policy(conn, post.id, draft.quote_policy)
    if verdict is not None:
        await audit.record(conn, actor_id=(written_by or author).id, action="policy.held" if held else "policy.checked",
                           subject_type="post", subject_id=post.id,
                           detail={**verdict.to_json(), "confirmed": draft.confirm_policy}, now=now)
    if not held:
        await _announce(conn, post, author, mention_ids, now)
    return post


async def _announce(conn: asyncpg.Connection, post: Post, author: Account, mention_ids: list[int],
                    now: datetime) -> None:
    """What publication sets going: notifications, the outbox event, the organisation's boost."""
    for mentioned_id in mention_ids:
        await notifications.insert_notification(conn, account_id=mentioned_id, type="mention",
                                                from_account_id=author.id, post_id=post.id, now=now)
    await events.record_event(conn, "post.created", post.id, author.id, now)
    await _organisation_boost(conn, post, author, now)
    await webcare.take_in(conn, post, now)


async def review_version(conn: asyncpg.Connection, post: Post) -> str:
    """What a reviewer saw, as a hash of everything that is published: text, content warning, voice, visibility,
    language and the images with their descriptions. An approval names it, so an edit after the reviewer opened
    the post makes that approval fail instead of publishing words no reviewer read."""
    images = (await media.list_for_posts(conn, [post.id])).get(post.id, [])
    seen = {"text": post.source_text, "spoiler_text": post.spoiler_text, "voice": post.voice,
            "visibility": post.visibility, "language": post.language,
            "media": [[a.id, a.file_name, a.description] for a in images]}
    return hashlib.sha256(json.dumps(seen, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


async def _held(conn: asyncpg.Connection, reviewer: Account, post_id: int,
                version: str | None) -> tuple[Post, Account, str]:
    post = await posts.get_post(conn, post_id, for_update=True)
    author = await accounts.get_account(conn, post.account_id) if post else None
    if post is None or author is None:
        raise NotFound("There is no held post with that id.")
    post_rules.check_review(reviewer, post, author)
    current = await review_version(conn, post)
    if version is not None and version != current:
        raise Conflict("The author changed this post after you opened it. Read the new version and decide again.")
    return post, author, current


async def approve_held(conn: asyncpg.Connection, reviewer: Account, post_id: int, now: datetime, *,
                       version: str | None) -> Post:
    """Publish a held post now, as the version the reviewer saw: it federates at this moment.

    `version` is review_version() of the post as shown to the reviewer; None only where the reviewer reads the
    current version in the same step (the CLI without --version), and then the audit says so."""
    post, author, current = await _held(conn, reviewer, post_id, version)
    published = await posts.update_state(conn, post.id, "published", note=None)
    assert published is not None
    await audit.record(conn, actor_id=reviewer.id, action="review.approved", subject_type="post", subject_id=post.id,
                       detail={"author": author.username, "version": current, "version_named": version is not None,
                               "text": post.source_text, "spoiler_text": post.spoiler_text, "voice": post.voice},
                       now=now)
    await notifications.insert_review_notification(conn, author_id=author.id, reviewer_id=reviewer.id,
                                                   post_id=post.id, decision="approved", note="", now=now)
    await _announce(conn, published, author, await posts.list_mentioned_account_ids(conn, post.id), now)
    return published


async def reject_held(conn: asyncpg.Connection, reviewer: Account, post_id: int, reason: str, now: datetime, *,
                      version: str | None = None, changes_requested: bool = False) -> Post:
    """Keep a held post private with the reviewer's reason (or a request for changes)."""
    if not reason.strip():
        raise Invalid("Give a reason, so that the author knows what to change.")
    post, author, current = await _held(conn, reviewer, post_id, version)
    rejected = await posts.update_state(conn, post.id, "rejected", note=reason.strip()[:1000])
    assert rejected is not None
    await audit.record(conn, actor_id=reviewer.id,
                       action="review.changes_requested" if changes_requested else "review.rejected",
                       subject_type="post", subject_id=post.id, detail={"author": author.username,
                                                                         "reason": reason.strip()[:1000],
                                                                         "version": current}, now=now)
    await notifications.insert_review_notification(
        conn, author_id=author.id, reviewer_id=reviewer.id, post_id=post.id,
        decision="changes_requested" if changes_requested else "rejected", note=reason.strip()[:1000], now=now)
    return rejected


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
    # Locked: an edit racing a reviewer's approval either comes first (the approval then fails on the version) or
    # sees the post published (and is checked as an edit of a published post), never edits it unseen.
    post = await posts.get_post(conn, post_id, for_update=True)
    if post is None:
        raise NotFound("That post does not exist.")
    post_rules.check_edit(author, post)
    return post


async def edit_post(conn: asyncpg.Connection, settings: Settings, author: Account, post_id: int, *, body: str,
                    spoiler_text: str, now: datetime, confirm_policy: bool = False,
                    media_ids: Sequence[int] | None = None, media_changes: Sequence[media.MediaChange] = (),
                    poll: polls.PollDraft | None = None) -> Post:
    """Change the words, images or poll of a post; its voice and visibility stay as published.

    `media_ids` is the post's new list of images (None keeps them), `media_changes` their new alt text: a change
    of images alone is an edit too, with its history entry and Update, as on Mastodon. `poll` is the poll as the
    author sends it back (None keeps it): new options wipe its votes (server/polls.update_poll)."""
    post = await _own_post(conn, author, post_id)
    # The images first, in this transaction: the checks below read them as they will be, and a refusal rolls
    # them back with the rest.
    image_ids, images_changed = await media.update_post_media(conn, author.id, post.id, media_ids=media_ids,
                                                              changes=media_changes)
    check_text(settings, body, spoiler_text, has_media=bool(image_ids))
    if poll is not None:
        poll = polls.validate_draft(poll)
        if image_ids:
            raise Invalid("A post can have images or a poll, not both.")
    # An edit runs the organisation's checks again, on the words, images and poll options as they will be.
    draft = Draft(text=body, spoiler_text=spoiler_text, visibility=post.visibility, voice=post.voice,
                  in_reply_to_id=post.in_reply_to_id, language=post.language, media_ids=image_ids,
                  confirm_policy=confirm_policy, poll=poll or await _poll_as_drafted(conn, post.id))
    verdict = await _policy_verdict(conn, author, draft, post.voice, post.language, now)
    if verdict is not None and verdict.outcome == "block":
        raise PolicyBlocked(verdict)
    if verdict is not None and verdict.requires_confirmation and not confirm_policy:
        raise PolicyNeedsConfirmation(verdict)
    if verdict is not None and verdict.outcome == "hold" and post.state == "published":
        raise Invalid("This change would need a reviewer's approval. Delete the post and write it again, so that "
                      "a reviewer can approve the new version.")
    if verdict is not None:
        await audit.record(conn, actor_id=author.id, action="policy.checked_edit", subject_type="post",
                           subject_id=post.id, detail={**verdict.to_json(), "confirmed": confirm_policy}, now=now)
    rendered, mention_ids = await _render(conn, settings, body)
    if poll is not None:  # its time runs from now: always a change, with its Update to other servers
        await polls.update_poll(conn, post.id, poll, now)
    elif body.strip() == post.source_text and spoiler_text.strip() == post.spoiler_text and not images_changed:
        return post
    updated = await posts.update_post_content(conn, post, source_text=body.strip(), content_html=rendered.html,
                                              spoiler_text=spoiler_text.strip(), tags=rendered.tags,
                                              mention_ids=mention_ids, now=now)
    if updated.state != "published":
        # Not out yet, so nothing to tell anyone; the changed post waits for a reviewer again (a rejected one
        # too), and approvals of the earlier words fail, since an approval names the version it saw.
        if updated.state != "held":
            resubmitted = await posts.update_resubmitted(conn, post.id)
            assert resubmitted is not None
            updated = resubmitted
        await audit.record(conn, actor_id=author.id, action="review.resubmitted", subject_type="post",
                           subject_id=post.id, detail={"version": await review_version(conn, updated),
                                                       "was": post.state}, now=now)
        return updated
    # Mastodon tells those who boosted a post that it changed under their name.
    for booster in await timelines.list_reblogged_by(conn, post.id, limit=1000):
        await notifications.insert_notification(conn, account_id=booster.id, type="update",
                                                from_account_id=author.id, post_id=post.id, now=now)
    await events.record_event(conn, "post.updated", post.id, author.id, now)
    return updated


async def _poll_as_drafted(conn: asyncpg.Connection, post_id: int) -> polls.PollDraft | None:
    """A post's poll for the checks an edit runs again: its options are published words as well."""
    found = await polls.get_poll(conn, post_id)
    return polls.PollDraft(found.options, polls.MIN_EXPIRATION) if found else None


async def edit_image(conn: asyncpg.Connection, settings: Settings, author: Account, attachment_id: int, *,
                     description: str | None, focus: str | None, now: datetime) -> media.Attachment:
    """New alt text or focal point for one of the author's images (`PUT /api/v1/media/:id`). An upload not posted
    yet simply changes; a posted image changes through `edit_post`, so only its author may, the organisation's
    checks see the new description, and other servers get an Update of the post."""
    found = await media.get_attachment(conn, attachment_id)
    if found is None or found.account_id != author.id or found.remote_url:
        raise NotFound("Record not found")
    if found.post_id is None:
        return await media.update_attachment(conn, author.id, attachment_id, description=description, focus=focus)
    post = await posts.get_post(conn, found.post_id)
    if post is None:
        raise NotFound("Record not found")
    await edit_post(conn, settings, author, post.id, body=post.source_text, spoiler_text=post.spoiler_text, now=now,
                    media_changes=[media.MediaChange(attachment_id, description, focus)])
    changed = await media.get_attachment(conn, attachment_id)
    assert changed is not None
    return changed


async def delete_post(conn: asyncpg.Connection, author: Account, post_id: int, now: datetime) -> Post:
    """The author deletes their own post; moderators remove others' through moderation/post_removal.py."""
    post = await posts.get_post(conn, post_id)
    if post is None:
        raise NotFound("That post does not exist.")
    post_rules.check_delete(author, post)
    await posts.delete_post(conn, post.id, now)
    await events.record_event(conn, "post.deleted", post.id, post.account_id, now)
    return post


async def boost(conn: asyncpg.Connection, viewer: Account, post_id: int, now: datetime) -> Post:
    post = await post_rules.check_boost(conn, viewer, post_id)
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
    post = await post_rules.check_favourite(conn, viewer, post_id)
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
    await relationships.check_may_follow(conn, viewer, target)
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
