"""What a viewer sees, and in what order: home, public, profile, hashtag, organisation, search and thread
timelines, and `hydrate`, which turns post ids into what pages and the API show.

Owns: the read queries over posts, follows and favourites, each applying server/visibility.py's rule (who may see
a post at all), with the viewer's own mutes and blocks (relationships.py) and replies hidden from threads
(hidden_replies.py) left out where Mastodon leaves them out. `hydrate` applies the rule once more, so a read path
that found ids some other way still shows nothing the viewer may not see.
Never: writes anything, or decides visibility itself.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import asyncpg

from server import (accounts, badges, hidden_replies, lists, media, organisations, posts, profiles, relationships,
                    trust, visibility, voice)
from server import bookmarks, conversation_mutes, pins, polls, quotes, tags
from server.accounts import Account
from server.ids import id_floor
from server.organisations import Organisation
from server.posts import Post

MAX_LIMIT = 40
DEFAULT_LIMIT = 20

# $1 is always the viewer's account id, or NULL for someone not signed in. Who may see a post at all is
# server/visibility.py's rule; this module adds only the viewer's own filters.
_VISIBLE = visibility.visible_sql("p", "$1")
# The viewer's own filter on timelines and threads: nothing written or boosted by an account they mute or block
# or that blocks them, nor boosts of such an account's posts. Profiles apply only the blocks (Mastodon still
# shows a muted account's posts on its profile).
#
# A test on another row of posts (the boosted post, the parent) is written as a scalar subquery on its primary key,
# never as EXISTS: PostgreSQL may plan an EXISTS under OR as a hash of every row that matches, which reads the
# whole posts table (tests/integration/test_query_plans.py holds each path to an index).
def _author_of(column: str, extra: str = "") -> str:
    """The author of the post `column` names (0 when there is none), by its primary key."""
    return f"coalesce((SELECT op.account_id FROM posts op WHERE op.id = {column}{extra}), 0)"


def _not_filtered(viewer: str) -> str:
    return f"""p.account_id NOT IN {relationships.hidden_accounts_sql(viewer)}
  AND (p.reblog_of_id IS NULL OR {_author_of('p.reblog_of_id')} NOT IN {relationships.hidden_accounts_sql(viewer)})"""


_NOT_FILTERED = _not_filtered("$1")
_NOT_BLOCKED = f"""p.account_id NOT IN {relationships.blocked_accounts_sql('$1')}
  AND (p.reblog_of_id IS NULL OR {_author_of('p.reblog_of_id')} NOT IN {relationships.blocked_accounts_sql('$1')})"""
# Replies the thread's author hid (with the replies below them) leave the thread, except for the one who hid them
# and their author.
_NOT_HIDDEN_REPLY = f"NOT {hidden_replies.hidden_for_sql('p.id', 'p.account_id', '$1')}"


@dataclass(frozen=True)
class Page:
    """Mastodon-style bounds: ids below max_id, above since_id or min_id (min_id pages forward)."""

    max_id: int | None = None
    since_id: int | None = None
    min_id: int | None = None
    limit: int = DEFAULT_LIMIT

    def clamp(self) -> Page:
        return Page(self.max_id, self.since_id, self.min_id, max(1, min(self.limit, MAX_LIMIT)))


@dataclass(frozen=True)
class PostView:
    """A post with everything a page or an API entity shows about it."""

    post: Post
    author: Account
    organisation: Organisation | None  # the organisation an official-voice post speaks for
    author_organisation: Organisation | None  # the organisation the author belongs to
    reblog: PostView | None = None
    in_reply_to_account: Account | None = None
    tags: tuple[str, ...] = ()
    replies_count: int = 0
    reblogs_count: int = 0
    favourites_count: int = 0
    favourited: bool = False
    reblogged: bool = False
    bookmarked: bool = False  # by the viewer
    pinned: bool = False  # by the viewer, on their own profile
    muted: bool = False  # the viewer muted its conversation
    mentions: tuple[Account, ...] = field(default_factory=tuple)
    attachments: tuple[media.Attachment, ...] = field(default_factory=tuple)
    badge: badges.Badge | None = None  # the author's badge, when it is valid today
    # A remote official post's organisation is shown as verified only when its node is a trusted issuer, as
    # badges are (server/trust.py); otherwise as a claim. Local official posts are ours, so verified.
    voice_verified: bool = True
    # The logo and house colour of the organisation an official-voice post speaks for (its own account's profile).
    organisation_profile: profiles.Profile | None = None
    poll: polls.PollView | None = None  # the post's poll, with the viewer's own votes
    # Only from hydrate(with_quoted=True): the quote of one of our posts that this post makes (server/quotes.py),
    # the quoted post as the viewer may see it (None when they may not, or it is gone or revoked), and whether it
    # is gone (deleted, or never stored).
    quote: quotes.Quote | None = None
    quoted: PostView | None = None
    quoted_gone: bool = False

    @property
    def shown(self) -> PostView:
        """The post a reader sees: the boosted one for a boost."""
        return self.reblog or self


def _bounds(page: Page, first_param: int, column: str = "p.id") -> tuple[str, list[object], str]:
    """SQL conditions on `column` and order for a page; parameters are numbered from first_param."""
    conditions: list[str] = []
    params: list[object] = []
    for op, value in (("<", page.max_id), (">", page.since_id), (">", page.min_id)):
        if value is not None:
            params.append(value)
            conditions.append(f"{column} {op} ${first_param + len(params) - 1}")
    order = "ASC" if page.min_id is not None else "DESC"
    return (" AND " + " AND ".join(conditions)) if conditions else "", params, order


async def _page_ids(conn: asyncpg.Connection, viewer_id: int | None, where: str, params: Sequence[object],
                    page: Page, join: str = "") -> list[int]:
    page = page.clamp()
    bounds, bound_params, order = _bounds(page, 2 + len(params))
    sql = (f"SELECT p.id FROM posts p {join} WHERE p.deleted_at IS NULL AND {_VISIBLE} AND ({where}){bounds} "
           f"ORDER BY p.id {order} LIMIT {page.limit}")
    ids = [r["id"] for r in await conn.fetch(sql, viewer_id, *params, *bound_params)]
    return sorted(ids, reverse=True)


# A source of candidates for _page_ids_from: SQL giving the first `k` ids (one column, no duplicates) in the page's
# order within `bound(column)` (the page's conditions on that column), each branch an index read with LIMIT `k`.
Sources = Callable[[Callable[[str], str], str, int], str]


# The first window of ids a home or list page looks in (server/ids.py: milliseconds << 16), and how much it grows
# while it finds too little: an hour, then 8 hours, 2.7 days, 3 weeks, ...; a busy timeline fills a page from the
# first, a quiet one needs a few more short rounds.
_FIRST_WINDOW = 3_600_000 << 16
_WINDOW_GROWTH = 8


async def _page_ids_from(conn: asyncpg.Connection, viewer_id: int | None, where: str, params: Sequence[object],
                         page: Page, sources: Sources) -> list[int]:
    """The page `_page_ids(where)` gives, found through `sources` instead of reading posts in id order: every post
    `where` admits must come from one of them (a followed account's posts, a list member's, a mention, a followed
    tag). Each round takes the first 2 x limit candidates of all sources within a window of ids and applies the
    whole condition to them; when too few pass, the next round goes on after the last candidate (or below the
    window, with a wider one). The rounds cover the ids in order without a gap, so the page is exactly the one
    reading all posts would give; a page costs a few short index reads per source, however many posts the node
    holds or how rare the viewer's are. Newer-than pages (min_id) go up from min_id without windows."""
    page = page.clamp()
    k = 2 * page.limit
    found: list[int] = []
    descending = page.min_id is None
    span, upper, lower = _FIRST_WINDOW, page.max_id, None
    current = page
    while True:
        if descending:
            if lower is None:
                top = upper if upper is not None else id_floor(datetime.now(timezone.utc))
                lower = top - span if page.since_id is None else max(page.since_id, top - span)
            current = Page(upper, lower, None, page.limit)
        bounds, bound_params, order = _bounds(current, 2 + len(params), "{column}")
        candidates = sources(lambda column: bounds.replace("{column}", column), order, k)
        row = await conn.fetchrow(
            f"""WITH cand AS MATERIALIZED (SELECT c.id FROM ({candidates}) c(id) ORDER BY c.id {order} LIMIT {k})
                SELECT (SELECT count(*) FROM cand) AS n, (SELECT {'max' if order == 'ASC' else 'min'}(id) FROM cand)
                       AS edge,
                       ARRAY(SELECT p.id FROM cand JOIN posts p ON p.id = cand.id
                             WHERE p.deleted_at IS NULL AND {_VISIBLE} AND ({where}) ORDER BY p.id {order}) AS ids""",
            viewer_id, *params, *bound_params)
        found.extend(row["ids"])
        if len(found) >= page.limit:
            return sorted(found[:page.limit], reverse=True)
        if row["n"] == k:  # more candidates in this window (or above min_id): go on after the last one
            if descending:
                upper = row["edge"]
            else:
                current = Page(page.max_id, None, row["edge"], page.limit)
            continue
        if not descending or lower <= (page.since_id if page.since_id is not None else 0):
            return sorted(found, reverse=True)  # every candidate down to the page's floor was read
        upper, lower, span = lower + 1, None, span * _WINDOW_GROWTH


