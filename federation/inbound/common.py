"""What the handlers share: our own objects by their URIs, and asking server/post_rules.py on a remote actor's
behalf."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

import asyncpg

from server import accounts, posts
from server.accounts import Account
from server.config import Settings
from server.errors import DomainError
from server.posts import Post

PostRule = Callable[[asyncpg.Connection, Account, int], Awaitable[Post]]


def local_username(settings: Settings, actor_uri: str) -> str | None:
    prefix = f"{settings.base_url}/users/"
    if not actor_uri.startswith(prefix):
        return None
    rest = actor_uri[len(prefix):]
    return rest if rest and "/" not in rest and "#" not in rest else None


async def local_account(conn: asyncpg.Connection, settings: Settings, actor_uri: str | None) -> Account | None:
    username = local_username(settings, actor_uri or "")
    return await accounts.get_account_by_username(conn, username) if username else None


async def post_by_uri(conn: asyncpg.Connection, settings: Settings, uri: str | None) -> Post | None:
    """One of our posts (by its status URI or page URL), or a remote post we stored."""
    if not uri:
        return None
    pattern = re.escape(settings.base_url) + r"/(?:users/([A-Za-z0-9_]+)/statuses|@([A-Za-z0-9_]+))/(\d{1,19})$"
    match = re.match(pattern, uri)
    if match:
        post = await posts.get_post(conn, int(match.group(3)))
        author = await accounts.get_account(conn, post.account_id) if post else None
        if post and author and author.username.lower() == (match.group(1) or match.group(2)).lower():
            return post
        return None
    return await posts.get_post_by_uri(conn, uri)


async def allowed_by(conn: asyncpg.Connection, rule: PostRule, actor: Account, post_id: int) -> bool:
    """Whether a remote actor may do what `rule` (one of server/post_rules.py's checks) decides, as a person here
    would be asked. A refusal is dropped silently, as Mastodon drops it, so the sender learns nothing of a post
    it may not see or that is not published yet."""
    try:
        await rule(conn, actor, post_id)
    except DomainError:
        return False
    return True
