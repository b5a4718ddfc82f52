"""Embedded PostgreSQL for laptops, demos and tests, via the pgserver package.

Owns: starting (or attaching to) the PostgreSQL server in `<data_dir>/postgres` and stopping it.
Never: knows a table; production points DATABASE_URL at a real server instead.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any


class EmbeddedDatabaseError(Exception):
    """The embedded PostgreSQL could not be started."""


class EmbeddedPostgres:
    """A handle on pgserver's server; several processes may share one data dir."""

    def __init__(self, data_dir: str | Path) -> None:
        self.pgdata = Path(data_dir).resolve() / "postgres"
        self._server: Any = None

    def start(self) -> str:
        """Start or attach, create the `ambtenaar` database if missing, and return its URL."""
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        try:
            import pgserver
        except ImportError as exc:  # pragma: no cover - dependency is declared
            raise EmbeddedDatabaseError("the pgserver package is not installed; set DATABASE_URL instead") from exc
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        try:
            # "stop": the last process holding the server stops it on exit and keeps the data.
            self._server = pgserver.get_server(self.pgdata, cleanup_mode="stop")
            exists = self._server.psql("SELECT 1 FROM pg_database WHERE datname = 'ambtenaar';")
            if "(1 row)" not in exists:
                self._server.psql("CREATE DATABASE ambtenaar;")
        except Exception as exc:
            raise EmbeddedDatabaseError(f"could not start the embedded PostgreSQL in {self.pgdata}: {exc}") from exc
        return str(self._server.get_uri("ambtenaar"))

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None
