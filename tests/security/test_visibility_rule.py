"""The visibility rule (server/visibility.py) against an oracle written from its specification, on a real
PostgreSQL: Hypothesis draws a post (visibility, state, deleted, its author's limits, a boost of it) and a viewer
(nobody, the author, a follower, a pending follower, someone mentioned, a reviewer of the author's organisation or
of another one, an admin, a moderator, a stranger, someone the author blocks, a suspended account) and checks
that the SQL rule answers exactly as the specification says. No combination may show a held, rejected, deleted
or non-public post to anyone outside its audience.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server import accounts, follows, organisations, posts, relationships, timelines, visibility
from server.accounts import Account
from tests.helpers.database import TestPostgres

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
VIEWERS = ("nobody", "author", "follower", "pending_follower", "mentioned", "reviewer_same_org",
           "org_admin_same_org", "reviewer_other_org", "instance_admin", "moderator", "stranger",
           "blocked_by_author", "suspended_follower")
STATES = ("published", "held", "rejected")  # the states posts_state_check allows today


@dataclass(frozen=True)
class Case:
    visibility: str
    state: str
    deleted: bool
    author_limit: str  # none, silenced, suspended
    viewer: str
    through_boost: bool  # the viewer looks at a public boost of the post rather than the post itself


def expected(case: Case) -> bool:
    """The specification of the rule, written out independently of the SQL (docs/security.md)."""
    if case.through_boost:
        # A boost is seen when both the boost (public, by a third person) and the boosted post are; a suspended
        # viewer sees nobody else's posts, the boost included.
        viewer_suspended = case.viewer == "suspended_follower" or (
            case.viewer == "author" and case.author_limit == "suspended")
        return not viewer_suspended and expected(Case(**{**case.__dict__, "through_boost": False}))
    if case.deleted:
        return False
    if case.viewer == "author":
        return True
    if case.state != "published":
        return case.state in ("held", "rejected") and case.viewer in (
            "reviewer_same_org", "org_admin_same_org", "instance_admin")
    if case.author_limit == "suspended" or case.viewer in ("blocked_by_author", "suspended_follower"):
        return False
    follows_author = case.viewer == "follower"
    mentioned = case.viewer == "mentioned"
    if case.author_limit == "silenced" and not (follows_author or mentioned):
        return False
    if case.visibility in ("public", "unlisted"):
        return True
    if case.visibility == "private":
        return follows_author or mentioned
    return mentioned  # direct


cases = st.builds(Case, visibility=st.sampled_from(posts.VISIBILITIES), state=st.sampled_from(STATES),
                  deleted=st.booleans(), author_limit=st.sampled_from(("none", "silenced", "suspended")),
                  viewer=st.sampled_from(VIEWERS), through_boost=st.booleans())


@pytest.fixture(scope="module")
def database(postgres: TestPostgres) -> Iterator[str]:
    yield postgres.fresh_database()


async def _person(conn: asyncpg.Connection, **fields: object) -> Account:
    return await accounts.insert_account(conn, username="u" + secrets.token_hex(6), kind="person", **fields)


async def _check(url: str, case: Case) -> tuple[bool, bool]:
    """(what the rule says, whether hydrate would show it) for one drawn case, in a transaction rolled back."""
    conn = await asyncpg.connect(url)
    try:
        tx = conn.transaction()
        await tx.start()
        try:
            tag = secrets.token_hex(4)
            org = await organisations.insert_organisation(conn, name=f"Gemeente T{tag}", slug=f"gemeente-t{tag}",
                                                          kind="gemeente", website="https://example.org")
            other = await organisations.insert_organisation(conn, name=f"Provincie P{tag}",
                                                            slug=f"provincie-p{tag}", kind="provincie",
                                                            website="https://example.org")
            author = await _person(conn, organisation_id=org.id, org_role="official")
            roles = {
                "reviewer_same_org": dict(organisation_id=org.id, org_role="reviewer"),
                "org_admin_same_org": dict(organisation_id=org.id, org_role="org_admin"),
                "reviewer_other_org": dict(organisation_id=other.id, org_role="reviewer"),
                "instance_admin": dict(is_admin=True), "moderator": dict(is_moderator=True),
            }
            viewer = None
            if case.viewer == "author":
                viewer = author
            elif case.viewer != "nobody":
                viewer = await _person(conn, **roles.get(case.viewer, {}))
            if case.viewer in ("follower", "suspended_follower"):
                await follows.insert_follow(conn, viewer.id, author.id, NOW)
            if case.viewer == "pending_follower":
                await follows.insert_follow(conn, viewer.id, author.id, NOW, state="pending")
            if case.viewer == "suspended_follower":
                await accounts.update_suspended(conn, viewer.id, NOW)
            if case.viewer == "blocked_by_author":
                await relationships.insert_block(conn, author.id, viewer.id, NOW)
            post = await posts.insert_post(
                conn, account_id=author.id, source_text="x", content_html="<p>x</p>", spoiler_text="",
                visibility=case.visibility, voice="official", organisation_id=org.id, language="nl",
                in_reply_to_id=None, tags=[], mention_ids=[viewer.id] if case.viewer == "mentioned" else [],
                now=NOW, state=case.state)
            if case.deleted:
                await posts.delete_post(conn, post.id, NOW)
            if case.author_limit == "silenced":
                await accounts.update_silenced(conn, author.id, NOW)
            if case.author_limit == "suspended":
                await accounts.update_suspended(conn, author.id, NOW)
            looked_at = post.id
            if case.through_boost:
                # A public boost by a third person, as the old bug let one be made of a held post.
                booster = await _person(conn)
                looked_at = (await conn.fetchrow(
                    "INSERT INTO posts (id, account_id, source_text, content_html, spoiler_text, visibility, voice, "
                    "language, reblog_of_id, created_at) VALUES ($1, $2, '', '', '', 'public', 'personal', 'nl', $3, "
                    "$4) RETURNING id", post.id + 1, booster.id, post.id, NOW))["id"]
            viewer_id = viewer.id if viewer else None
            seen = await visibility.is_visible(conn, looked_at, viewer_id)
            shown = bool(await timelines.hydrate(conn, [looked_at], viewer_id))
            return seen, shown
        finally:
            await tx.rollback()
    finally:
        await conn.close()


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=cases)
def test_the_rule_matches_its_specification(database: str, case: Case) -> None:
    seen, shown = asyncio.run(_check(database, case))
    assert seen == expected(case), case
    assert shown == seen, case  # hydrate, under every page and API entity, applies the same rule


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=cases.filter(lambda c: c.deleted or c.state != "published" or c.visibility in ("private", "direct")))
def test_nothing_leaves_its_audience(database: str, case: Case) -> None:
    """The property the issue names: a held, deleted or non-public post is seen only inside its audience."""
    seen, _ = asyncio.run(_check(database, case))
    audience = {"author"}
    if not case.deleted and case.state in ("held", "rejected"):
        audience |= {"reviewer_same_org", "org_admin_same_org", "instance_admin"}
    if not case.deleted and case.state == "published":
        audience |= {"mentioned"} | ({"follower"} if case.visibility == "private" else set())
    if seen:
        assert case.viewer in audience, case