def _latest_of_accounts(accounts_sql: str) -> Sources:
    """Candidates: the latest posts of each account `accounts_sql` (a query of account ids) names."""
    def sources(bound: Callable[[str], str], order: str, k: int) -> str:
        return (f"(SELECT x.id FROM {accounts_sql} s(account_id) CROSS JOIN LATERAL (SELECT p.id FROM posts p "
                f"WHERE p.account_id = s.account_id AND p.deleted_at IS NULL{bound('p.id')} "
                f"ORDER BY p.id {order} LIMIT {k}) x ORDER BY x.id {order} LIMIT {k})")
    return sources


def _home_sources(viewer: str) -> Sources:
    """Where a home timeline's posts come from, as _home_sql admits them: the viewer's own, the accounts they
    follow, posts that mention them, and posts with a tag they follow."""
    # Followed accounts whose posts home leaves out anyway (muted, blocked, on an exclusive list) give none.
    accounts = _latest_of_accounts(
        f"(SELECT ({viewer})::bigint UNION ALL SELECT followed_id FROM follows WHERE follower_id = {viewer} "
        f"AND state = 'accepted' AND followed_id NOT IN {relationships.hidden_accounts_sql(viewer)} "
        f"AND followed_id NOT IN {lists.exclusive_members_sql(viewer)})")

    def sources(bound: Callable[[str], str], order: str, k: int) -> str:
        return (f"{accounts(bound, order, k)} UNION (SELECT m.post_id FROM post_mentions m "
                f"WHERE m.account_id = {viewer}{bound('m.post_id')} ORDER BY m.post_id {order} LIMIT {k}) "
                f"UNION (SELECT x.post_id FROM followed_tags ft CROSS JOIN LATERAL (SELECT t.post_id "
                f"FROM post_tags t WHERE t.tag = ft.tag{bound('t.post_id')} ORDER BY t.post_id {order} LIMIT {k}) x "
                f"WHERE ft.account_id = {viewer} ORDER BY x.post_id {order} LIMIT {k})")
    return sources


