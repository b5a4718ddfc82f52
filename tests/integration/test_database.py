"""Migrations, the embedded PostgreSQL, and readiness."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from pathlib import Path

import asyncpg
import httpx

from server.db.migrate import available_migrations, migrate
from tests.helpers.database import TestPostgres, fetch
from tests.helpers.nodes import Node


def test_migrations_apply_once_and_are_recorded(postgres: TestPostgres) -> None:
    url = postgres.empty_database()

    async def twice() -> tuple[list[str], list[str]]:
        conn = await asyncpg.connect(url)
        try:
            return await migrate(conn), await migrate(conn)
        finally:
            await conn.close()

    first, second = asyncio.run(twice())
    assert first == [m.version for m in available_migrations()] and second == []
    assert [r["version"] for r in fetch(url, "SELECT version FROM schema_migrations ORDER BY version")] == first


def test_two_processes_migrating_at_once_do_not_race(postgres: TestPostgres) -> None:
    url = postgres.empty_database()

    async def both() -> list[list[str]]:
        conns = [await asyncpg.connect(url) for _ in range(3)]
        try:
            return list(await asyncio.gather(*(migrate(c) for c in conns)))
        finally:
            for c in conns:
                await c.close()

    results = asyncio.run(both())
    assert sorted(len(r) for r in results) == [0, 0, len(available_migrations())]


def test_migrate_command_on_an_empty_database(postgres: TestPostgres, tmp_path: Path) -> None:
    node = Node(database_url=postgres.empty_database(), data_dir=tmp_path)
    result = node.cli("migrate")
    assert result.code == 0 and "up to date" in result.out
    assert len(fetch(node.database_url, "SELECT version FROM schema_migrations")) == len(available_migrations())


def test_readiness_reports_a_pending_migration(postgres: TestPostgres, tmp_path: Path) -> None:
    node = Node(database_url=postgres.fresh_database(), data_dir=tmp_path).start()
    try:
        fetch(node.database_url, "DELETE FROM schema_migrations WHERE version = '0001_core'")
        response = httpx.get(f"{node.url}/readyz")
        assert response.status_code == 503
        assert response.json()["migrations_pending"] == ["0001_core"]
    finally:
        node.stop()


def test_serve_without_database_url_runs_an_embedded_postgres_and_stops_it() -> None:
    # Not pytest's tmp_path: pytest keeps its base folder at mode 700, which the `pgserver` system user that
    # runs the embedded PostgreSQL cannot enter (and other pytest sessions reset the mode pgserver widens).
    tmp_path = Path(tempfile.mkdtemp(prefix="ambtenaar-test-embedded-"))
    node = Node(database_url="", data_dir=tmp_path / "data").start(timeout=120)
    pid_file = tmp_path / "data" / "postgres" / "postmaster.pid"
    try:
        assert pid_file.exists()
        assert httpx.get(f"{node.url}/readyz").json()["status"] == "ok"
        assert (tmp_path / "data" / "secret_key").stat().st_mode & 0o777 == 0o600
        created = node.cli("org", "create", "--name", "Waterschap Vallei en Veluwe", "--slug", "vallei-veluwe",
                           "--kind", "waterschap")
        assert created.code == 0, created.err
        assert "Waterschap Vallei en Veluwe" in httpx.get(f"{node.url}/orgs/vallei-veluwe").text
    finally:
        node.stop()
    deadline = time.monotonic() + 30
    while pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not pid_file.exists(), "the embedded PostgreSQL kept running after the node stopped"
    shutil.rmtree(tmp_path, ignore_errors=True)


def test_closed_registrations_stop_invite_links(postgres: TestPostgres, tmp_path: Path) -> None:
    node = Node(database_url=postgres.fresh_database(), data_dir=tmp_path,
                extra_env={"AMBTENAAR_REGISTRATIONS": "closed"}).start()
    try:
        assert node.cli("org", "create", "--name", "Gemeente Ede", "--slug", "gemeente-ede", "--kind",
                        "gemeente").code == 0
        link = node.cli("user", "invite", "--org", "gemeente-ede").out.strip()
        assert httpx.get(link).status_code == 403
    finally:
        node.stop()
