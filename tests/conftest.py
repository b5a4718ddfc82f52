"""Shared fixtures: one PostgreSQL per session (embedded unless DATABASE_URL is set), real node processes."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.database import TestPostgres, test_postgres
from tests.helpers.nodes import Node, stop_leftovers

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


@pytest.fixture(scope="session")
def postgres() -> Iterator[TestPostgres]:
    with test_postgres(os.environ.get("DATABASE_URL")) as server:
        yield server


@pytest.fixture(scope="module")
def node(postgres: TestPostgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    """A running node with its own fresh database, shared by the tests of one module."""
    running = Node(database_url=postgres.fresh_database(), data_dir=tmp_path_factory.mktemp("node")).start()
    yield running
    running.stop()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Stop server processes a fixture left running (one whose set-up failed after start()), before the session's
    PostgreSQL goes."""
    stop_leftovers()
