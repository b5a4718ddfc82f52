"""Who may lift a suspension: a remote account's own server lifts only the suspension it caused, never one of our
moderators' or a domain policy's (server/accounts.py, on a real PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import asyncpg

from server import accounts
from server.accounts import RemoteProfile
from server.db.migrate import migrate
from tests.helpers.database import TestPostgres

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def _profile(name: str) -> RemoteProfile:
    actor = f"https://burger.test/users/{name}"
    return RemoteProfile(actor_uri=actor, username=name, domain="burger.test", actor_type="Person", display_name=name,
                         summary_html="", profile_url=None, inbox_uri=f"{actor}/inbox", shared_inbox_uri=None,
                         followers_uri=None, key_id=f"{actor}#main-key", public_key_pem=None, avatar_url=None,
                         manually_approves_followers=False)


def test_the_origin_lifts_only_its_own_suspension(postgres: TestPostgres) -> None:
    url = postgres.fresh_database()

    async def scenario() -> None:
        conn = await asyncpg.connect(url)
        try:
            await migrate(conn)
            jan = await accounts.upsert_remote_account(conn, _profile("jan"), NOW)
            piet = await accounts.upsert_remote_account(conn, _profile("piet"), NOW)

            suspended = await accounts.update_origin_suspension(conn, jan.id, True, NOW)
            assert suspended is not None and suspended.is_suspended and suspended.suspended_by_origin
            lifted = await accounts.update_origin_suspension(conn, jan.id, False, NOW)
            assert lifted is not None and not lifted.is_suspended and not lifted.suspended_by_origin

            # Our moderator suspends piet: his server saying "not suspended" changes nothing...
            await accounts.update_suspended(conn, piet.id, NOW)
            assert await accounts.update_origin_suspension(conn, piet.id, False, NOW) is None
            # ...and its later "suspended" does not make the suspension its own.
            assert await accounts.update_origin_suspension(conn, piet.id, True, NOW) is None
            current = await accounts.get_account(conn, piet.id)
            assert current is not None and current.is_suspended and not current.suspended_by_origin

            # A moderator's decision on an origin-suspended account takes it over.
            await accounts.update_origin_suspension(conn, jan.id, True, NOW)
            taken = await accounts.update_suspended(conn, jan.id, NOW)
            assert taken is not None and taken.is_suspended and not taken.suspended_by_origin
            assert await accounts.update_origin_suspension(conn, jan.id, False, NOW) is None
        finally:
            await conn.close()

    asyncio.run(scenario())
