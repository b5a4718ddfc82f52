"""Liveness and readiness for load balancers and orchestrators.

Owns: /healthz (the process answers) and /readyz (the database answers, every migration is applied and the
in-process federation worker, when there is one, is alive; organisations' handle domains by state and the
answering process's pid as details).
Never: does work beyond those checks.
"""

from __future__ import annotations

import asyncio
import os

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from server import handle_domains
from server.db.migrate import pending_migrations
from server.db.pool import connection
from server.deps import Deps


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok")


async def readyz(request: Request) -> Response:
    deps: Deps = request.app.state.deps
    try:
        async with connection(deps.pool) as conn:
            await conn.fetchval("SELECT 1")
            pending = await pending_migrations(conn)
            # Details only: a failing handle domain is the organisation's web server's doing, not this node's.
            domains = await handle_domains.readiness(conn) if not pending else None
    except Exception as exc:  # any failure to reach the database means "not ready"
        return JSONResponse({"status": "unavailable", "database": f"unreachable: {type(exc).__name__}"},
                            status_code=503)
    if pending:
        return JSONResponse({"status": "unavailable", "migrations_pending": [m.version for m in pending]},
                            status_code=503)
    # The in-process worker (serve without --no-in-process-worker): alive when its loop came round lately.
    worker = getattr(request.app.state, "worker", None)
    task = getattr(request.app.state, "worker_task", None)
    if worker is None:
        state = "separate"
    elif task is None or task.done():
        state = "stopped"
    else:
        state = "stalled" if worker.stalled(asyncio.get_running_loop().time()) else "ok"
    ready = state in ("ok", "separate")
    # The pid tells which of `serve`'s web processes answered (several share one port: --web-processes).
    return JSONResponse({"status": "ok" if ready else "unavailable", "database": "ok", "migrations": "applied",
                         "worker": state, "pid": os.getpid(), **({"handle_domains": domains} if domains else {})},
                        status_code=200 if ready else 503)


ROUTES = [Route("/healthz", healthz, methods=["GET"]), Route("/readyz", readyz, methods=["GET"])]