# Home leaves out, besides what _NOT_FILTERED does, a post that answers or names someone the viewer mutes or blocks
# (Mastodon's home feed filter), unless the viewer wrote it.
def _not_about_hidden(viewer: str) -> str:
    return f"""(p.account_id = {viewer} OR (
  (p.in_reply_to_id IS NULL
   OR {_author_of('p.in_reply_to_id', ' AND op.account_id <> p.account_id')} NOT IN {relationships.hidden_accounts_sql(viewer)})
  AND NOT coalesce((SELECT true FROM post_mentions hm WHERE hm.post_id = p.id
      AND hm.account_id IN {relationships.hidden_accounts_sql(viewer)} LIMIT 1), false)))"""


# What puts a post in a timeline for the viewer `viewer` (an SQL expression: `$1` for the reads below, a column
# for live_audience), besides the visibility rule. One definition each, so a streamed timeline holds exactly what
# the read of that timeline would.
def _home_sql(viewer: str) -> str:
    where = (f"p.account_id = {viewer} OR p.account_id IN (SELECT followed_id FROM follows WHERE follower_id = "
             f"{viewer} AND state = 'accepted') "
             f"OR EXISTS (SELECT 1 FROM post_mentions m WHERE m.post_id = p.id AND m.account_id = {viewer}) "
             # Followed hashtags: public posts that are not boosts, as Mastodon's fan-out to tag followers.
             f"OR (p.visibility = 'public' AND p.reblog_of_id IS NULL AND {tags.followed_tag_sql('p.id', viewer)})")
    # Members of the viewer's exclusive lists show in those lists instead (Mastodon 4.2's exclusive lists).
    return (f"({where}) AND {_not_filtered(viewer)} AND {_not_about_hidden(viewer)} "
            f"AND p.account_id NOT IN {lists.exclusive_members_sql(viewer)}")


def _list_sql(viewer: str, list_id: str) -> str:
    """A list's timeline for its owner `viewer`: its members' posts and boosts (not direct ones), replies as the
    list's replies_policy admits them (to the members, to anyone the owner follows, or none; a reply to oneself
    always), with home's own filters."""
    parent = "(SELECT ip.account_id FROM posts ip WHERE ip.id = p.in_reply_to_id)"
    policy = lists.replies_policy_sql(list_id)
    followed = f"(SELECT followed_id FROM follows WHERE follower_id = {viewer} AND state = 'accepted')"
    replies = (f"(p.in_reply_to_id IS NULL OR {parent} = p.account_id "
               f"OR ({policy} = 'followed' AND ({parent} = {viewer} OR {parent} IN {followed})) "
               f"OR ({policy} = 'list' AND {parent} IN {lists.members_sql(list_id)}))")
    return (f"{lists.owner_sql(list_id)} = {viewer} AND p.account_id IN {lists.members_sql(list_id)} "
            f"AND p.visibility <> 'direct' AND {replies} AND {_not_filtered(viewer)} AND {_not_about_hidden(viewer)}")


