"""Create of Notes (and Questions, Articles shown as Notes): replies, mentions and posts of accounts we follow."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from federation import actors, transport, vocab
from federation.context import Federation
from federation.inbound import polls as inbound_polls
from federation.inbound.common import allowed_by, local_account, post_by_uri
from federation.vocab import Activity
from moderation import domain_blocks
from server import accounts, follows, media, notifications, post_rules, posts, webcare
from server.accounts import Account
from server.db.pool import transaction

log = logging.getLogger("ambtenaar.federation")


async def note_document(fed: Federation, activity: Activity, sender: Account) -> Mapping[str, Any] | None:
    """The object as its origin says it is: an embedded copy is trusted only from the object's own host."""
    doc = activity.object_doc
    object_id = activity.object_id
    if object_id is None:
        return None
    if doc is None or vocab.host_of(object_id) != vocab.host_of(str(sender.actor_uri)):
        try:
            doc = await transport.fetch_object(fed, object_id)
        except transport.ResolveError as exc:
            log.info("could not fetch object", extra={"object": object_id, "reason": str(exc)})
            return None
    return doc


async def store_note(fed: Federation, note: vocab.RemoteNote, author: Account, *,
                     wanted: bool = False) -> posts.Post | None:
    """Keep a remote note when it concerns someone here (or `wanted`: a boost by someone followed here);
    notify the people it mentions or answers."""
    settings = fed.deps.settings
    now = fed.deps.now()
    organisation_name = await _voice_organisation_name(fed, note, author)  # before the transaction: may fetch
    async with transaction(fed.deps.pool) as conn:
        parent = await post_by_uri(conn, settings, note.in_reply_to)
        if parent is not None and parent.uri is None and not await allowed_by(conn, post_rules.check_reply, author, parent.id):
            # One of ours the author may not answer (held for review, not visible to them): the reply is not
            # threaded under it and tells its author nothing; it is kept only if it concerns us otherwise.
            parent = None
        mentioned: list[Account] = []
        for href in note.mentions:
            found = await local_account(conn, settings, href) or await accounts.get_account_by_actor_uri(conn, href)
            if found is not None:
                mentioned.append(found)
        known = await posts.get_post_by_uri(conn, note.id, include_deleted=True) is not None
        concerns_us = wanted or known or any(m.is_local for m in mentioned) or parent is not None \
            or await follows.exists_local_follower_of(conn, author.id)
        if not concerns_us:
            return None
        visibility = vocab.visibility_of(note.to, note.cc, author.followers_uri)
        post, created = await posts.upsert_remote_post(
            conn, account_id=author.id, uri=note.id, url=note.url, content_html=note.content_html,
            spoiler_text=note.summary, visibility=visibility, language=note.language,
            in_reply_to_id=parent.id if parent else None, in_reply_to_uri=note.in_reply_to,
            tags=note.hashtags, mention_ids=[m.id for m in mentioned], published=note.published or now,
            updated=note.updated, now=now, voice=note.voice,
            voice_organisation_uri=note.voice_organisation_uri if organisation_name else None,
            voice_organisation_name=organisation_name)
        if post.account_id == author.id and post.deleted_at is None and (note.attachments or not created):
            # A domain whose media this node rejects (moderation/domain_blocks.py): its images are not kept. A new
            # post without images has nothing to replace; an edit may have removed some.
            images = tuple(media.RemoteImage(url=i.url, media_type=i.media_type, description=i.description,
                                             blurhash=i.blurhash, width=i.width, height=i.height)
                           for i in note.attachments)
            if images and await domain_blocks.rejects_media(conn, str(author.domain)):
                images = ()
            await media.replace_remote_attachments(conn, author.id, post.id, images, now)
        if post.account_id == author.id:
            await inbound_polls.store_poll(conn, post, note, created, now)
        if created:
            notified = set()
            for person in mentioned:
                if person.is_local and person.id not in notified:
                    notified.add(person.id)
                    await notifications.insert_notification(conn, account_id=person.id, type="mention",
                                                            from_account_id=author.id, post_id=post.id, now=now)
            if parent is not None and parent.account_id not in notified:
                await notifications.insert_notification(conn, account_id=parent.account_id, type="mention",
                                                        from_account_id=author.id, post_id=post.id, now=now)
            if post.account_id == author.id:
                # A citizen writing to an organisation here, or answering in one of its conversations (webcare).
                await webcare.take_in(conn, post, now)
        return post


async def _voice_organisation_name(fed: Federation, note: vocab.RemoteNote, author: Account) -> str | None:
    """The name of the organisation an official post speaks for, as its actor says, when its own node vouches.

    The organisation actor must live on the author's node: a server may speak for its own organisations only.
    Whether the organisation itself is verified is the badges' business (docs/federation.md).
    """
    uri = note.voice_organisation_uri
    if note.voice != "official" or not uri or vocab.host_of(uri) != vocab.host_of(str(author.actor_uri)):
        return None
    try:
        organisation = await actors.fetch_actor(fed, uri)
    except transport.ResolveError:
        return None
    return organisation.display_name or organisation.username if organisation.actor_type == "Organization" else None


async def handle_create(fed: Federation, activity: Activity, sender: Account) -> None:
    doc = await note_document(fed, activity, sender)
    if doc is None:
        return
    try:
        note = vocab.parse_note(doc)
    except vocab.InvalidActivity as exc:
        log.info("ignored object", extra={"activity": activity.id, "reason": str(exc)})
        return
    if note.attributed_to != sender.actor_uri:
        return  # one may only create one's own notes
    if await inbound_polls.count_vote(fed, note, sender):
        return  # a vote in a poll of ours is counted, never kept as a reply
    await store_note(fed, note, sender)


async def fetch_and_store(fed: Federation, object_id: str) -> posts.Post | None:
    """A post we do not have yet, from its origin (for a boost of it by someone followed here)."""
    try:
        note = vocab.parse_note(await transport.fetch_object(fed, object_id))
        author = await actors.fetch_actor(fed, note.attributed_to)
    except (transport.ResolveError, vocab.InvalidActivity) as exc:
        log.info("boosted object not fetched", extra={"object": object_id, "reason": str(exc)})
        return None
    if vocab.host_of(note.id) != vocab.host_of(str(author.actor_uri)):
        return None
    return await store_note(fed, note, author, wanted=True)
