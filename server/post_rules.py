"""Who may do what with a post: one function per action, asked alike by the web pages, the client API, the CLI and
the inbound handlers of federation/.

Owns: the decision for reply, boost, like (favourite), edit, delete by the author, removal by a moderator
and a reviewer's decision. Each raises a DomainError with the reason, or returns the post to act on. Seeing comes
first and is server/visibility.py's rule: a post the actor may not see is answered as if it did not exist.
Never: writes, audits or records outbox events (the caller does that in its transaction: server/publishing.py for
people's actions, moderation/post_removal.py for moderators', federation/inbound/ for remote actors).

| action | who | what else |
|---|---|---|
| reply, like | whoever sees it | published (not held, rejected, draft or scheduled), not a boost |
| boost | whoever sees it | published, public or unlisted, not a boost |
| vote in a poll | whoever sees it, not its author | published, not a boost (the poll's own rules: server/voting.py) |
| quote | whoever sees it and the author's quote policy admits | published, not a boost, not followers-only or direct |
| bookmark | whoever sees it | a boost stands for the post it boosts, as Mastodon bookmarks the original |
| mute a conversation | whoever sees it | as bookmark; the mute covers the post's whole thread (server/conversation_mutes.py) |
| pin | the author | published, public, unlisted or followers-only, not a boost; at most 5 (server/pins.py counts) |
| edit, delete | the author | not a boost; an edit of a held or rejected post sends it back to review |
| remove | an admin or moderator | not their own post, not a post of an admin or moderator; audited, author told |
| approve, reject | a reviewer or org admin of the author's organisation, or an instance admin | held; not the author |
"""

from __future__ import annotations

import asyncpg

from server import quotes, visibility
from server.accounts import Account
from server.errors import Forbidden, Invalid, NotFound
from server.posts import Post

NOT_SEEN = "That post does not exist or is not visible to you."


async def _seen(conn: asyncpg.Connection, actor: Account, post_id: int) -> Post:
    post = await visibility.get_visible_post(conn, post_id, actor.id)
    if post is None or post.reblog_of_id is not None:
        raise NotFound(NOT_SEEN)
    return post


def _published(post: Post) -> None:
    if post.state != visibility.PUBLISHED:
        raise Invalid("This post is not published: it waits for a reviewer or was not approved, so it cannot be "
                      "boosted, liked or replied to.")


async def check_reply(conn: asyncpg.Connection, actor: Account, post_id: int) -> Post:
    post = await _seen(conn, actor, post_id)
    _published(post)
    return post


async def check_favourite(conn: asyncpg.Connection, actor: Account, post_id: int) -> Post:
    post = await _seen(conn, actor, post_id)
    _published(post)
    return post


async def check_boost(conn: asyncpg.Connection, actor: Account, post_id: int) -> Post:
    post = await _seen(conn, actor, post_id)
    _published(post)
    if post.visibility not in ("public", "unlisted"):
        raise Forbidden("Only public and unlisted posts can be boosted.")
    return post


async def check_bookmark(conn: asyncpg.Connection, actor: Account, post_id: int) -> Post:
    post = await visibility.get_visible_post(conn, post_id, actor.id)
    if post is not None and post.reblog_of_id is not None:
        post = await visibility.get_visible_post(conn, post.reblog_of_id, actor.id)
    if post is None:
        raise NotFound(NOT_SEEN)
    return post


async def check_mute(conn: asyncpg.Connection, actor: Account, post_id: int) -> Post:
    """Muting a conversation: of any post the actor sees (a boost stands for the post it boosts)."""
    return await check_bookmark(conn, actor, post_id)


async def check_pin(conn: asyncpg.Connection, actor: Account, post_id: int) -> Post:
    """Mastodon's StatusPinValidator: one's own post, not a boost, not direct; ours must also be published."""
    post = await _seen(conn, actor, post_id)
    if post.account_id != actor.id:
        raise Invalid("You can only pin your own posts.")
    if post.state != visibility.PUBLISHED:
        raise Invalid("This post is not published: it waits for a reviewer or was not approved, so it cannot be "
                      "pinned.")
    if post.visibility == "direct":
        raise Invalid("Direct posts cannot be pinned.")
    return post


async def check_quote(conn: asyncpg.Connection, actor: Account, post_id: int) -> Post:
    """A quote needs what a boost needs (seen, published, not a boost) and the author's quote policy
    (server/quotes.py: public, followers or nobody; never a followers-only or direct post)."""
    post = await _seen(conn, actor, post_id)
    _published(post)
    policy = await quotes.get_policy(conn, post)
    follows_author = bool(await quotes.list_followed_authors(conn, actor.id, [post.account_id]))
    if quotes.decide(policy, post, actor.id, follows_author=follows_author) != "automatic":
        raise Forbidden("The author does not allow you to quote this post.")
    return post


async def check_vote(conn: asyncpg.Connection, actor: Account, post_id: int) -> Post:
    """Mastodon's VoteValidator refuses a vote in one's own poll (`self_vote`)."""
    post = await _seen(conn, actor, post_id)
    if post.state != visibility.PUBLISHED:
        raise Invalid("This post is not published: it waits for a reviewer or was not approved, so its poll cannot "
                      "be voted in.")
    if post.account_id == actor.id:
        raise Invalid("You cannot vote in your own poll.")
    return post


def check_edit(actor: Account, post: Post) -> None:
    if post.reblog_of_id is not None or post.deleted_at is not None:
        raise NotFound("That post does not exist.")
    if post.account_id != actor.id:
        raise Forbidden("You can only change your own posts.")
    if post.state != "published" and post.organisation_id is not None and actor.organisation_id != post.organisation_id:
        raise Invalid("You left the organisation whose reviewers were to approve this post, so it can no longer be "
                      "published. Delete it, or write it again.")


def check_delete(actor: Account, post: Post) -> None:
    """An author deletes their own post; a moderator removes someone else's through check_remove, with a reason."""
    if post.reblog_of_id is not None or post.deleted_at is not None:
        raise NotFound("That post does not exist.")
    if post.account_id != actor.id:
        raise Forbidden("You can only delete your own posts. Moderators remove posts on the moderation page, "
                        "with a reason.")


def check_remove(moderator: Account, post: Post, author: Account) -> None:
    """Moderators remove others' posts; never their own (they delete those), nor posts of admins or other
    moderators of this node, as they cannot act on those accounts either (docs/security.md)."""
    if not moderator.may_moderate:
        raise Forbidden("Only moderators can do this.")
    if post.reblog_of_id is not None or post.deleted_at is not None:
        raise NotFound("That post does not exist.")
    if author.id == moderator.id:
        raise Invalid("This is your own post: delete it yourself.")
    if author.is_local and (author.is_admin or author.is_moderator):
        raise Forbidden("A post of an admin or moderator cannot be removed by a moderator.")


def check_review(reviewer: Account, post: Post, author: Account) -> None:
    if post.state != "held" or post.deleted_at is not None:
        raise NotFound("There is no held post with that id.")
    if not visibility.may_review(reviewer, author):
        raise Forbidden("Only a reviewer of the author's organisation, not the author, may decide on this post.")
    if post.written_by_id is not None and post.written_by_id == reviewer.id:
        # A post of the organisation's account (webcare) was written by a person: four eyes hold for them too.
        raise Forbidden("Only a reviewer of the author's organisation, not the author, may decide on this post.")
