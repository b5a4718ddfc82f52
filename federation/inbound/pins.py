"""Add and Remove from other servers: an actor pinning or unpinning one of its own posts (its `featured`
collection), as Mastodon sends them when someone pins.

Mastodon accepts an Add only when `target` is the actor's featured collection; we do not keep that URL of remote
actors, so we accept a target on the actor's own host and a post written by the actor (anything else, such as
Mastodon's Add of a featured hashtag, names no post of the actor and is ignored).
"""

from __future__ import annotations

from federation import vocab
from federation.context import Federation
from federation.inbound.common import post_by_uri
from federation.inbound.notes import fetch_and_store
from federation.vocab import Activity
from server import follows, pins
from server.accounts import Account
from server.db.pool import transaction


def _own_collection(activity: Activity, sender: Account) -> bool:
    try:
        target = vocab.parse_target(activity.raw)
    except vocab.InvalidActivity:
        return False
    return bool(target and sender.actor_uri and activity.object_id
                and vocab.host_of(target) == vocab.host_of(sender.actor_uri))


async def handle_add(fed: Federation, activity: Activity, sender: Account) -> None:
    if not _own_collection(activity, sender):
        return
    async with transaction(fed.deps.pool) as conn:
        post = await post_by_uri(conn, fed.deps.settings, activity.object_id)
        followed_here = await follows.exists_local_follower_of(conn, sender.id)
    if post is None and followed_here:  # pinned before anyone here followed: fetch it from its origin
        await fetch_and_store(fed, str(activity.object_id))
    async with transaction(fed.deps.pool) as conn:
        post = await post_by_uri(conn, fed.deps.settings, activity.object_id)
        if post is not None and post.account_id == sender.id and post.reblog_of_id is None:
            await pins.insert_pin(conn, sender.id, post.id, fed.deps.now())


async def handle_remove(fed: Federation, activity: Activity, sender: Account) -> None:
    if not _own_collection(activity, sender):
        return
    async with transaction(fed.deps.pool) as conn:
        post = await post_by_uri(conn, fed.deps.settings, activity.object_id)
        if post is not None and post.account_id == sender.id:
            await pins.delete_pin(conn, sender.id, post.id)
