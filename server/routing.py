"""The web process's router: Starlette's, with the routes a path could match looked up instead of tried one by one.

Why: Starlette tries every route's regular expression in order until one matches. With some 400 routes (client
API, ActivityPub, pages) that loop was half the time of a cached page or document (py-spy, docs/benchmarks.md).

Owns: an index of the routes by their leading literal path segments (at most `DEPTH`), and the dispatch that tries
only the routes whose literal prefix the path has, in their original order, so the first full match is the route
Starlette's own loop would choose. Anything else (no full match: 405, the slash redirect, 404) goes to Starlette's
loop unchanged. Never: changes what a route matches.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from starlette.routing import BaseRoute, Match, Mount, Route, Router, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette._utils import get_route_path

DEPTH = 3


@dataclass(frozen=True)
class _Indexed:
    order: int
    route: BaseRoute
    partial: str | None  # the literal start of the next segment (before a parameter); None: no constraint


def _key(route: BaseRoute) -> tuple[tuple[str, ...], str | None] | None:
    """The literal leading segments of a route's path and the literal start of the one after; None when the route
    has no path to index (it is then tried for every request)."""
    path = getattr(route, "path", None) if isinstance(route, Route | Mount | WebSocketRoute) else None
    if not isinstance(path, str) or not path.startswith("/"):
        return None
    literal, brace, _ = path.partition("{")
    segments = literal[1:].split("/")
    complete, rest = segments[:-1], segments[-1]
    if not brace:  # wholly literal: every segment is known
        complete, rest = segments, None
    if len(complete) > DEPTH:
        return tuple(complete[:DEPTH]), None
    return tuple(complete), rest


class IndexedRouter(Router):
    def __init__(self, routes: Sequence[BaseRoute], **kwargs: object) -> None:
        super().__init__(routes=list(routes), **kwargs)  # type: ignore[arg-type]
        self._index: dict[tuple[str, ...], list[_Indexed]] = {}
        self._always: list[_Indexed] = []
        for order, route in enumerate(self.routes):
            key = _key(route)
            if key is None:
                self._always.append(_Indexed(order, route, None))
            else:
                self._index.setdefault(key[0], []).append(_Indexed(order, route, key[1]))

    def candidates(self, path: str) -> list[BaseRoute]:
        """The routes that could match `path`, in their original order."""
        segments = path[1:].split("/")
        found = list(self._always)
        for depth in range(min(DEPTH, len(segments)) + 1):
            for entry in self._index.get(tuple(segments[:depth]), ()):
                if entry.partial is None or (depth < len(segments) and segments[depth].startswith(entry.partial)):
                    found.append(entry)
        found.sort(key=lambda entry: entry.order)
        return [entry.route for entry in found]

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            if "router" not in scope:
                scope["router"] = self
            for route in self.candidates(get_route_path(scope)):
                match, child_scope = route.matches(scope)
                if match is Match.FULL:
                    scope["route"] = route
                    scope.update(child_scope)
                    await route.handle(scope, receive, send)
                    return
        await super().app(scope, receive, send)
