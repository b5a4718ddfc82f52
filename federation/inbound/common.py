"""Lookups the handlers share: our own objects by their URIs."""

from __future__ import annotations

import re

import asyncpg

from server import accounts, posts
from server.accounts import Account
from server.config import Settings
from server.posts import Post


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
