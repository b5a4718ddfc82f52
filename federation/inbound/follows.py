"""Follow, Accept, Reject and Block from other servers."""

from __future__ import annotations

from collections.abc import Mapping

from federation import delivery, wire
from federation.context import Federation
from federation.inbound.common import local_account
from federation.vocab import Activity
from server import follows, notifications, relationships, uris
from server.accounts import Account
from server.db.pool import transaction


async def handle_follow(fed: Federation, activity: Activity, sender: Account) -> None:
    """Accept at once, or, for an account that approves followers itself, keep the request and answer later."""
    settings = fed.deps.settings
    now = fed.deps.now()
    async with transaction(fed.deps.pool) as conn:
        target = await local_account(conn, settings, activity.object_id)
        if target is None or not target.is_active:
            return
        if await relationships.exists_block_between(conn, target.id, sender.id):
            # Mastodon answers a follow across a block with Reject, and keeps nothing.
            reject = wire.accept_to_json(settings, uris.actor(settings, target.username),
                                          {"id": activity.id, "actor": activity.actor, "object": activity.object_id},
                                          reject=True)
            await delivery.enqueue(conn, reject, signer_id=target.id, inboxes=[str(sender.inbox_uri)], now=now)
            return
        existing = await follows.get_follow_state(conn, sender.id, target.id)
        state = "pending" if target.manually_approves_followers and existing is None else "accepted"
        if existing is None:
            await follows.insert_follow(conn, sender.id, target.id, now, state=state, follow_uri=activity.id)
            await notifications.insert_notification(conn, account_id=target.id,
                                                    type="follow_request" if state == "pending" else "follow",
                                                    from_account_id=sender.id, post_id=None, now=now)
        else:
            await follows.set_follow_uri(conn, sender.id, target.id, activity.id)
            state = existing[0]
        if state == "pending":
            return  # publishing.decide_follow_request sends Accept or Reject when the person decides
        accept = wire.accept_to_json(settings, uris.actor(settings, target.username),
                                      {"id": activity.id, "actor": activity.actor, "object": activity.object_id})
        await delivery.enqueue(conn, accept, signer_id=target.id, inboxes=[str(sender.inbox_uri)], now=now)


async def _our_follow(fed: Federation, activity: Activity, sender: Account) -> Account | None:
    """The local follower named by an Accept/Reject of our Follow (embedded, or by the Follow's id)."""
    settings = fed.deps.settings
    follow = activity.object_doc
    follower_uri = None
    if follow is not None:
        actor = follow.get("actor")
        # Fedify embeds the whole follower actor in the Follow it accepts, not just the actor's IRI.
        actor = actor.get("id") if isinstance(actor, Mapping) else actor
        follower_uri = actor if isinstance(actor, str) else None
    elif activity.object_id and "#follows/" in activity.object_id:
        follower_uri = activity.object_id.split("#", 1)[0]
    async with transaction(fed.deps.pool) as conn:
        return await local_account(conn, settings, follower_uri)


async def handle_accept(fed: Federation, activity: Activity, sender: Account) -> None:
    follower = await _our_follow(fed, activity, sender)
    if follower is not None:
        async with transaction(fed.deps.pool) as conn:
            await follows.accept_follow(conn, follower.id, sender.id)


async def handle_reject(fed: Federation, activity: Activity, sender: Account) -> None:
    follower = await _our_follow(fed, activity, sender)
    if follower is not None:
        async with transaction(fed.deps.pool) as conn:
            await follows.delete_follow(conn, follower.id, sender.id)


async def handle_block(fed: Federation, activity: Activity, sender: Account) -> None:
    """A remote account blocked one of ours: the follows between them end and the block is kept (so our person no
    longer sees the blocker's posts nor can follow them), as Mastodon does; nobody is notified."""
    async with transaction(fed.deps.pool) as conn:
        target = await local_account(conn, fed.deps.settings, activity.object_id)
        if target is not None:
            await relationships.record_remote_block(conn, sender, target, activity.id, fed.deps.now())
