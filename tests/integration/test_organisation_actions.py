"""Creating an organisation and changing its voice wording are admin actions like the others (issue 12): the
domain function checks who acts, whichever interface calls it, and a refusal writes nothing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from server import accounts, organisations
from server.db.pool import open_pool
from server.errors import Forbidden
from tests.helpers.database import TestPostgres

NOW = datetime(2026, 12, 5, 12, tzinfo=UTC)


async def _scenario(url: str) -> dict[str, object]:
    pool = await open_pool(url, min_size=1, max_size=1)
    conn = await pool.acquire()
    try:
        admin = await accounts.create_person(conn, username="beheer", email="b@example.org", password_hash="x",
                                             is_admin=True, is_moderator=True, actor_id=None, now=NOW)
        org, _ = await organisations.create_organisation(conn, name="Gemeente Ede", slug="gemeente-ede",
                                                          kind="gemeente", website="https://www.ede.nl",
                                                          language="nl", actor_id=admin.id, now=NOW)
        org_admin = await accounts.create_person(conn, username="kees", email="k@example.org", password_hash="x",
                                                 organisation_id=org.id, org_role="org_admin", actor_id=None,
                                                 now=NOW)
        official = await accounts.create_person(conn, username="anna", email="a@example.org", password_hash="x",
                                                organisation_id=org.id, org_role="official", actor_id=None, now=NOW)
        refusals = []
        for actor in (official, org_admin):
            try:
                await organisations.create_organisation(conn, name="Gemeente Epe", slug=f"epe-{actor.username}",
                                                        kind="gemeente", website="https://epe.nl", language="nl",
                                                        actor_id=actor.id, now=NOW)
            except Forbidden as refused:
                refusals.append(actor.username)
                assert "instance admins" in str(refused)
        try:
            await organisations.change_voice_settings(conn, org, auto_boost=True, labels={}, actor_id=official.id,
                                                      now=NOW)
        except Forbidden:
            refusals.append("anna-voice")
        await organisations.change_voice_settings(conn, org, auto_boost=True, labels={}, actor_id=org_admin.id,
                                                  now=NOW)
        return {"refusals": refusals,
                "organisations": await conn.fetchval("SELECT count(*) FROM organisations"),
                "audit": [tuple(r) for r in await conn.fetch(
                    "SELECT action, actor_account_id FROM audit_log WHERE subject_type = 'organisation' ORDER BY id")],
                "ids": (admin.id, org_admin.id)}
    finally:
        await pool.release(conn)
        await pool.close()


@pytest.fixture(scope="module")
def database(postgres: TestPostgres) -> str:
    return postgres.fresh_database()


def test_only_admins_create_organisations_and_org_admins_change_their_wording(database: str) -> None:
    outcome = asyncio.run(_scenario(database))
    admin_id, org_admin_id = outcome["ids"]  # type: ignore[misc]
    assert outcome["refusals"] == ["anna", "kees", "anna-voice"]
    assert outcome["organisations"] == 1
    assert outcome["audit"] == [("organisation.created", admin_id), ("organisation.voice_settings", org_admin_id)]


async def _people_scenario(url: str) -> list[str]:
    """Inviting, changing a role and offboarding, asked of the domain functions directly (no page before them)."""
    from datetime import timedelta

    from server import invites, offboarding
    pool = await open_pool(url, min_size=1, max_size=1)
    conn = await pool.acquire()
    try:
        admin = await accounts.create_person(conn, username="beheer", email=None, password_hash="x", is_admin=True,
                                             actor_id=None, now=NOW)
        ede, _ = await organisations.create_organisation(conn, name="Gemeente Ede", slug="gemeente-ede",
                                                          kind="gemeente", website="", language="nl",
                                                          actor_id=admin.id, now=NOW)
        epe, _ = await organisations.create_organisation(conn, name="Gemeente Epe", slug="gemeente-epe",
                                                          kind="gemeente", website="", language="nl",
                                                          actor_id=admin.id, now=NOW)
        kees = await accounts.create_person(conn, username="kees", email=None, password_hash="x",
                                            organisation_id=ede.id, org_role="org_admin", actor_id=None, now=NOW)
        piet = await accounts.create_person(conn, username="piet", email=None, password_hash="x",
                                            organisation_id=epe.id, org_role="org_admin", actor_id=None, now=NOW)
        anna = await accounts.create_person(conn, username="anna", email=None, password_hash="x",
                                            organisation_id=ede.id, org_role="official", actor_id=None, now=NOW)
        refused = []
        for actor in (anna, piet):
            attempts = {
                "invite": invites.insert_invite(conn, organisation_id=ede.id, org_role="official", now=NOW,
                                                valid_for=timedelta(days=1), created_by=actor.id),
                "role": accounts.change_org_role(conn, kees if actor is anna else anna, "reviewer", actor=actor,
                                                 now=NOW),
                "offboard": offboarding.offboard(conn, kees if actor is anna else anna, account="keep", reason="x",
                                                 actor=actor, now=NOW)}
            for name, attempt in attempts.items():
                try:
                    await attempt
                except Forbidden:
                    refused.append(f"{actor.username}-{name}")
        assert await conn.fetchval("SELECT count(*) FROM invites") == 0
        assert await conn.fetchval("SELECT count(*) FROM audit_log WHERE action LIKE 'account.%' "
                                   "AND action <> 'account.created'") == 0
        await invites.insert_invite(conn, organisation_id=ede.id, org_role="official", now=NOW,
                                    valid_for=timedelta(days=1), created_by=kees.id)
        return refused
    finally:
        await pool.release(conn)
        await pool.close()


def test_only_the_organisations_admins_invite_change_roles_and_offboard(postgres: TestPostgres) -> None:
    assert asyncio.run(_people_scenario(postgres.fresh_database())) == [
        "anna-invite", "anna-role", "anna-offboard", "piet-invite", "piet-role", "piet-offboard"]
