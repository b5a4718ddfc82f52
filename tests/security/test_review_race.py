"""An edit and a reviewer's approval of the same held post at the same moment, on a real PostgreSQL: whichever
commits first, the words published are words a reviewer approved.

The race the outside test found went through HTTP with a pause between "open the queue" and "approve"
(tests/security/test_findings.py); this one has no pause at all: the edit is uncommitted while the approval
starts. Without the row lock the approval read the old committed version, matched it, and its UPDATE then
published the edited text once the edit committed.
"""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime

import asyncpg
import pytest

from server import accounts, organisations, posts, publishing
from server.config import settings_from
from server.db.pool import open_pool
from server.errors import Conflict
from tests.helpers.database import TestPostgres

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


async def _race(url: str) -> tuple[str, str]:
    settings = settings_from({}, {"secret_key": "s" * 40, "domain": "gemeente.test"})
    pool = await open_pool(url, max_size=3)  # the node's own pool, with its JSON codec
    setup = await pool.acquire()
    try:
        tag = secrets.token_hex(4)
        org = await organisations.insert_organisation(setup, name=f"Gemeente R{tag}", slug=f"gemeente-r{tag}",
                                                      kind="gemeente", website="https://example.org")
        author = await accounts.insert_account(setup, username=f"anna{tag}", kind="person",
                                               organisation_id=org.id, org_role="official")
        reviewer = await accounts.insert_account(setup, username=f"rita{tag}", kind="person",
                                                 organisation_id=org.id, org_role="reviewer")
        held = await posts.insert_post(setup, account_id=author.id, source_text="Versie een", content_html="<p>1</p>",
                                       spoiler_text="", visibility="public", voice="official",
                                       organisation_id=org.id, language="nl", in_reply_to_id=None, tags=[],
                                       mention_ids=[], now=NOW, state="held")
        seen = await publishing.review_version(setup, held)
    finally:
        await pool.release(setup)

    editor, approver = await pool.acquire(), await pool.acquire()
    try:
        edit_tx = editor.transaction()
        await edit_tx.start()
        await publishing.edit_post(editor, settings, author, held.id, body="Versie twee, door niemand gelezen",
                                   spoiler_text="", now=NOW)

        async def approve() -> str:
            async with approver.transaction():
                try:
                    await publishing.approve_held(approver, reviewer, held.id, NOW, version=seen)
                except Conflict:
                    return "refused"
                return "approved"

        approval = asyncio.create_task(approve())
        await _until_waiting_for_a_lock(url, approver.get_server_pid())  # the approval runs into the edit
        await edit_tx.commit()
        outcome = await approval
        row = await approver.fetchrow("SELECT state, source_text FROM posts WHERE id = $1", held.id)
        return outcome, f"{row['state']}: {row['source_text']}"
    finally:
        await pool.release(editor)
        await pool.release(approver)
        await pool.close()


async def _until_waiting_for_a_lock(url: str, pid: int, timeout: float = 10.0) -> None:
    watch = await asyncpg.connect(url)
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while not await watch.fetchval("SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $1", pid):
            assert asyncio.get_running_loop().time() < deadline, "the approval never reached the edited row"
            await asyncio.sleep(0.02)
    finally:
        await watch.close()


@pytest.fixture(scope="module")
def database(postgres: TestPostgres) -> str:
    return postgres.fresh_database()


def test_an_approval_racing_an_edit_never_publishes_the_unread_words(database: str) -> None:
    outcome, post = asyncio.run(_race(database))
    assert outcome == "refused" and post == "held: Versie twee, door niemand gelezen"