def _public_sql(viewer: str) -> str:
    return f"p.visibility = 'public' AND p.reblog_of_id IS NULL AND {_not_filtered(viewer)}"


def _tag_sql(viewer: str) -> str:
    """The tag timeline without the tag itself (tag_ids adds it; a live audience is asked for a post's tags)."""
    return f"p.visibility = 'public' AND {_not_filtered(viewer)}"


def _direct_sql(viewer: str) -> str:
    """Direct posts the viewer wrote or is mentioned in (the streaming API's `direct` stream)."""
    return (f"p.visibility = 'direct' AND (p.account_id = {viewer} OR EXISTS (SELECT 1 FROM post_mentions dm "
            f"WHERE dm.post_id = p.id AND dm.account_id = {viewer})) AND {_not_filtered(viewer)}")


async def home_ids(conn: asyncpg.Connection, viewer_id: int, page: Page) -> list[int]:
    return await _page_ids_from(conn, viewer_id, _home_sql("$1"), [], page, _home_sources("$1"))


async def list_ids(conn: asyncpg.Connection, viewer_id: int, list_id: int, page: Page) -> list[int]:
    return await _page_ids_from(conn, viewer_id, _list_sql("$1", "$2"), [list_id], page,
                                _latest_of_accounts("(SELECT la.account_id FROM list_accounts la JOIN lists l "
                                                    "ON l.id = la.list_id WHERE la.list_id = $2 AND l.account_id = $1)"))


def _origin_and_media(local: bool, remote: bool, only_media: bool) -> str:
    """Mastodon's `local` (this node's posts), `remote` (other servers') and `only_media` (posts with images) as
    extra conditions; `local` and `remote` together leave nothing, as on Mastodon."""
    return ((" AND p.uri IS NULL" if local else "") + (" AND p.uri IS NOT NULL" if remote else "")
            + (f" AND {media.attached_sql('p.id')}" if only_media else ""))


async def public_ids(conn: asyncpg.Connection, viewer_id: int | None, page: Page, *, local: bool = False,
                     remote: bool = False, only_media: bool = False) -> list[int]:
    return await _page_ids(conn, viewer_id, _public_sql("$1") + _origin_and_media(local, remote, only_media), [],
                           page)


async def local_public_ids(conn: asyncpg.Connection, viewer_id: int | None, page: Page) -> list[int]:
    return await public_ids(conn, viewer_id, page, local=True)


async def account_ids(conn: asyncpg.Connection, viewer_id: int | None, account_id: int, page: Page, *,
                      exclude_replies: bool = False, exclude_reblogs: bool = False,
                      tagged: str | None = None, only_media: bool = False) -> list[int]:
    where = f"p.account_id = $2 AND p.visibility <> 'direct' AND {_NOT_BLOCKED}"
    where += _origin_and_media(False, False, only_media)
    params: list[object] = [account_id]
    if exclude_replies:
        where += f" AND (p.in_reply_to_id IS NULL OR {_author_of('p.in_reply_to_id')} = p.account_id)"
    if exclude_reblogs:
        where += " AND p.reblog_of_id IS NULL"
    if tagged:
        params.append(tagged.lower())
        where += " AND EXISTS (SELECT 1 FROM post_tags t WHERE t.post_id = p.id AND t.tag = $3)"
    return await _page_ids(conn, viewer_id, where, params, page)


async def favourited_ids(conn: asyncpg.Connection, viewer_id: int, page: Page) -> list[int]:
    where = "EXISTS (SELECT 1 FROM favourites f WHERE f.post_id = p.id AND f.account_id = $1)"
    return await _page_ids(conn, viewer_id, where, [], page)


async def bookmarked_ids(conn: asyncpg.Connection, viewer_id: int, page: Page) -> list[int]:
    """The viewer's bookmarks, paged by post id (Mastodon pages by the bookmark's id; apps follow the Link
    header either way)."""
    return await _page_ids(conn, viewer_id, bookmarks.bookmarked_sql("p.id", "$1"), [], page)


