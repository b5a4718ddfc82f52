"""Voting in polls, and the end of a poll: the steps, in the caller's transaction or the worker's.

Owns: the order of steps for a vote (the rule, the poll's own rules, the votes, the counts, the outbox event of a
vote sent to another server or the debounced Update of ours, the live event), and the worker's poll job: polls
whose time is up are closed once (whichever worker claims them) with a `poll` notification to their local voters
and local author and an Update of ours; a poll of ours whose counts changed gets its Update when the debounce is
over. Never: SQL (server/polls.py), sending or building JSON (federation/ turns the events into activities).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import asyncpg

from server import accounts, events, notifications, polls, post_rules, posts, streams, visibility
from server.accounts import Account
from server.config import Settings
from server.db.pool import transaction
from server.deps import Deps
from server.errors import Invalid, NotFound
from server.polls import Poll


async def vote(conn: asyncpg.Connection, settings: Settings, voter: Account, post_id: int, choices: Sequence[int],
               now: datetime, *, uri: str | None = None) -> Poll:
    """Count a voter's choices (option indexes from 0) in a post's poll; the poll with its new counts.

    A remote voter's vote comes one choice per Note (`uri`, so a retried delivery counts once). Our person's
    vote in another server's poll is recorded as `poll.voted`, and federation/ sends one Note per choice to the
    poll's author, as Mastodon does."""
    post = await post_rules.check_vote(conn, voter, post_id)
    poll = await polls.get_poll(conn, post.id, for_update=True)
    if poll is None:
        raise NotFound("That post has no poll.")
    if poll.expired(now):
        raise Invalid("The poll has already ended.")
    wanted = sorted(set(choices))
    if not wanted:
        raise Invalid("Choose an option of the poll.")
    if any(choice < 0 or choice >= len(poll.options) for choice in wanted):
        raise Invalid("The chosen option does not exist.")
    if len(wanted) > 1 and not poll.multiple:
        raise Invalid("This poll takes one choice only.")
    earlier = await polls.list_own_choices(conn, post.id, voter.id)
    if earlier and (not poll.multiple or set(earlier) & set(wanted)):
        raise Invalid("You have already voted on this poll.")
    votes = [(choice, vote_id) for choice in wanted
             if (vote_id := await polls.insert_vote(conn, post.id, voter.id, choice, now, uri)) is not None]
    author = await accounts.get_account(conn, post.account_id)
    if author is not None and author.is_local:
        # Hidden totals are not sent before the end, so there is nothing to update until then.
        due = None if poll.hide_totals else now + timedelta(seconds=max(settings.poll_update_seconds, 0))
        poll = await polls.update_counts_from_votes(conn, post.id, now, due)
    else:
        poll = await polls.add_own_votes(conn, post.id, wanted, not earlier, now)
        for choice, vote_id in votes if voter.is_local else ():
            await events.record_event(conn, "poll.voted", post.id, voter.id, now,
                                      {"vote_id": vote_id, "choice": choice})
    await streams.publish(conn, streams.POST_EDITED, post.id)
    return poll


async def close_due_polls(conn: asyncpg.Connection, now: datetime) -> int:
    """Close the polls whose time is up: their local voters and local author hear it (`poll`), and other servers
    get the final counts of ours."""
    closed = await polls.claim_due_closures(conn, now)
    for poll in closed:
        post = await posts.get_post(conn, poll.post_id)
        author = await accounts.get_account(conn, post.account_id) if post else None
        if post is None or author is None or not visibility.is_published(post):
            continue  # deleted, or never out: nobody voted, nothing to tell
        told = await polls.list_voter_ids(conn, poll.post_id) + ([author.id] if author.is_local else [])
        for account_id in dict.fromkeys(told):
            await notifications.insert_notification(conn, account_id=account_id, type="poll",
                                                    from_account_id=author.id, post_id=post.id, now=now)
        if author.is_local:
            await events.record_event(conn, "poll.updated", post.id, author.id, now, {"closed": True})
        await streams.publish(conn, streams.POST_EDITED, post.id)
    return len(closed)


async def send_due_updates(conn: asyncpg.Connection, now: datetime) -> int:
    """The debounced Updates of our polls whose counts changed (a closed poll's went out when it closed)."""
    due = await polls.claim_due_updates(conn, now)
    for poll in due:
        post = await posts.get_post(conn, poll.post_id)
        if post is not None and visibility.is_published(post) and poll.closed_at is None:
            await events.record_event(conn, "poll.updated", post.id, post.account_id, now)
    return len(due)


async def run_poll_job(deps: Deps) -> int:
    """The worker's step: close due polls, then send due Updates; any number of workers may run it at once."""
    async with transaction(deps.pool) as conn:
        done = await close_due_polls(conn, deps.now())
        done += await send_due_updates(conn, deps.now())
    return done
