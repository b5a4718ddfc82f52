"""`ambtenaar serve`, `worker` and `migrate`: the node's processes and its schema.

Owns: starting uvicorn with the web process (server/app.py) and the federation worker runner. Never: a step of
an action.
"""

from __future__ import annotations

import argparse
import asyncio

import asyncpg

from server.cli.base import Group
from server.config import Settings, trusted_proxy_list
from server.db.migrate import migrate
from server.db.pgembed import EmbeddedPostgres
from server.db.pool import open_pool


def serve(settings: Settings) -> None:
    import uvicorn

    from server.app import create_app
    from server.logs import log_config

    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=log_config(settings.log_level),
                proxy_headers=True, forwarded_allow_ips=list(trusted_proxy_list(settings)),
                ssl_certfile=settings.tls_cert or None, ssl_keyfile=settings.tls_key or None,
                server_header=False, timeout_graceful_shutdown=10)


async def run_worker(settings: Settings) -> None:
    """Federation queues without the web server, until SIGTERM or Ctrl-C."""
    import logging.config
    import signal

    from federation.context import Federation
    from federation.worker import Worker
    from server.app import outgoing_client
    from server.deps import Deps
    from server.logs import log_config

    logging.config.dictConfig(log_config(settings.log_level))
    embedded = None if settings.database_url else EmbeddedPostgres(settings.data_dir)
    url = settings.database_url or embedded.start()  # type: ignore[union-attr]
    pool = await open_pool(url)
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
    root.command("serve", "run the web server (starts an embedded PostgreSQL when DATABASE_URL is not set)",
                 starter=serve)
    root.command("migrate", "apply database migrations that are not yet applied", cmd_migrate)
    root.command("worker", "run federation delivery and inbox processing (any number, on any machine)",
                 starter=worker)
