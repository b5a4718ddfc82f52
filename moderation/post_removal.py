"""A moderator removes someone else's post: the one implementation behind the moderators' page (and any later
interface), so every removal is checked, audited, told to the author and federated alike.

Owns: what a removal does, in the caller's transaction. The post is deleted as its author's own deletion would
be, so the Delete that other servers receive comes from the author's actor, signed with the author's key, to the
author's audience (a moderator's actor cannot delete another actor's object, and receivers rightly refuse it).
The moderator's name and reason go to the audit log with a copy of the removed text, and the author gets a
warning (`delete_statuses`, Mastodon's name) with the reason. A remote post is removed here only: its own server
keeps it, as on Mastodon.
Never: decides who may remove what (server/post_rules.py: check_remove) or SQL of its own.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from moderation import reports
from server import accounts, audit, events, post_rules, posts
from server.accounts import Account
from server.errors import Invalid, NotFound
from server.posts import Post

MAX_REASON = 5000


async def removable(conn: asyncpg.Connection, moderator: Account, post_id: int) -> tuple[Post, Account]:
    """The post and its author when this moderator may remove it; the page asks before showing the form."""
    post = await posts.get_post(conn, post_id)
    author = await accounts.get_account(conn, post.account_id) if post else None
    if post is None or author is None:
        raise NotFound("That post does not exist.")
    post_rules.check_remove(moderator, post, author)
    return post, author


async def remove_post(conn: asyncpg.Connection, moderator: Account, post_id: int, *, reason: str,
                      now: datetime) -> Post:
    reason = reason.strip()
    if not reason:
        raise Invalid("Give a reason: the author is told why the post was removed.")
    if len(reason) > MAX_REASON:
        raise Invalid("The reason is too long: at most %(n)d characters.", n=MAX_REASON)
    post, author = await removable(conn, moderator, post_id)
    await posts.delete_post(conn, post.id, now)
    if author.is_local:
        await events.record_event(conn, "post.deleted", post.id, author.id, now)
        await reports.insert_warning(conn, account_id=author.id, moderator_id=moderator.id, report_id=None,
                                     action="delete_statuses", text=reason, now=now)
    await audit.record(conn, actor_id=moderator.id, action="post.removed", subject_type="post", subject_id=post.id,
                       detail={"author": author.acct, "account_id": author.id, "reason": reason,
                               "text": post.source_text or post.content_html, "spoiler_text": post.spoiler_text,
                               "visibility": post.visibility, "federated": author.is_local}, now=now)
    return post
