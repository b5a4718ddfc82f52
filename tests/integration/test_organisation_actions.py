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
