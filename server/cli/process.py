"""`ambtenaar serve`, `worker` and `migrate`: the node's processes and its schema.

Owns: starting uvicorn with the web process (server/app.py) and the federation worker runner. Never: a step of
an action.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import errno
import logging
import logging.config
import os
import re
import socket
import ssl
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from server.cli.base import CliError, Group
from server.config import Settings
from server.db.migrate import migrate
from server.db.pgembed import EmbeddedPostgres
from server.db.pool import open_pool


def without_password(url: str) -> str:
    """The database URL as it may be shown: the user, host, port and database, never a password (in the user part
    or as a `password=` parameter)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(the database URL)"
    if not parts.scheme or not parts.netloc and not parts.path:
        return re.sub(r"password\s*=\s*('[^']*'|\S+)", "password=***", url, flags=re.IGNORECASE)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}@{hostport}" if user else hostport
    query = "&".join(p for p in parts.query.split("&") if p and not p.lower().startswith(("password=", "sslpassword=")))
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def _reason(error: BaseException) -> str:
    """What went wrong in a few words of our own: the exception's text may quote the URL, password and all."""
    if isinstance(error, (asyncpg.InvalidPasswordError, asyncpg.InvalidAuthorizationSpecificationError)):
        return "the user name or password is not accepted"
    if isinstance(error, asyncpg.InvalidCatalogNameError):
        return "that database does not exist"
    if isinstance(error, asyncpg.CannotConnectNowError):
        return "PostgreSQL is starting or shutting down"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, TimeoutError):
        return "no answer within 10 seconds"
    if isinstance(error, socket.gaierror):
        return "unknown host name"
    if isinstance(error, ssl.SSLError):
        return "the TLS connection failed"
    if isinstance(error, OSError):
        return os.strerror(error.errno).lower() if error.errno else "the connection failed"
    return "it does not answer as PostgreSQL"


async def open_database(url: str, *, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    """The pool, or a CliError of one line naming the URL without its password."""
    try:
        return await asyncio.wait_for(open_pool(url, min_size=min_size, max_size=max_size), timeout=10)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        raise CliError(f"cannot reach the database at {without_password(url)}: {_reason(error)}") from None


async def _probe_database(url: str) -> None:
    pool = await open_database(url, min_size=1, max_size=1)
    await pool.close()


def _listening_socket(host: str, port: int) -> socket.socket:
    """Bound before uvicorn starts, so that a port in use is one clear line, not uvicorn's log of an OSError."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM,
                                                             flags=socket.AI_PASSIVE)[0]
    except socket.gaierror:
        raise CliError(f"cannot listen on {host!r}: unknown host name; choose another with --host") from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise CliError(f"port {port} is in use; choose another with --port") from None
        if error.errno == errno.EACCES:
            raise CliError(f"port {port} needs more privileges; choose another with --port") from None
        raise CliError(f"cannot listen on {host}:{port} ({_reason(error)}); choose another with --host") from None
    sock.set_inheritable(True)
    return sock


def serve(settings: Settings) -> None:
    """One web process, or N on the one port (server/cli/web_processes.py): then this process binds the port,
    starts the embedded PostgreSQL (when no DATABASE_URL is set) and migrates, once, before the children start."""
    from server.cli.web_processes import Supervisor, process_count, run_web

    count = process_count(settings)
    sock = _listening_socket(settings.host, settings.port)
    try:
        if count == 1:
            if settings.database_url:  # the lifespan would otherwise fail with a traceback in the log
                asyncio.run(_probe_database(settings.database_url))
            if not run_web(settings, sock):
                raise CliError("the web server did not start; the log above says why")
            return
        _log_to_stderr(settings)
        embedded = None if settings.database_url else EmbeddedPostgres(settings.data_dir)
        try:
            url = settings.database_url or embedded.start()  # type: ignore[union-attr]
            if embedded is not None:
                logging.getLogger("ambtenaar").info("embedded PostgreSQL started",
                                                    extra={"pgdata": str(embedded.pgdata)})
            asyncio.run(_migrate(url))
            Supervisor(dataclasses.replace(settings, database_url=url), sock, count).run()
        finally:
            if embedded is not None:
                embedded.stop()
    finally:
        sock.close()


def _log_to_stderr(settings: Settings) -> None:
    from server.logs import log_config

    logging.config.dictConfig(log_config(settings.log_level))


async def _migrate(url: str) -> None:
    """Migrate before the web processes start, so that they find nothing to do (the advisory lock in
    server/db/migrate.py would also let them race safely)."""
    pool = await open_database(url, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:
            applied = await migrate(conn)
    finally:
        await pool.close()
    if applied:
        logging.getLogger("ambtenaar").info("migrations applied", extra={"versions": ",".join(applied)})


async def run_worker(settings: Settings) -> None:
    """Federation queues without the web server, until SIGTERM or Ctrl-C."""
    import signal

    from federation.context import Federation
    from federation.worker import Worker
    from server.app import outgoing_client
    from server.deps import Deps
    from server.logs import log_config

    logging.config.dictConfig(log_config(settings.log_level))
    embedded = None if settings.database_url else EmbeddedPostgres(settings.data_dir)
    url = settings.database_url or embedded.start()  # type: ignore[union-attr]
    pool = await open_database(url)
    client = outgoing_client(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        async with pool.acquire() as conn:
            await migrate(conn)
        await Worker(Federation(deps=Deps(settings=settings, pool=pool), client=client)).run_until(stop)
    finally:
        await client.aclose()
        await pool.close()
        if embedded is not None:
            embedded.stop()


def worker(settings: Settings) -> None:
    # uvloop, like `serve` (uvicorn[standard]): plain asyncio keeps a 256 KiB buffer per TLS connection,
    # which a fan-out to thousands of inboxes turns into hundreds of megabytes (docs/benchmarks.md).
    import uvloop

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(run_worker(settings))


async def cmd_migrate(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    return "Database schema is up to date"  # every database command migrates first


def add_commands(root: Group) -> None:
    root.command("serve", "run the web server: --web-processes processes on one port, one per core by default "
                 "(starts an embedded PostgreSQL when DATABASE_URL is not set)",
                 starter=serve)
    root.command("migrate", "apply database migrations that are not yet applied", cmd_migrate)
    root.command("worker", "run federation delivery and inbox processing (any number, on any machine)",
                 starter=worker)
