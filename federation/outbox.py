"""Turning outbox events into activities and deliveries: who must hear about each change, addressed as Mastodon does.

Owns: the mapping event kind -> activity and recipients (followers' shared inboxes, mentioned actors, the author
of a replied-to or liked post; never ourselves). Never: HTTP (delivery.py sends).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import asyncpg

from federation import delivery, objects, poll_wire, wire
from federation import featured
from federation.context import Federation
from server import accounts, events, follows, polls, posts, quotes, reactions, timelines, uris, visibility
from server.accounts import Account
from server.config import Settings
from server.db import queue
from server.db.pool import transaction
from server.events import Event

log = logging.getLogger("ambtenaar.federation")
Built = tuple[dict[str, Any], list[str]] | None
Builder = Callable[[asyncpg.Connection, Settings, Event, Account], Awaitable[Built]]


def inbox_of(account: Account, *, even_if_suspended: bool = False) -> str | None:
    """A remote account's inbox; nothing goes to an account our moderators suspended, except the Reject that
    ends its follows and a report forwarded about it (as Mastodon does)."""
    if account.is_local or account.gone_at is not None or (account.is_suspended and not even_if_suspended):
        return None
    return account.inbox_uri


def post_inbox_of(account: Account) -> str | None:
    """Where posts go: the shared inbox when there is one, as for followers, so that a server hears an activity once
    (Fedify dedupes per inbox: a reply sent to both the parent author's personal inbox and the shared inbox of the
    same server was processed twice)."""
    return (account.shared_inbox_uri or account.inbox_uri) if inbox_of(account) else None


async def _reach(conn: asyncpg.Connection, post: posts.Post, author: Account) -> list[str]:
    """Everyone who may have the post: its audience, and the followers of local accounts that boosted it (so an
    edit or delete reaches those who saw it through the organisation's boost, as Mastodon's reach does)."""
    inboxes = await _post_audience(conn, post, author)
    if post.visibility in ("public", "unlisted"):
        for booster in await timelines.list_reblogged_by(conn, post.id, limit=1000):
            if booster.is_local:
                inboxes += await follows.list_follower_inboxes(conn, booster.id)
    return inboxes


async def _post_audience(conn: asyncpg.Connection, post: posts.Post, author: Account) -> list[str]:
    """Followers (unless direct), mentioned remote actors, and the author of the post replied to."""
    inboxes: list[str] = []
    if post.visibility != "direct":
        inboxes += await follows.list_follower_inboxes(conn, author.id)
    mentioned = await accounts.list_accounts_by_ids(conn, await posts.list_mentioned_account_ids(conn, post.id))
    inboxes += [i for i in (post_inbox_of(a) for a in mentioned.values()) if i]
    if post.in_reply_to_id is not None and post.visibility != "direct":
        parent = await posts.get_post(conn, post.in_reply_to_id, include_deleted=True)
        parent_author = await accounts.get_account(conn, parent.account_id) if parent else None
        if parent_author is not None and post_inbox_of(parent_author):
            inboxes.append(str(post_inbox_of(parent_author)))
    return inboxes


async def _note(conn: asyncpg.Connection, settings: Settings, event: Event, author: Account
                ) -> tuple[posts.Post, dict[str, Any]] | None:
    post = await posts.get_post(conn, event.subject_id, include_deleted=True)
    # Only a published post of the event's own actor leaves the node (server/visibility.py): never a held or
    # rejected one, never under another actor's name.
    if post is None or post.reblog_of_id is not None or post.account_id != author.id \
            or not visibility.is_published(post):
        return None
    return post, await objects.note_json(conn, settings, post, author)


async def post_created(conn: asyncpg.Connection, settings: Settings, event: Event, author: Account) -> Built:
    found = await _note(conn, settings, event, author)
    if found is None or found[0].deleted_at is not None:
        return None
    post, note = found
    return wire.create_to_json(settings, note), await _post_audience(conn, post, author)


async def post_updated(conn: asyncpg.Connection, settings: Settings, event: Event, author: Account) -> Built:
    found = await _note(conn, settings, event, author)
    if found is None or found[0].deleted_at is not None:
        return None
    post, note = found
    return wire.update_note_to_json(settings, note, post.edited_at or event.created_at), \
        await _reach(conn, post, author)


async def poll_updated(conn: asyncpg.Connection, settings: Settings, event: Event, author: Account) -> Built:
    """A poll of ours with new counts, or closed: an Update of the Question to everyone the post reached and to
    the servers of its voters (server/voting.py records it, debounced)."""
    found = await _note(conn, settings, event, author)
    if found is None or found[0].deleted_at is not None:
        return None
    post, note = found
    voters = await accounts.list_accounts_by_ids(conn, await polls.list_voter_ids(conn, post.id))
    inboxes = [inbox for inbox in (post_inbox_of(v) for v in voters.values()) if inbox]
    return wire.update_note_to_json(settings, note, event.created_at), await _reach(conn, post, author) + inboxes


async def poll_voted(conn: asyncpg.Connection, settings: Settings, event: Event, voter: Account) -> Built:
    """One choice of our person's vote in another server's poll, to the poll's author, as Mastodon sends it."""
    post = await posts.get_post(conn, event.subject_id)
    author = await accounts.get_account(conn, post.account_id) if post else None
    poll = await polls.get_poll(conn, post.id) if post else None
    choice, vote_id = int(event.detail.get("choice", -1)), int(event.detail.get("vote_id", 0))
    if post is None or author is None or poll is None or author.is_local or not inbox_of(author) \
            or not 0 <= choice < len(poll.options):
        return None
    vote = poll_wire.vote_to_json(settings, voter, vote_id, wire.post_uri(settings, post, author),
                                  str(author.actor_uri), poll.options[choice])
    await polls.set_vote_uri(conn, vote_id, vote["object"]["id"])
    return vote, [str(inbox_of(author))]


