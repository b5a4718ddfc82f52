"""NodeInfo 2.0 and 2.1: what software this is and how many use it, for crawlers and other servers.

Owns: /.well-known/nodeinfo and /nodeinfo/2.0 and /2.1 (2.0 is what older crawlers and servers ask for; it lacks
only the software's homepage). Never: anything but counting.
"""

from __future__ import annotations

import json
from datetime import timedelta

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from server import __version__, read_cache
from server.db.pool import connection
from server.deps import Deps

VERSIONS = ("2.0", "2.1")


def schema(version: str) -> str:
    return f"http://nodeinfo.diaspora.software/ns/schema/{version}"


async def discovery(request: Request) -> Response:
    base = request.app.state.deps.settings.base_url
    return JSONResponse({"links": [{"rel": schema(v), "href": f"{base}/nodeinfo/{v}"} for v in VERSIONS]})


async def nodeinfo(request: Request) -> Response:
    """Counted once a minute per process at most (the read cache's expiry): the counts read whole tables."""
    return await read_cache.respond(request, ("nodeinfo", request.url.path), lambda: _nodeinfo(request))


async def _nodeinfo(request: Request) -> read_cache.Fresh:
    version = request.url.path.rsplit("/", 1)[1]
    deps: Deps = request.app.state.deps
    now = deps.now()
    async with connection(deps.pool) as conn:
        row = await conn.fetchrow(
            """SELECT (SELECT count(*) FROM accounts WHERE domain IS NULL AND disabled_at IS NULL) AS users,
                 (SELECT count(DISTINCT account_id) FROM posts p JOIN accounts a ON a.id = p.account_id
                    WHERE a.domain IS NULL AND p.created_at > $1) AS month,
                 (SELECT count(DISTINCT account_id) FROM posts p JOIN accounts a ON a.id = p.account_id
                    WHERE a.domain IS NULL AND p.created_at > $2) AS halfyear,
                 (SELECT count(*) FROM posts p JOIN accounts a ON a.id = p.account_id
                    WHERE a.domain IS NULL AND p.deleted_at IS NULL AND p.reblog_of_id IS NULL) AS posts""",
            now - timedelta(days=30), now - timedelta(days=180))
    software = {"name": "ambtenaar-online", "version": __version__}
    if version == "2.1":
        software["homepage"] = f"{deps.settings.base_url}/about"
    document = {
        "version": version,
        "software": software,
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": []},
        "openRegistrations": False,
        "usage": {"users": {"total": row["users"], "activeMonth": row["month"], "activeHalfyear": row["halfyear"]},
                  "localPosts": row["posts"]},
        "metadata": {"nodeName": f"Ambtenaar Online — {deps.settings.domain}"},
    }
    return read_cache.Fresh(json.dumps(document, ensure_ascii=False).encode(),
                            f'application/json; profile="{schema(version)}#"', frozenset(),
                            (("Cache-Control", "public, max-age=60"),))


ROUTES = [Route("/.well-known/nodeinfo", discovery, methods=["GET"]),
          *[Route(f"/nodeinfo/{v}", nodeinfo, methods=["GET"]) for v in VERSIONS]]
