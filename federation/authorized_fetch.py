"""Authorized-fetch mode (setting `authorized_fetch`): our actors, Notes and collections as ActivityStreams JSON
only for servers that sign the request and that this node federates with, as Mastodon's AUTHORIZED_FETCH does.

Owns: the decision for one GET: serve it, 401 (not signed, or a signature that does not verify) or 403 (the
signer's server is suspended here, or not on the allowlist in allowlist mode); and the wrapper `routes.py` puts
around those handlers. Never: the instance actor, WebFinger or NodeInfo (other servers need them to verify our
own signed requests, so they stay public), HTML pages (a browser is redirected to the page as before), or
deciding what a block is (moderation/domain_blocks.py does).

Our own fetches (federation/transport.py) are always signed by the instance actor, so two of our nodes in this
mode still federate: each verifies the other's signature with the other's public instance actor.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from federation import inbox, signatures
from federation.context import Federation
from moderation import domain_blocks
from server.db.pool import connection

Handler = Callable[[Request], Awaitable[Response]]


def _refused(status: int, reason: str) -> Response:
    # Never cached by a proxy: the same URL answers differently to another signer.
    return JSONResponse({"error": reason}, status_code=status,
                        headers={"Cache-Control": "no-store", "Vary": "Accept, Signature, Signature-Input"})


async def _blocked(fed: Federation, host: str) -> str | None:
    async with connection(fed.deps.pool) as conn:
        verdict = await domain_blocks.gate(conn, fed.deps.settings.domain, host)
    return None if verdict.allowed else verdict.reason


async def refusal(fed: Federation, request: Request) -> Response | None:
    """None when the request may have our JSON; else the 401 or 403 to answer."""
    headers = {k.lower(): v for k, v in request.headers.items()}
    try:
        key_id = signatures.signature_key_id(headers)
    except signatures.SignatureError as exc:
        return _refused(401, str(exc))
    if not key_id:
        return _refused(401, "this server is in authorized-fetch mode: sign the request with your actor's key")
    # Before fetching the key: a blocked server cannot make us fetch from it. A keyId that is no URL has no host;
    # verify_signer answers it 401.
    key_host = inbox.key_host(key_id)
    if key_host is not None and await _blocked(fed, key_host) is not None:
        return _refused(403, "this server does not federate with yours")
    try:
        signer = await inbox.verify_signer(fed, request, None)
    except inbox.InboxRefusal as refused:
        return _refused(refused.status, refused.reason)
    # The key is usually on the signer's own host, which was just checked.
    if signer.is_suspended or (signer.domain and signer.domain != key_host
                               and await _blocked(fed, signer.domain) is not None):
        return _refused(403, "this server does not federate with yours")
    request.state.signer = signer  # the viewer for the visibility rule (routes.status)
    return None


def signed_only(handler: Handler, *, pages: bool = False) -> Handler:
    """Wrap an ActivityPub GET handler; with `pages`, a request that does not ask for ActivityStreams JSON (a
    browser) goes to the handler unchecked, which redirects it to the HTML page."""

    async def guarded(request: Request) -> Response:
        fed: Federation = request.app.state.federation
        if not fed.deps.settings.authorized_fetch:
            return await handler(request)
        accept = request.headers.get("accept", "").lower()
        if pages and not any(t in accept for t in ("application/activity+json", "application/ld+json")):
            return await handler(request)
        refused = await refusal(fed, request)
        if refused is not None:
            return refused
        response = await handler(request)
        response.headers["Cache-Control"] = "private, max-age=60"
        response.headers["Vary"] = "Accept, Signature, Signature-Input"
        return response

    guarded.__name__ = getattr(handler, "__name__", "guarded")
    return guarded