async def post_deleted(conn: asyncpg.Connection, settings: Settings, event: Event, author: Account) -> Built:
    post = await posts.get_post(conn, event.subject_id, include_deleted=True)
    # A Delete comes from the author's actor (a moderator's removal too: moderation/post_removal.py), and only for
    # a post that went out: a held or rejected one was never seen elsewhere.
    if post is None or post.reblog_of_id is not None or post.account_id != author.id \
            or not visibility.is_published(post):
        return None
    activity = wire.delete_to_json(settings, uris.actor(settings, author.username),
                                    wire.post_uri(settings, post, author))
    return activity, await _reach(conn, post, author)


async def _boost(conn: asyncpg.Connection, settings: Settings, event: Event, booster: Account
                 ) -> tuple[dict[str, Any], list[str]] | None:
    boost = await posts.get_post(conn, event.subject_id, include_deleted=True)
    if boost is None or boost.reblog_of_id is None:
        return None
    original = await posts.get_post(conn, boost.reblog_of_id, include_deleted=True)
    original_author = await accounts.get_account(conn, original.account_id) if original else None
    if original is None or original_author is None:
        return None
    announce = wire.announce_to_json(settings, boost, booster, wire.post_uri(settings, original, original_author),
                                      wire.account_actor_uri(settings, original_author))
    inboxes = await follows.list_follower_inboxes(conn, booster.id)
    if post_inbox_of(original_author):
        inboxes.append(str(post_inbox_of(original_author)))
    return announce, inboxes


async def boost_created(conn: asyncpg.Connection, settings: Settings, event: Event, booster: Account) -> Built:
    boost = await posts.get_post(conn, event.subject_id, include_deleted=True)
    original = await posts.get_post(conn, boost.reblog_of_id, include_deleted=True) \
        if boost is not None and boost.reblog_of_id is not None else None
    # The boost rule once more at the edge (server/post_rules.py): an Announce names only a published post that
    # anyone may see.
    if original is None or not visibility.is_published(original) or original.deleted_at is not None \
            or original.visibility not in ("public", "unlisted"):
        return None
    return await _boost(conn, settings, event, booster)


def _undone(settings: Settings, actor: Account, built: Built) -> Built:
    """The Undo of an activity, to the same inboxes it went to."""
    if built is None:
        return None
    activity, inboxes = built
    return wire.undo_to_json(settings, uris.actor(settings, actor.username), activity), inboxes


async def boost_deleted(conn: asyncpg.Connection, settings: Settings, event: Event, booster: Account) -> Built:
    return _undone(settings, booster, await _boost(conn, settings, event, booster))


