"""Polls coming in: another server's vote in a poll of ours, and the poll of another server's Question.

Owns: telling a vote from a reply (Mastodon's test: a Note with a `name` that answers a poll of ours having that
option), counting it through server/voting.py (one choice per Note, a retried one counted once; a vote the poll
refuses is dropped, never stored as a reply), and keeping a remote Question's options and counts.
Never: re-verifies the sender (the inbox did), or trusts a vote in someone else's poll (only polls of ours count
votes; our people's votes elsewhere are counted by the poll's own server).
"""

from __future__ import annotations

import logging
from datetime import datetime

import asyncpg

from federation import vocab
from federation.context import Federation
from federation.inbound.common import post_by_uri
from server import polls, posts, streams, voting
from server.accounts import Account
from server.db.pool import transaction
from server.errors import DomainError

log = logging.getLogger("ambtenaar.federation")


async def count_vote(fed: Federation, note: vocab.RemoteNote, sender: Account) -> bool:
    """True when the Note is a vote in a poll of ours (counted, or refused and dropped); False for a reply."""
    if not note.may_be_vote:
        return False
    now = fed.deps.now()
    async with transaction(fed.deps.pool) as conn:
        post = await post_by_uri(conn, fed.deps.settings, note.in_reply_to)
        poll = await polls.get_poll(conn, post.id) if post is not None and post.uri is None else None
        if post is None or poll is None or note.name not in poll.options:
            return False
        if await polls.exists_vote_uri(conn, note.id):
            return True  # the same vote delivered again
        try:
            async with conn.transaction():  # a savepoint: a refused vote leaves nothing behind
                await voting.vote(conn, fed.deps.settings, sender, post.id, [poll.options.index(note.name)], now,
                                  uri=note.id)
        except DomainError as refused:  # ended, already voted, not visible to the voter: dropped, as Mastodon does
            log.info("vote not counted", extra={"vote": note.id, "poll": post.id, "reason": str(refused)})
    return True


async def store_poll(conn: asyncpg.Connection, post: posts.Post, note: vocab.RemoteNote, created: bool,
                     now: datetime) -> None:
    """A remote Question's poll, stored or refreshed (its Update brings new counts); apps see new counts live."""
    found = note.poll
    if found is None or post.deleted_at is not None:
        return
    changed = await polls.upsert_remote_poll(
        conn, post.id, options=found.options, votes=found.votes, voters_count=found.voters_count,
        multiple=found.multiple, expires_at=found.expires_at, now=now)
    if changed and not created:
        await streams.publish(conn, streams.POST_EDITED, post.id)