async def pinned_ids(conn: asyncpg.Connection, viewer_id: int | None, account_id: int) -> list[int]:
    """The account's pinned posts the viewer may see, newest pin first (a profile's `pinned=true`, and the
    `featured` collection)."""
    found = set(await _page_ids(conn, viewer_id, f"p.account_id = $2 AND {pins.pinned_sql('p.id', '$2')} "
                                f"AND {_NOT_BLOCKED}", [account_id], Page(limit=MAX_LIMIT)))
    return [i for i in await pins.list_pinned_post_ids(conn, account_id) if i in found]


async def tag_ids(conn: asyncpg.Connection, viewer_id: int | None, tag: str, page: Page, *, local: bool = False,
                  remote: bool = False, only_media: bool = False) -> list[int]:
    where = (f"{_tag_sql('$1')} AND EXISTS (SELECT 1 FROM post_tags t WHERE t.post_id = p.id AND t.tag = $2)"
             + _origin_and_media(local, remote, only_media))
    return await _page_ids(conn, viewer_id, where, [tag.lower()], page)


async def organisation_ids(conn: asyncpg.Connection, viewer_id: int | None, organisation_id: int,
                           page: Page) -> list[int]:
    where = ("p.voice = 'official' AND p.organisation_id = $2 AND p.visibility IN ('public', 'unlisted') "
             f"AND {_NOT_FILTERED}")
    return await _page_ids(conn, viewer_id, where, [organisation_id], page)


LIVE_TIMELINES = {"home": _home_sql, "public": _public_sql, "tag": _tag_sql, "direct": _direct_sql}
# The columns the rule and the timelines read; the deleted post as it was (deleted_at NULL) for `before_deletion`.
_AS_BEFORE_DELETION = ("(SELECT id, account_id, visibility, reblog_of_id, uri, in_reply_to_id, state, "
                       "NULL::timestamptz AS deleted_at FROM posts WHERE id = $1)")


async def live_audience(conn: asyncpg.Connection, post_id: int, viewer_ids: Collection[int], timeline: str, *,
                        before_deletion: bool = False, list_id: int | None = None) -> set[int]:
    """Those of `viewer_ids` whose `timeline` (home, public, tag, direct) holds the post: the streaming API asks
    once per post for every subscriber of a web process, with the same conditions and visibility rule as the
    reads above (the viewer is a column here, not `$1`). `before_deletion`: whose timeline held it until it was
    deleted, so that they hear of the deletion. The `list` timeline is asked for one list (`list_id`)."""
    if not viewer_ids:
        return set()
    source = _AS_BEFORE_DELETION if before_deletion else "posts"
    condition = _list_sql("v.id", str(int(list_id or 0))) if timeline == "list" else LIVE_TIMELINES[timeline]("v.id")
    rows = await conn.fetch(
        f"""SELECT v.id FROM unnest($2::bigint[]) AS v(id) JOIN {source} p ON p.id = $1
            WHERE p.deleted_at IS NULL AND {visibility.visible_sql('p', 'v.id')}
              AND ({condition})""", post_id, list(viewer_ids))
    return {r["id"] for r in rows}


async def list_reacting(conn: asyncpg.Connection, post_ids: Sequence[int], viewer_ids: Collection[int]) -> set[int]:
    """Those of the viewers who favourited, boosted, bookmarked or pinned one of the posts or muted its
    conversation: the only viewers whose Status entity of them differs from everyone else's (`favourited`,
    `reblogged`, `bookmarked`, `pinned`, `muted`), so the streaming API renders a post once for all the others."""
    rows = await conn.fetch(
        f"""SELECT account_id FROM favourites WHERE post_id = ANY($1::bigint[]) AND account_id = ANY($2::bigint[])
           UNION SELECT account_id FROM posts WHERE reblog_of_id = ANY($1::bigint[])
             AND account_id = ANY($2::bigint[]) AND deleted_at IS NULL
           UNION SELECT v.id FROM unnest($2::bigint[]) AS v(id) WHERE EXISTS (SELECT 1 FROM unnest($1::bigint[])
             AS s(id) WHERE {bookmarks.bookmarked_sql('s.id', 'v.id')} OR {pins.pinned_sql('s.id', 'v.id')}
               OR {conversation_mutes.muted_sql('s.id', 'v.id')})""",
        list(post_ids), list(viewer_ids))
    return {r["account_id"] for r in rows} | await polls.list_voting(conn, post_ids, viewer_ids)