async def _liked(conn: asyncpg.Connection, settings: Settings, event: Event
                 ) -> tuple[posts.Post, Account] | None:
    post = await posts.get_post(conn, event.subject_id, include_deleted=True)
    author = await accounts.get_account(conn, post.account_id) if post else None
    if post is None or author is None or author.is_local:
        return None  # likes of our own posts stay here, as on Mastodon
    return post, author


async def favourite_created(conn: asyncpg.Connection, settings: Settings, event: Event, liker: Account) -> Built:
    found = await _liked(conn, settings, event)
    if found is None:
        return None
    post, author = found
    like_uri = uris.activity(settings, liker.username, "likes", f"{post.id}-{event.id}")
    await reactions.set_like_uri(conn, liker.id, post.id, like_uri)
    like = wire.like_to_json(settings, liker, post.id, wire.post_uri(settings, post, author)) | {"id": like_uri}
    return like, [str(inbox_of(author))]


async def favourite_deleted(conn: asyncpg.Connection, settings: Settings, event: Event, liker: Account) -> Built:
    found = await _liked(conn, settings, event)
    like_uri = event.detail.get("like_uri")
    if found is None or not like_uri:
        return None
    post, author = found
    like = wire.like_to_json(settings, liker, post.id, wire.post_uri(settings, post, author)) | {"id": like_uri}
    return wire.undo_to_json(settings, uris.actor(settings, liker.username), like), [str(inbox_of(author))]


async def follow_created(conn: asyncpg.Connection, settings: Settings, event: Event, follower: Account) -> Built:
    target = await accounts.get_account(conn, event.subject_id)
    if target is None or target.is_local or not inbox_of(target):
        return None
    follow_uri = uris.activity(settings, follower.username, "follows", event.id)
    await follows.set_follow_uri(conn, follower.id, target.id, follow_uri)
    return wire.follow_to_json(settings, follower, str(target.actor_uri), follow_uri), [str(inbox_of(target))]


async def follow_deleted(conn: asyncpg.Connection, settings: Settings, event: Event, follower: Account) -> Built:
    target = await accounts.get_account(conn, event.subject_id)
    follow_uri = event.detail.get("follow_uri")
    if target is None or target.is_local or not inbox_of(target) or not follow_uri:
        return None
    follow = wire.follow_to_json(settings, follower, str(target.actor_uri), str(follow_uri))
    return wire.undo_to_json(settings, uris.actor(settings, follower.username), follow), [str(inbox_of(target))]


async def follow_decided(conn: asyncpg.Connection, settings: Settings, event: Event, account: Account) -> Built:
    """Accept or Reject of a follow request that waited for the person's approval."""
    follower = await accounts.get_account(conn, event.subject_id)
    follow_uri = event.detail.get("follow_uri")
    inbox = inbox_of(follower, even_if_suspended=event.kind == "follow.rejected") if follower else None
    if follower is None or not inbox or not follow_uri:
        return None
    answer = wire.accept_to_json(settings, uris.actor(settings, account.username),
                                  {"id": follow_uri, "actor": follower.actor_uri,
                                   "object": uris.actor(settings, account.username)},
                                  reject=event.kind == "follow.rejected")
    return answer, [inbox]


async def _block(conn: asyncpg.Connection, settings: Settings, event: Event, blocker: Account
                 ) -> tuple[dict[str, Any], list[str]] | None:
    """The Block as sent: its id is made from the block's row id, so the Undo of an unblock names the same one."""
    target = await accounts.get_account(conn, event.subject_id)
    block_id = event.detail.get("block_id")
    if target is None or target.is_local or not inbox_of(target) or not block_id:
        return None
    block = wire.block_to_json(settings, blocker, str(target.actor_uri),
                                uris.activity(settings, blocker.username, "blocks", int(block_id)))
    return block, [str(inbox_of(target))]


async def block_created(conn: asyncpg.Connection, settings: Settings, event: Event, blocker: Account) -> Built:
    return await _block(conn, settings, event, blocker)


async def block_removed(conn: asyncpg.Connection, settings: Settings, event: Event, blocker: Account) -> Built:
    return _undone(settings, blocker, await _block(conn, settings, event, blocker))


