"""Discovery: WebFinger (RFC 7033) and host-meta, so that `@anna@gemeente-ede.nl` resolves to an actor.

Owns: /.well-known/webfinger and /.well-known/host-meta (our answer carries the OStatus subscribe template, so that
other servers can send their users to /authorize_interaction here), parsing a handle, and asking another server
for its subscribe template ("follow from your own server"). An account of an organisation with a live handle
domain (server/handle_domains.py) answers as `acct:anna@ede.nl` whichever form was asked (`acct:anna@ede.nl`,
`acct:anna@<node domain>` or the actor URL), as Mastodon answers for a split-domain server; actor ids and every
URL stay on this node. Never: signs or stores anything.
"""

from __future__ import annotations

import json
from urllib.parse import unquote, urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from federation import transport, vocab
from federation.context import Federation
from server import accounts, handle_domains, read_cache, uris
from server.db.pool import connection
from server.deps import Deps

JRD = "application/jrd+json"
SUBSCRIBE = vocab.SUBSCRIBE


def parse_handle(handle: str) -> tuple[str, str] | None:
    """`acct:anna@host`, `@anna@host` or `anna@host` as (username, host); None when it is not one."""
    text = handle.strip()
    if text.lower().startswith("acct:"):
        text = text[5:]
    text = text.lstrip("@")
    username, sep, host = text.partition("@")
    if not sep or not username or not host or "@" in host or "/" in host:
        return None
    return username, host.lower()


def _username_for(resource: str, deps: Deps) -> tuple[str, str | None] | None:
    """(username, the handle domain the resource names or None for ours), or None when it is not one of ours."""
    settings = deps.settings
    handle = parse_handle(resource) if not resource.startswith(("http://", "https://")) else None
    if handle:
        username, host = handle
        return (username, None if host == settings.domain else host)
    parts = urlsplit(resource)
    if parts.netloc.lower() != settings.domain:
        return None
    for prefix in ("/users/", "/@"):
        if parts.path.startswith(prefix):
            rest = parts.path[len(prefix):]
            return (rest, None) if rest and "/" not in rest else None
    return None


async def _account_and_handle_domain(deps: Deps, username: str, asked_domain: str | None
                                     ) -> tuple[accounts.Account | None, str | None]:
    """The local account and the domain of its handle: an organisation's handle domain (issue 17) when it is
    live, or when it is the one asked for (even pending: only that domain's own redirect brings anyone here with
    it, which is what its self-test checks); None for the node's own domain."""
    async with connection(deps.pool) as conn:
        account = await accounts.get_account_by_username(conn, username)
        if account is None or account.organisation_id is None:
            return (None, None) if asked_domain else (account, None)
        if asked_domain is not None:
            wanted = await handle_domains.get_by_domain(conn, asked_domain)
            if wanted is None or wanted.organisation_id != account.organisation_id:
                return None, None
            return account, wanted.domain
        return account, await handle_domains.handle_domain_of(conn, account)


async def webfinger(request: Request) -> Response:
    """An account's answer is rendered once per process and kept in the read cache until the account changes."""
    return await read_cache.respond(request, ("webfinger", request.url.query), lambda: _webfinger(request))


async def _webfinger(request: Request) -> Response | read_cache.Fresh:
    deps: Deps = request.app.state.deps
    resource = unquote(request.query_params.get("resource", "")).strip()
    if not resource or len(resource) > 500:
        return JSONResponse({"error": "the resource parameter is required, e.g. acct:anna@" + deps.settings.domain},
                            status_code=400)
    if not resource.startswith(("acct:", "http://", "https://")) and parse_handle(resource) is None:
        return JSONResponse({"error": "resource must be acct:user@host or an actor URL"}, status_code=400)
    settings = deps.settings
    if resource in (uris.instance_actor(settings), f"acct:{settings.domain.split(':')[0]}@{settings.domain}"):
        return JSONResponse({"subject": f"acct:{settings.domain.split(':')[0]}@{settings.domain}",
                             "aliases": [uris.instance_actor(settings)],
                             "links": [{"rel": "self", "type": "application/activity+json",
                                        "href": uris.instance_actor(settings)}]}, media_type=JRD)
    wanted = _username_for(resource, deps)
    account, handle_domain = await _account_and_handle_domain(deps, *wanted) if wanted else (None, None)
    if account is None or account.disabled_at is not None:
        return JSONResponse({"error": "no such account here"}, status_code=404)
    name = account.username
    aliases = [uris.profile(settings, name), uris.actor(settings, name)]
    if handle_domain:  # the node's own form stays an alias, so servers that knew it still match
        aliases.append(f"acct:{name}@{settings.domain}")
    document = {
        "subject": f"acct:{name}@{handle_domain or settings.domain}",
        "aliases": aliases,
        "links": [
            {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": uris.profile(settings, name)},
            {"rel": "self", "type": "application/activity+json", "href": uris.actor(settings, name)},
            {"rel": SUBSCRIBE,
             "template": f"{settings.base_url}/authorize_interaction?uri={{uri}}"},
        ]}
    # Access-Control-Allow-Origin: web/api/cors.py, for all of /.well-known/
    return read_cache.Fresh(json.dumps(document, ensure_ascii=False).encode(), JRD,
                            frozenset({read_cache.account_tag(account.id)}),
                            (("Cache-Control", "public, max-age=60"),))


async def subscribe_template(fed: Federation, username: str, host: str) -> str | None:
    """Ask `host` (by WebFinger for `username@host`) where its users go to follow or answer something elsewhere.

    None when the server answers without a template; transport.Blocked for a server we do not federate with,
    transport.ResolveError when the account or the server cannot be reached."""
    return vocab.webfinger_subscribe_template(await transport.webfinger_document(fed, username, host))


async def host_meta(request: Request) -> Response:
    base = request.app.state.deps.settings.base_url
    xml = ('<?xml version="1.0" encoding="UTF-8"?>\n<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n'
           f'  <Link rel="lrdd" template="{base}/.well-known/webfinger?resource={{uri}}"/>\n</XRD>\n')
    return Response(xml, media_type="application/xrd+xml")


ROUTES = [Route("/.well-known/webfinger", webfinger, methods=["GET"]),
          Route("/.well-known/host-meta", host_meta, methods=["GET"])]