async def search_ids(conn: asyncpg.Connection, viewer_id: int | None, query: str, limit: int,
                     offset: int) -> list[int]:
    """Public posts (and the viewer's own) whose text contains every word of the query."""
    words = [w for w in query.lower().split() if w][:8]
    if not words:
        return []
    patterns = ["%" + w.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%" for w in words]
    rows = await conn.fetch(
        f"""SELECT p.id FROM posts p WHERE p.reblog_of_id IS NULL AND {_VISIBLE}
              AND (p.visibility = 'public' OR p.account_id = $1) AND lower(p.source_text) LIKE ALL($2::text[])
            ORDER BY p.id DESC LIMIT $3 OFFSET $4""", viewer_id, patterns, limit, offset)
    return [r["id"] for r in rows]


async def context_ids(conn: asyncpg.Connection, viewer_id: int | None, post_id: int) -> tuple[list[int], list[int]]:
    """(ancestors oldest first, descendants in reading order) that the viewer may see."""
    ancestors = await conn.fetch(
        f"""WITH RECURSIVE up(id, parent, depth) AS (
              SELECT id, in_reply_to_id, 0 FROM posts WHERE id = $2
              UNION ALL SELECT p.id, p.in_reply_to_id, up.depth + 1 FROM posts p JOIN up ON p.id = up.parent
              WHERE up.depth < 200)
            SELECT p.id FROM up JOIN posts p ON p.id = up.id
            WHERE up.id <> $2 AND p.deleted_at IS NULL AND {_VISIBLE} AND {_NOT_FILTERED}
            ORDER BY up.depth DESC""", viewer_id, post_id)
    descendants = await conn.fetch(
        f"""WITH RECURSIVE down(id, path) AS (
              SELECT p.id, ARRAY[p.id] FROM posts p WHERE p.in_reply_to_id = $2 AND {_NOT_HIDDEN_REPLY}
              UNION ALL SELECT p.id, down.path || p.id FROM posts p JOIN down ON p.in_reply_to_id = down.id
              WHERE array_length(down.path, 1) < 200 AND {_NOT_HIDDEN_REPLY})
            SELECT p.id FROM down JOIN posts p ON p.id = down.id
            WHERE p.deleted_at IS NULL AND {_VISIBLE} AND {_NOT_FILTERED} ORDER BY down.path""", viewer_id, post_id)
    return [r["id"] for r in ancestors], [r["id"] for r in descendants]


async def list_favourited_by(conn: asyncpg.Connection, post_id: int, limit: int = MAX_LIMIT) -> list[Account]:
    rows = await conn.fetch("SELECT account_id FROM favourites WHERE post_id = $1 ORDER BY created_at DESC LIMIT $2",
                            post_id, limit)
    people = await accounts.list_accounts_by_ids(conn, [r["account_id"] for r in rows])
    return [people[r["account_id"]] for r in rows if r["account_id"] in people]


async def list_reblogged_by(conn: asyncpg.Connection, post_id: int, limit: int = MAX_LIMIT) -> list[Account]:
    rows = await conn.fetch("SELECT account_id FROM posts WHERE reblog_of_id = $1 AND deleted_at IS NULL "
                            "ORDER BY id DESC LIMIT $2", post_id, limit)
    people = await accounts.list_accounts_by_ids(conn, [r["account_id"] for r in rows])
    return [people[r["account_id"]] for r in rows if r["account_id"] in people]


async def _visible_with_boosted(conn: asyncpg.Connection, post_ids: Sequence[int],
                                viewer_id: int | None) -> dict[int, int | None]:
    """Those of `post_ids` the viewer may see (server/visibility.py's rule), each with the post it boosts."""
    if not post_ids:
        return {}
    rows = await conn.fetch(f"SELECT p.id, p.reblog_of_id FROM posts p WHERE p.id = ANY($2::bigint[]) AND {_VISIBLE}",
                            viewer_id, list(post_ids))
    return {r["id"]: r["reblog_of_id"] for r in rows}


async def hydrate(conn: asyncpg.Connection, post_ids: Sequence[int], viewer_id: int | None, *,
                  with_quoted: bool = False) -> list[PostView]:
    """Turn ids into views in the same order, with authors, organisations, counts and the viewer's reactions.

    A fixed number of queries however many posts (each lookup takes every post of the page, the boosted ones and,
    `with_quoted`, the quoted ones at once). The rule decides which of `post_ids` are shown, and which quoted posts
    (a quoted post the viewer may not see is left out of the view, with only whether it is gone)."""
    seen = await _visible_with_boosted(conn, post_ids, viewer_id)
    post_ids = [i for i in post_ids if i in seen]
    if not post_ids:
        return []
    shown_ids = list(dict.fromkeys([*post_ids, *(b for b in seen.values() if b is not None)]))
    quoting = await quotes.list_quotes_by_quoting_posts(conn, shown_ids) if with_quoted else {}
    wanted = list({q.quoted_post_id for q in quoting.values() if q.state != "revoked"})
    quoted_ids = set(await visibility.visible_ids(conn, wanted, viewer_id)) if wanted else set()
    loaded = await posts.list_posts(conn, list(dict.fromkeys([*shown_ids, *wanted])))
    # A quoted post the viewer may not see is known only as gone or not: nothing of it is loaded further.
    gone = {i for i in wanted if i not in quoted_ids and (i not in loaded or loaded[i].deleted_at is not None)}
    by_id = {i: post for i, post in loaded.items() if i in shown_ids or i in quoted_ids}
    all_ids = list(by_id)
    mention_rows = await conn.fetch("SELECT post_id, account_id FROM post_mentions WHERE post_id = ANY($1::bigint[])",
                                    all_ids)
    counts = {r["id"]: r for r in await conn.fetch(
        f"""SELECT p.id,
             (SELECT count(*) FROM posts r WHERE r.in_reply_to_id = p.id AND r.deleted_at IS NULL
                AND r.state = 'published' AND NOT {hidden_replies.is_hidden_sql('r.id')})
                AS replies,
             (SELECT count(*) FROM posts b WHERE b.reblog_of_id = p.id AND b.deleted_at IS NULL) AS reblogs,
             (SELECT count(*) FROM favourites f WHERE f.post_id = p.id) AS favourites,
             EXISTS (SELECT 1 FROM favourites f WHERE f.post_id = p.id AND f.account_id = $2) AS favourited,
             EXISTS (SELECT 1 FROM posts b WHERE b.reblog_of_id = p.id AND b.account_id = $2
                     AND b.deleted_at IS NULL) AS reblogged,
             {bookmarks.bookmarked_sql('p.id', '$2')} AS bookmarked, {pins.pinned_sql('p.id', '$2')} AS pinned,
             {conversation_mutes.muted_sql('p.id', '$2')} AS muted,
             (SELECT ip.account_id FROM posts ip WHERE ip.id = p.in_reply_to_id) AS parent_account_id,
             ARRAY(SELECT t.tag FROM post_tags t WHERE t.post_id = p.id ORDER BY t.tag) AS tags
           FROM posts p WHERE p.id = ANY($1::bigint[])""", all_ids, viewer_id)}
    account_ids_needed = {p.account_id for p in by_id.values()} | {r["account_id"] for r in mention_rows} | {
        c["parent_account_id"] for c in counts.values() if c["parent_account_id"] is not None}
    people = await accounts.list_accounts_by_ids(conn, list(account_ids_needed))
    org_ids = {p.organisation_id for p in by_id.values() if p.organisation_id} | {
        a.organisation_id for a in people.values() if a.organisation_id}
    orgs = await organisations.list_organisations_by_ids(conn, [o for o in org_ids if o is not None])
    org_profiles = await profiles.list_organisation_profiles(
        conn, list({p.organisation_id for p in by_id.values() if p.voice == "official" and p.organisation_id}))
    attachments = await media.list_for_posts(conn, all_ids)
    poll_views = await polls.list_poll_views(conn, all_ids, viewer_id)
    trusted = set(await trust.list_trusted(conn)) if any(
        p.voice_organisation_uri for p in by_id.values()) else set()
    author_badges = await badges.list_active_for_accounts(conn, [p.account_id for p in by_id.values()],
                                                          badges.local_date(datetime.now(timezone.utc)))
    mentions: dict[int, list[Account]] = {}
    for r in mention_rows:
        person = people.get(r["account_id"])
        if person:
            mentions.setdefault(r["post_id"], []).append(person)

    def view(post: Post, quoted: bool = False) -> PostView:
        author = people[post.account_id]
        c = counts[post.id]
        quote = None if quoted else quoting.get(post.id)
        parent_account = c["parent_account_id"]
        return PostView(
            post=post, author=author,
            organisation=orgs.get(post.organisation_id) if post.organisation_id else None,
            author_organisation=orgs.get(author.organisation_id) if author.organisation_id else None,
            reblog=view(by_id[post.reblog_of_id], quoted) if post.reblog_of_id in by_id else None,
            in_reply_to_account=people.get(parent_account) if parent_account is not None else None,
            tags=tuple(c["tags"]), replies_count=c["replies"], reblogs_count=c["reblogs"],
            favourites_count=c["favourites"], favourited=c["favourited"], reblogged=c["reblogged"],
            bookmarked=c["bookmarked"], pinned=c["pinned"], muted=c["muted"],
            mentions=tuple(mentions.get(post.id, [])), attachments=tuple(attachments.get(post.id, [])),
            badge=author_badges.get(post.account_id),
            voice_verified=voice.organisation_verified(post.voice_organisation_uri, trusted),
            organisation_profile=org_profiles.get(post.organisation_id)
            if post.voice == "official" and post.organisation_id else None, poll=poll_views.get(post.id),
            quote=quote,
            quoted=view(by_id[quote.quoted_post_id], True) if quote and quote.state != "revoked"
            and quote.quoted_post_id in quoted_ids else None,
            quoted_gone=quote is not None and quote.quoted_post_id in gone)

    return [view(by_id[i]) for i in post_ids if i in by_id]


async def tag_history(conn: asyncpg.Connection, names: Sequence[str], today: datetime,
                      days: int = 7) -> dict[str, list[tuple[datetime, int, int]]]:
    """Per tag, (day, posts, distinct authors) of public published posts for each of the last `days` days, today
    first: Mastodon's Tag `history`, counted from what anyone may see."""
    start = today.astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    rows = await conn.fetch(
        """SELECT t.tag, date_trunc('day', p.created_at AT TIME ZONE 'UTC') AS day, count(*) AS uses,
                  count(DISTINCT p.account_id) AS accounts
           FROM post_tags t JOIN posts p ON p.id = t.post_id
           WHERE t.tag = ANY($1::text[]) AND p.created_at >= $2 AND p.visibility = 'public'
             AND p.state = 'published' AND p.deleted_at IS NULL AND p.reblog_of_id IS NULL
           GROUP BY t.tag, day""", list(names), start - timedelta(days=days - 1))
    counted = {(r["tag"], r["day"].date()): (r["uses"], r["accounts"]) for r in rows}
    return {name: [(start - timedelta(days=n), *counted.get((name, (start - timedelta(days=n)).date()), (0, 0)))
                   for n in range(days)] for name in names}


async def account_tag_stats(conn: asyncpg.Connection, account_id: int,
                            names: Sequence[str]) -> dict[str, tuple[int, datetime | None]]:
    """(posts, last post time) of the account's public and unlisted published posts with each tag: a FeaturedTag's
    `statuses_count` and `last_status_at`, as Mastodon counts them."""
    rows = await conn.fetch(
        """SELECT t.tag, count(*) AS posts, max(p.created_at) AS last_at FROM post_tags t JOIN posts p ON p.id = t.post_id
           WHERE p.account_id = $1 AND t.tag = ANY($2::text[]) AND p.visibility IN ('public', 'unlisted')
             AND p.state = 'published' AND p.deleted_at IS NULL GROUP BY t.tag""", account_id, list(names))
    found = {r["tag"]: (int(r["posts"]), r["last_at"]) for r in rows}
    return {name: found.get(name, (0, None)) for name in names}


async def most_used_tags(conn: asyncpg.Connection, account_id: int, limit: int = 10) -> list[str]:
    """The tags of the account's own recent posts, most used first (featured tag suggestions)."""
    rows = await conn.fetch(
        """SELECT t.tag FROM post_tags t JOIN posts p ON p.id = t.post_id
           WHERE p.account_id = $1 AND p.deleted_at IS NULL AND p.id IN (SELECT id FROM posts WHERE account_id = $1
             ORDER BY id DESC LIMIT 1000)
           GROUP BY t.tag ORDER BY count(*) DESC, t.tag LIMIT $2""", account_id, limit)
    return [r["tag"] for r in rows]


@dataclass(frozen=True)
class AccountStats:
    followers: int
    following: int
    statuses: int
    last_status_at: datetime | None


async def account_stats(conn: asyncpg.Connection, account_ids: Sequence[int]) -> dict[int, AccountStats]:
    """The counts of Mastodon's Account entity, for many accounts in one query. The last post is the newest by id
    (ids sort by time, server/ids.py), one read of posts_account_time; `statuses` still counts the account's posts
    (bench/api_render.py: most of a page's time on a large node, see docs/benchmarks.md)."""
    rows = await conn.fetch(
        """SELECT a.id,
             (SELECT count(*) FROM follows f WHERE f.followed_id = a.id AND f.state = 'accepted') AS followers,
             (SELECT count(*) FROM follows f WHERE f.follower_id = a.id AND f.state = 'accepted') AS following,
             (SELECT count(*) FROM posts p WHERE p.account_id = a.id AND p.deleted_at IS NULL
                AND p.state = 'published' AND p.visibility IN ('public', 'unlisted')) AS statuses,
             (SELECT p.created_at FROM posts p WHERE p.account_id = a.id AND p.deleted_at IS NULL
                ORDER BY p.id DESC LIMIT 1) AS last_status_at
           FROM accounts a WHERE a.id = ANY($1::bigint[])""", list(account_ids))
    return {r["id"]: AccountStats(r["followers"], r["following"], r["statuses"], r["last_status_at"]) for r in rows}
