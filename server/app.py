"""Composition root of the web process: builds the Starlette app and its lifespan.

Owns: wiring routes, middleware and error pages; opening the pool (starting the embedded PostgreSQL when no
DATABASE_URL is set) and applying migrations at start-up. Never: business logic.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount

from federation import media_proxy, nodeinfo, webfinger
from federation import routes as federation_routes
from federation.context import Federation
from federation.netguard import OutgoingClient, tls_context
from federation.worker import Worker
from server import __version__, health, media_store
from server.read_cache import ReadCache
from server.routing import IndexedRouter
from web.api.cors import ApiCors
from web.api.stream_sockets import HUB_STATE_KEY
from web.api.streaming import StreamHub
from web.api.routes import routes as api_routes
from server.config import Settings
from server.media import MAX_BYTES as MAX_UPLOAD_BYTES
from server.db.migrate import migrate
from server.db.pgembed import EmbeddedPostgres
from server.db.pool import open_pool
from server.deps import Deps
from server.headers import SecurityHeaders
from server.outage import DatabaseOutage
from server.limits import FORM_IMAGES, UPLOAD_OVERHEAD, RequestLimits
from web.context import page_context, render
from web.routes import routes as web_routes

log = logging.getLogger("ambtenaar")


async def _http_error(request: Request, exc: Exception) -> Response:
    """Errors the router raises (404, 405) as a page in the visitor's language."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if request.url.path.startswith(("/api/", "/oauth/token", "/oauth/revoke", "/.well-known/")):
        message = {404: "Record not found", 405: "Method not allowed"}.get(status, "Error")
        return JSONResponse({"error": message}, status_code=status)
    if request.url.path.startswith(("/static/", "/media/")):
        return PlainTextResponse("Not found", status_code=status)
    ctx = await page_context(request)
    message = {404: "That page does not exist.", 405: "That action is not possible here."}.get(
        status, "Something went wrong.")
    return render(ctx, "error.html", status=status, message=ctx.gettext(message))


def outgoing_client(settings: Settings) -> OutgoingClient:
    """The one outgoing HTTP client of a process; tests may point it at their own CA with AMBTENAAR_CA_BUNDLE."""
    return OutgoingClient(user_agent=f"AmbtenaarOnline/{__version__} (+{settings.base_url}/)",
                          allow_private_addresses=settings.allow_private_addresses,
                          verify=tls_context(settings.ca_bundle))


def create_app(settings: Settings) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, StreamHub]]:
        embedded: EmbeddedPostgres | None = None
        database_url = settings.database_url
        if not database_url:
            embedded = EmbeddedPostgres(settings.data_dir)
            database_url = embedded.start()
            log.info("embedded PostgreSQL started", extra={"pgdata": str(embedded.pgdata)})
        pool = await open_pool(database_url)
        client: OutgoingClient | None = None
        stop = asyncio.Event()
        worker_task: asyncio.Task[None] | None = None
        cache_task: asyncio.Task[None] | None = None
        hub: StreamHub | None = None
        try:
            async with pool.acquire() as conn:
                applied = await migrate(conn)
            if applied:
                log.info("migrations applied", extra={"versions": ",".join(applied)})
            deps = Deps(settings=settings, pool=pool)
            client = outgoing_client(settings)
            app.state.deps = deps
            app.state.federation = Federation(deps=deps, client=client)
            app.state.streams = hub = StreamHub(deps)  # listens from the first stream on
            app.state.read_cache = read_cache = ReadCache()  # keeps nothing until its listener listens
            cache_task = asyncio.create_task(read_cache.listen(pool, stop), name="read-cache")
            if settings.in_process_worker:
                app.state.worker = Worker(app.state.federation)
                worker_task = asyncio.create_task(app.state.worker.run_until(stop))
                app.state.worker_task = worker_task
            log.info("node ready", extra={"domain": settings.domain, "url": settings.base_url})
            # Lifespan state reaches uvicorn's protocols too: web/api/stream_sockets.py finds the hub there.
            yield {HUB_STATE_KEY: hub}
        finally:
            stop.set()
            if hub is not None:
                await hub.close()
            if cache_task is not None:
                with contextlib.suppress(asyncio.CancelledError, asyncio.TimeoutError):
                    await asyncio.wait_for(cache_task, timeout=10)
            if worker_task is not None:
                with contextlib.suppress(asyncio.CancelledError, asyncio.TimeoutError):
                    await asyncio.wait_for(worker_task, timeout=10)
            if client is not None:
                await client.aclose()
            await pool.close()
            if embedded is not None:
                embedded.stop()

    app = Starlette(
        routes=[*health.ROUTES, *webfinger.ROUTES, *nodeinfo.ROUTES, *federation_routes.ROUTES, *api_routes(),
                *media_proxy.ROUTES,
                Mount("/media", app=media_store.asgi_app(settings)),
                *web_routes()],
        middleware=[Middleware(SecurityHeaders, https=settings.scheme == "https",
                               media_origin=media_store.public_origin(settings)), Middleware(DatabaseOutage),
                    Middleware(ApiCors),
                    Middleware(RequestLimits, upload=MAX_UPLOAD_BYTES + UPLOAD_OVERHEAD,
                               form_upload=FORM_IMAGES * MAX_UPLOAD_BYTES + UPLOAD_OVERHEAD)],
        exception_handlers={HTTPException: _http_error},
        lifespan=lifespan,
    )
    # Starlette's router with its routes indexed (server/routing.py); set before the first request builds the stack.
    app.router = IndexedRouter(app.router.routes, lifespan=lifespan)
    return app
