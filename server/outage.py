"""While PostgreSQL cannot be reached, every request is answered 503 with Retry-After, not 500.

Owns: `DatabaseOutage`, a pure ASGI middleware: an exception that comes out of the database driver (a refused or
lost connection, a server shutting down, a pool that cannot connect) before the response started becomes a 503
with `Retry-After` and a short reason (JSON for the API, OAuth and ActivityPub, a plain page for people), logged as
one line without a traceback. The pool reconnects by itself when the database is back, so nothing else is needed.
Never: reads a body, or hides other errors (they stay 500s with their traceback in the log).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable
from types import TracebackType

import asyncpg
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("ambtenaar")
RETRY_AFTER_SECONDS = 10
_MACHINE_PREFIXES = ("/api/", "/oauth/", "/inbox", "/actor", "/users/", "/.well-known/", "/nodeinfo", "/readyz")


def _from_the_driver(exc: BaseException) -> bool:
    """An error of the database connection: asyncpg's connection errors, or an OSError raised inside asyncpg
    (connection refused, the socket gone). InternalClientError ("cannot switch to state ...") is what asyncpg
    raises on a connection whose server shut down in the middle of a query (seen under load, issue 12)."""
    if isinstance(exc, (asyncpg.PostgresConnectionError, asyncpg.exceptions.OperatorInterventionError,
                        asyncpg.InterfaceError, asyncpg.InternalClientError)):
        return True
    if not isinstance(exc, OSError):
        return False
    trace: TracebackType | None = exc.__traceback__
    while trace is not None:
        if trace.tb_frame.f_globals.get("__name__", "").startswith("asyncpg"):
            return True
        trace = trace.tb_next
    return False


class DatabaseOutage:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # Not a coroutine itself, so that an open WebSocket keeps no frame of this layer (docs/benchmarks.md).
        if scope["type"] != "http":
            return self.app(scope, receive, send)
        return self._http(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started or not _from_the_driver(exc):
                raise
            log.warning("database unavailable", extra={"path": scope.get("path", ""), "error": repr(exc)[:300]})
            await _unavailable(scope, send)


async def _unavailable(scope: Scope, send: Send) -> None:
    path = str(scope.get("path", ""))
    if path.startswith(_MACHINE_PREFIXES):
        body = json.dumps({"error": "The database is unavailable for a moment; try again shortly."}).encode()
        content_type = b"application/json"
    else:
        body = ("<!doctype html><html lang=\"nl\"><head><meta charset=\"utf-8\"><title>Even niet bereikbaar"
                "</title></head><body><h1>Even niet bereikbaar</h1><p>De database is even niet bereikbaar. Probeer "
                "het zo opnieuw.</p><p lang=\"en\">The database is unavailable for a moment; try again shortly."
                "</p></body></html>").encode()
        content_type = b"text/html; charset=utf-8"
    await send({"type": "http.response.start", "status": 503,
                "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode()),
                            (b"retry-after", str(RETRY_AFTER_SECONDS).encode()), (b"cache-control", b"no-store")]})
    await send({"type": "http.response.body", "body": body})
