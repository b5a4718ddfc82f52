"""Like, Announce (boost) and Undo from other servers."""

from __future__ import annotations

from federation.context import Federation
from federation.inbound.common import allowed_by, local_account, post_by_uri
from federation.inbound.notes import fetch_and_store
from federation.vocab import Activity
from server import follows, notifications, post_rules, posts, reactions, relationships
from server.accounts import Account
from server.db.pool import transaction


async def handle_like(fed: Federation, activity: Activity, sender: Account) -> None:
    now = fed.deps.now()
    async with transaction(fed.deps.pool) as conn:
        post = await post_by_uri(conn, fed.deps.settings, activity.object_id)
        if post is None or not await allowed_by(conn, post_rules.check_favourite, sender, post.id):
            return
        if await reactions.insert_favourite(conn, sender.id, post.id, now, like_uri=activity.id):
            await notifications.insert_notification(conn, account_id=post.account_id, type="favourite",
                                                    from_account_id=sender.id, post_id=post.id, now=now)


async def handle_announce(fed: Federation, activity: Activity, sender: Account) -> None:
    now = fed.deps.now()
    async with transaction(fed.deps.pool) as conn:
        post = await post_by_uri(conn, fed.deps.settings, activity.object_id)
        followed_here = await follows.exists_local_follower_of(conn, sender.id)
    if post is None and followed_here and activity.object_id:
        # Someone here follows the booster: the boosted post belongs in their timeline, so fetch it from its origin.
        await fetch_and_store(fed, activity.object_id)
    async with transaction(fed.deps.pool) as conn:
        post = await post_by_uri(conn, fed.deps.settings, activity.object_id)
        if post is None or not await allowed_by(conn, post_rules.check_boost, sender, post.id):
            return
        boost = await posts.insert_remote_boost(conn, account_id=sender.id, post=post, uri=activity.id, now=now)
        if boost is not None:
            await notifications.insert_notification(conn, account_id=post.account_id, type="reblog",
                                                    from_account_id=sender.id, post_id=post.id, now=now)


async def handle_undo(fed: Federation, activity: Activity, sender: Account) -> None:
    inner = activity.object_doc
    inner_type = activity.object_type
    inner_id = activity.object_id
    now = fed.deps.now()
    async with transaction(fed.deps.pool) as conn:
        if inner_type == "Follow" or (inner_type is None and inner_id):
            target_uri = inner.get("object") if inner is not None and isinstance(inner.get("object"), str) else None
            target = await local_account(conn, fed.deps.settings, target_uri)
            if target is not None:
                await follows.delete_follow(conn, sender.id, target.id)
                if inner_type == "Follow":
                    return
        if inner_type in ("Like", None) and inner_id:
            found = await reactions.get_favourite_by_like_uri(conn, inner_id)
            if found is None and inner is not None:
                liked = await post_by_uri(conn, fed.deps.settings,
                                          inner.get("object") if isinstance(inner.get("object"), str) else None)
                found = (sender.id, liked.id) if liked else None
            if found is not None and found[0] == sender.id:
                await reactions.delete_favourite(conn, sender.id, found[1])
                return
        if inner_type in ("Announce", None) and inner_id:
            boost = await posts.get_post_by_uri(conn, inner_id)
            if boost is not None and boost.account_id == sender.id and boost.reblog_of_id is not None:
                await posts.delete_post(conn, boost.id, now)
                return
        if inner_type in ("Block", None) and inner_id:
            if await relationships.delete_block_by_uri(conn, sender.id, inner_id) or inner_type != "Block":
                return
            blocked = await local_account(conn, fed.deps.settings, inner.get("object")
                                          if inner is not None and isinstance(inner.get("object"), str) else None)
            if blocked is not None:  # a Block we kept under another id: the embedded one names the pair
                await relationships.delete_block(conn, sender.id, blocked.id)