async def account_updated(conn: asyncpg.Connection, settings: Settings, event: Event, account: Account) -> Built:
    actor = await objects.actor_json(conn, settings, account)
    return wire.update_actor_to_json(settings, actor, event.id), \
        await follows.list_follower_inboxes(conn, account.id)


async def report_forwarded(conn: asyncpg.Connection, settings: Settings, event: Event, moderator: Account) -> Built:
    """A report about a remote account, as a Flag from our instance actor to the account's server (its shared
    inbox, so the server hears it once); the event carries what moderation/reports.py decided to send."""
    target = await accounts.get_account(conn, int(event.detail.get("account_id") or 0))
    inbox = inbox_of(target, even_if_suspended=True) if target else None
    if target is None or not inbox or not target.actor_uri:
        return None
    post_uris = [str(u) for u in event.detail.get("post_uris") or [] if isinstance(u, str)]
    flag = wire.flag_to_json(settings, event.subject_id, [target.actor_uri, *post_uris],
                              str(event.detail.get("comment") or ""))
    return flag, [target.shared_inbox_uri or inbox]


async def quote_revoked(conn: asyncpg.Connection, settings: Settings, event: Event, author: Account) -> Built:
    """The author revoked a quote of their post: Delete of its QuoteAuthorization (FEP-044f), to the quoter and to
    the author's followers, who may have seen the quote."""
    quote = await quotes.get_quote(conn, event.subject_id)
    quoter = await accounts.get_account(conn, quote.account_id) if quote else None
    if quote is None or quoter is None or not inbox_of(quoter):
        return None
    authorization = uris.quote_authorization(settings, author.username, quote.quoted_post_id, quote.id)
    inboxes = [str(post_inbox_of(quoter)), *await follows.list_follower_inboxes(conn, author.id)]
    return wire.delete_quote_authorization_to_json(settings, uris.actor(settings, author.username),
                                                   authorization), inboxes


BUILDERS: dict[str, Builder] = {
    "post.created": post_created, "post.updated": post_updated, "post.deleted": post_deleted,
    "boost.created": boost_created, "boost.deleted": boost_deleted,
    "favourite.created": favourite_created, "favourite.deleted": favourite_deleted,
    "follow.created": follow_created, "follow.deleted": follow_deleted,
    "follow.authorized": follow_decided, "follow.rejected": follow_decided,
    "account.updated": account_updated,
    "block.created": block_created, "block.removed": block_removed,
    "report.forwarded": report_forwarded,
    "pin.created": featured.pin_created, "pin.removed": featured.pin_removed,
    "quote.revoked": quote_revoked,
    "poll.updated": poll_updated, "poll.voted": poll_voted,
}


async def process_events(fed: Federation, limit: int = 50) -> int:
    """Turn due events into deliveries. Each event is built in its own savepoint: one whose builder fails (a bug,
    a row that went missing) records its error and is retried later, and the events after it go out now. A
    crash redoes the batch, never half of an event."""
    settings = fed.deps.settings
    now = fed.deps.now()
    async with transaction(fed.deps.pool) as conn:
        batch = await events.claim_events(conn, limit, now)
        done: list[int] = []
        for event in batch:
            try:
                async with conn.transaction():  # a savepoint: a failure undoes this event's deliveries only
                    await _deliver_event(conn, settings, event, now)
                done.append(event.id)
            except Exception as exc:  # any failure of one event: recorded on its row, never stops the others
                error = queue.error_text(exc)
                gave_up = await events.fail_event(conn, event, error, now)
                log.warning("outbox event failed", extra={"event": event.id, "kind": event.kind,
                                                          "attempt": event.attempts + 1, "gave_up": gave_up,
                                                          "error": error})
        await events.mark_processed(conn, done, now)
    return len(batch)


async def _deliver_event(conn: asyncpg.Connection, settings: Settings, event: Event, now: datetime) -> None:
    actor = await accounts.get_account(conn, event.actor_id)
    builder = BUILDERS.get(event.kind)
    if actor is None or not actor.is_local or builder is None:
        return
    built = await builder(conn, settings, event, actor)
    if built is not None:
        activity, inboxes = built
        # What our instance actor says (a forwarded Flag) is signed with the instance key.
        signer_id = None if activity.get("actor") == uris.instance_actor(settings) else actor.id
        await delivery.enqueue(conn, activity, signer_id=signer_id, inboxes=inboxes, now=now)
