"""NodeInfo 2.1: what software this is and how many use it, for crawlers and other servers.

Owns: /.well-known/nodeinfo and /nodeinfo/2.1. Never: anything but counting.
"""

from __future__ import annotations

from datetime import timedelta

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from server import __version__
from server.db.pool import connection
from server.deps import Deps

SCHEMA = "http://nodeinfo.diaspora.software/ns/schema/2.1"


async def discovery(request: Request) -> Response:
    base = request.app.state.deps.settings.base_url
    return JSONResponse({"links": [{"rel": SCHEMA, "href": f"{base}/nodeinfo/2.1"}]})


async def nodeinfo(request: Request) -> Response:
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
    return JSONResponse({
        "version": "2.1",
        "software": {"name": "ambtenaar-online", "version": __version__,
                     "homepage": f"{deps.settings.base_url}/about"},
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": []},
        "openRegistrations": False,
        "usage": {"users": {"total": row["users"], "activeMonth": row["month"], "activeHalfyear": row["halfyear"]},
                  "localPosts": row["posts"]},
        "metadata": {"nodeName": f"Ambtenaar Online — {deps.settings.domain}"},
    }, media_type=f'application/json; profile="{SCHEMA}#"')


ROUTES = [Route("/.well-known/nodeinfo", discovery, methods=["GET"]),
          Route("/nodeinfo/2.1", nodeinfo, methods=["GET"])]
