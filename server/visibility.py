"""Who may see a post: the one rule every read path applies, for people here and remote actors alike.

Owns: the visibility rule, written once as an SQL predicate (`visible_sql`) and the lookups built on it
(`get_visible_post`, `visible_ids`, `is_visible`). The rule, for a viewer (an account here, a remote account known
by its signature, or nobody) and a post:

- a deleted post is seen by no one;
- the author sees their own post in every state (published, held, rejected, and later drafts and scheduled posts);
- a held or rejected post is seen besides only by those who may review it (`may_review`: a reviewer or
  organisation admin of the author's organisation, or an instance admin; never the author);
- every other state is the author's alone;
- a published post is seen when the moderators' limits allow it (nothing of a suspended author or by a suspended
  viewer; a silenced author only by followers and the mentioned), its author does not block the viewer, and its
  visibility admits the viewer: public and unlisted for everyone, followers-only for accepted followers, direct
  (and any post) for the accounts it mentions;
- a boost is seen only when the boosted post is seen too.

A remote server's domain policy reaches the rule through its accounts: a suspended domain's accounts are
suspended or purged (moderation/domain_blocks.py), and the inbox and authorized fetch refuse its requests before
any rule is asked.
Never: writes, or decides what someone may do with a post they see (server/post_rules.py does).
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from server import posts, relationships
from server.accounts import Account
from server.posts import Post

PUBLISHED = "published"
# States in which a post waits for, or was stopped by, the organisation's reviewers (server/publishing.py).
UNDER_REVIEW = ("held", "rejected")


def is_published(post: Post) -> bool:
    """Whether the post went out (or may go out) to anyone but its author and reviewers."""
    return post.state == PUBLISHED


def may_review(reviewer: Account, author: Account) -> bool:
    """Four eyes: a reviewer or organisation admin of the author's organisation (or an instance admin), never the
    author. Its SQL twin is `_reviewer_sql` below (held posts in the rule); tests/security/test_visibility_rule.py
    checks the SQL against the specification."""
    if reviewer.id == author.id or not reviewer.is_local or not reviewer.is_active:
        return False
    if reviewer.is_admin:
        return True
    return reviewer.organisation_id is not None and reviewer.organisation_id == author.organisation_id \
        and reviewer.org_role in ("reviewer", "org_admin")


def _reviewer_sql(post: str, viewer: str) -> str:
    return f"""EXISTS (SELECT 1 FROM accounts rv JOIN accounts ra ON ra.id = {post}.account_id
      WHERE rv.id = {viewer} AND rv.id <> ra.id AND rv.domain IS NULL AND rv.disabled_at IS NULL
        AND rv.suspended_at IS NULL AND (rv.is_admin OR (rv.organisation_id = ra.organisation_id
        AND rv.org_role IN ('reviewer', 'org_admin'))))"""


def _published_sql(post: str, viewer: str) -> str:
    """The audience of a published post, with the moderators' limits and the author's blocks."""
    follows_author = (f"EXISTS (SELECT 1 FROM follows vf WHERE vf.follower_id = {viewer} "
                      f"AND vf.followed_id = {post}.account_id AND vf.state = 'accepted')")
    mentioned = f"EXISTS (SELECT 1 FROM post_mentions vm WHERE vm.post_id = {post}.id AND vm.account_id = {viewer})"
    return f"""({post}.state = '{PUBLISHED}'
      AND NOT EXISTS (SELECT 1 FROM accounts pa WHERE pa.id = {post}.account_id AND (pa.suspended_at IS NOT NULL
          OR (pa.silenced_at IS NOT NULL AND NOT {follows_author} AND NOT {mentioned})))
      AND NOT EXISTS (SELECT 1 FROM accounts sv WHERE sv.id = {viewer} AND sv.suspended_at IS NOT NULL)
      AND NOT {relationships.blocks_sql(f'{post}.account_id', viewer)}
      AND ({post}.visibility IN ('public', 'unlisted')
           OR ({post}.visibility = 'private' AND {follows_author})
           OR {mentioned}))"""


def _own_rule(post: str, viewer: str) -> str:
    return f"""({post}.deleted_at IS NULL AND ({post}.account_id = {viewer}
      OR {_published_sql(post, viewer)}
      OR ({post}.state IN {UNDER_REVIEW!r} AND {_reviewer_sql(post, viewer)})))"""


def visible_sql(post: str = "p", viewer: str = "$1") -> str:
    """The rule as an SQL condition on the posts row `post` for the viewer's account id `viewer` (an SQL
    expression: a parameter such as `$1`, NULL for nobody, or a column)."""
    original = f"{post}_rb"
    return f"""({_own_rule(post, viewer)} AND ({post}.reblog_of_id IS NULL OR EXISTS (
      SELECT 1 FROM posts {original} WHERE {original}.id = {post}.reblog_of_id
        AND {_own_rule(original, viewer)})))"""


async def visible_ids(conn: asyncpg.Connection, post_ids: Sequence[int], viewer_id: int | None) -> set[int]:
    """Those of `post_ids` the viewer may see."""
    if not post_ids:
        return set()
    rows = await conn.fetch(f"SELECT p.id FROM posts p WHERE p.id = ANY($2::bigint[]) AND {visible_sql()}",
                            viewer_id, list(post_ids))
    return {r["id"] for r in rows}


async def is_visible(conn: asyncpg.Connection, post_id: int, viewer_id: int | None) -> bool:
    return bool(await visible_ids(conn, [post_id], viewer_id))


async def get_visible_post(conn: asyncpg.Connection, post_id: int, viewer_id: int | None) -> Post | None:
    """The post when the viewer may see it; otherwise None, exactly as if it did not exist."""
    return await posts.get_post(conn, post_id) if await is_visible(conn, post_id, viewer_id) else None


async def exists_visible_to_domain(conn: asyncpg.Connection, post_id: int, domain: str) -> bool:
    """Whether anyone of the remote server `domain` may see the post: a report from that server's instance actor
    may point at posts its people saw, which the instance actor itself follows no one to see."""
    return bool(await conn.fetchval(
        f"""SELECT EXISTS (SELECT 1 FROM posts p WHERE p.id = $1 AND ({visible_sql('p', 'NULL')}
              OR EXISTS (SELECT 1 FROM accounts d WHERE d.domain = $2 AND {visible_sql('p', 'd.id')})))""",
        post_id, domain.lower()))
