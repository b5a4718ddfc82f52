"""Update and Delete of notes and actors, and the activity we only record (Move)."""

from __future__ import annotations

import logging

from federation import actors, vocab
from federation.context import Federation
from federation.inbound.notes import note_document, store_note
from federation.vocab import Activity
from server import accounts, follows, posts
from server.accounts import Account
from server.db.pool import transaction

log = logging.getLogger("ambtenaar.federation")


async def handle_update(fed: Federation, activity: Activity, sender: Account) -> None:
    if activity.object_type in vocab.ACTOR_TYPES:
        if activity.object_id == sender.actor_uri:
            await actors.fetch_actor(fed, str(sender.actor_uri), refresh=True)
        return
    doc = await note_document(fed, activity, sender)
    if doc is None:
        return
    try:
        note = vocab.parse_note(doc)
    except vocab.InvalidActivity:
        return
    if note.attributed_to == sender.actor_uri:
        await store_note(fed, note, sender)


async def handle_delete(fed: Federation, activity: Activity, sender: Account) -> None:
    now = fed.deps.now()
    async with transaction(fed.deps.pool) as conn:
        if activity.object_id == sender.actor_uri:
            await accounts.mark_gone(conn, sender.id, now)
            await follows.delete_follows_of_accounts(conn, [sender.id])
            return
        post = await posts.get_post_by_uri(conn, activity.object_id or "")
        # Only the author's own server may delete a post: the signer must be its author.
        if post is not None and post.account_id == sender.id:
            await posts.delete_post(conn, post.id, now)


async def handle_move(fed: Federation, activity: Activity, sender: Account) -> None:
    log.info("account moved", extra={"from": sender.actor_uri, "to": activity.raw.get("target")})
