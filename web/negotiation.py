"""Content negotiation for page URLs: `/@anna`, `/@anna/ID` and `/orgs/ede` answer ActivityStreams JSON to a server
that asks for it (a citizen pasted the link into Mastodon's search), and the HTML page to everyone else.

Owns: choosing between the page and the document by the Accept header, and `Vary: Accept` on both answers (a
cache must not hand one to the other). Never: builds either answer (web/pages and federation/routes.py do).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from federation.routes import PAGE_DOCUMENTS, wants_activity_json

Endpoint = Callable[[Request], Awaitable[Response]]


def _either(page: Endpoint, document: Endpoint) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        response = await (document if wants_activity_json(request) else page)(request)
        vary = [v.strip() for v in response.headers.get("Vary", "").split(",") if v.strip()]
        if "Accept" not in vary:
            response.headers["Vary"] = ", ".join([*vary, "Accept"])
        return response
    endpoint.__name__ = getattr(page, "__name__", "negotiated")
    return endpoint


def negotiated(routes: list[BaseRoute]) -> list[BaseRoute]:
    """The routes, with each page that has an ActivityPub document answering servers with that document."""
    result: list[BaseRoute] = []
    for route in routes:
        document = PAGE_DOCUMENTS.get(route.path) if isinstance(route, Route) else None
        if document is not None and isinstance(route, Route) and route.methods and "GET" in route.methods:
            result.append(Route(route.path, _either(route.endpoint, document), methods=sorted(route.methods),
                                name=route.name))
        else:
            result.append(route)
    return result
