"""The indexed router (server/routing.py) offers, for any path, every route of the app that Starlette's own loop
could match, in the same order, so the first full match is the same route."""

from __future__ import annotations

import re

from starlette.routing import Match

from server.app import create_app
from server.config import Settings
from server.routing import IndexedRouter


def _paths(routes: list[object]) -> set[str]:
    """Each route's path with its parameters filled in several ways, and some paths no route has."""
    found = {"/", "/@anna", "/@anna/123", "/@anna/", "/nope", "/static/app.css", "/media/a/b.png", "/users/",
             "/api/v1/", "/.well-known/", "/api/v1/statuses/1/context/extra", "//", "/@"}
    for route in routes:
        path = getattr(route, "path", "")
        for filling in ("123", "@x", "a/b", "", "x.y"):
            found.add(re.sub(r"\{[^}]+\}", filling, path))
            found.add(re.sub(r"\{[^}]+\}", filling, path) + "/")
    return found


def test_every_route_that_could_match_is_a_candidate_in_the_original_order() -> None:
    router = create_app(Settings()).router
    assert isinstance(router, IndexedRouter) and len(router.routes) > 300
    checked = 0
    for path in _paths(router.routes):
        candidates = router.candidates(path)
        assert candidates == sorted(candidates, key=router.routes.index), path
        for kind in ("http", "websocket"):
            for method in ("GET", "POST", "DELETE"):
                scope = {"type": kind, "path": path, "root_path": "", "method": method, "headers": []}
                matching = [r for r in router.routes if r.matches(scope)[0] is not Match.NONE]
                assert all(r in candidates for r in matching), (path, kind, method)
                checked += 1
    assert checked > 5000
    # What it is for: a profile page or an actor is tried against a handful of routes, not hundreds.
    assert len(router.candidates("/users/anna/statuses/1")) < 20 and len(router.candidates("/@anna")) < 30
