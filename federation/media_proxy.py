"""Remote images, fetched by this node and served from its own origin: a reader's browser or app never contacts
the remote server, so it cannot be tracked there, and an address inside our network is never handed to it.

Owns: `GET /media/proxy/{signature}/{encoded}` and its cache, the `media-proxy` area of the media store
(server/media_store.py: `<data_dir>/media-proxy` or the bucket's `media-proxy/`; never the public `media` area, so a
cached file is reachable only through the checks here), pruned after 30 days by the workers' housekeeping. A cached
image is `<sha256 of the URL>` and its preview `<...>-small`; their type is read from the image itself.
Never: fetches a URL this node did not sign (`server.uris.proxied_media`), one the outgoing guard refuses
(private addresses unless allowed, size, redirects, time), or one on a domain whose media moderators reject; never
serves the remote bytes as they came: every image is decoded and re-encoded (no metadata, no polyglot files).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from datetime import datetime, timedelta

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from federation import netguard, vocab
from federation.context import Federation
from moderation import domain_blocks
from server import housekeeping, media, media_store, uris
from server.config import Settings
from server.db.pool import connection
from server.errors import Invalid

log = logging.getLogger("ambtenaar.federation")
FETCH_SECONDS = 20.0
CACHE_DAYS = timedelta(days=30)
# The image is ours now (re-encoded), but say so twice: nothing in it may run, and browsers must not sniff.
_HEADERS = {"Cache-Control": "public, max-age=604800", "Content-Security-Policy": "default-src 'none'; sandbox",
            "X-Content-Type-Options": "nosniff", "Cross-Origin-Resource-Policy": "same-origin"}


class ProxyRefusal(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


def image_type(data: bytes) -> str:
    """The type of an image this proxy encoded (media.prepare_image writes JPEG, PNG or WebP only)."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    raise ProxyRefusal(502, "the cached file is not an image we wrote")


async def _fetch_and_store(fed: Federation, remote_url: str, name: str, *, preview: bool = False) -> bytes:
    """Fetch, re-encode and cache the image and its preview; the bytes asked for."""
    try:
        result = await fed.client.get(remote_url, {"Accept": "image/webp,image/png,image/jpeg,image/gif"},
                                      max_bytes=media.MAX_BYTES, timeout=FETCH_SECONDS)
    except netguard.UrlNotAllowed as exc:
        raise ProxyRefusal(403, f"this address may not be fetched: {exc}") from None
    except netguard.NetguardError as exc:
        raise ProxyRefusal(502, f"the image could not be fetched: {exc}") from None
    if result.status != 200:
        raise ProxyRefusal(502 if result.status >= 500 else 404, f"the remote server answered {result.status}")
    try:
        prepared = await asyncio.to_thread(media.prepare_image, result.body)
    except Invalid:
        raise ProxyRefusal(415, "the remote file is not an image we show") from None
    store = media_store.for_settings(fed.deps.settings)
    # The preview first: a reader who finds the full file can rely on the preview being there too.
    await store.put("media-proxy", f"{name}-small", prepared.preview, prepared.content_type)
    await store.put("media-proxy", name, prepared.full, prepared.content_type)
    return prepared.preview if preview else prepared.full


async def prune_cache(settings: Settings, now: datetime, keep: timedelta = CACHE_DAYS) -> int:
    """Housekeeping: cached images older than `keep` are removed (a later view fetches them again), so the
    cache does not grow without end; returns how many files went."""
    store = media_store.for_settings(settings)
    old = [stored.name for stored in await store.list("media-proxy") if stored.modified < now - keep]
    await store.delete("media-proxy", old)
    return len(old)


async def _check_domain(fed: Federation, host: str) -> None:
    """Checked on every request, so an image cached before a domain was blocked is not shown after it."""
    async with connection(fed.deps.pool) as conn:
        verdict = await domain_blocks.gate(conn, fed.deps.settings.domain, host)
        if not verdict.allowed or verdict.rejects_media:
            raise ProxyRefusal(404, f"media of {host} are not shown here")


async def proxy(request: Request) -> Response:
    fed: Federation = request.app.state.federation
    settings = fed.deps.settings
    remote_url = uris.proxied_media_target(settings, request.path_params["signature"],
                                           request.path_params["encoded"])
    if remote_url is None:
        return PlainTextResponse("Not found", status_code=404)
    name = hashlib.sha256(remote_url.encode()).hexdigest()
    preview = request.query_params.get("size") == "small"
    try:
        await _check_domain(fed, vocab.host_of(remote_url))
        data = await media_store.for_settings(settings).get("media-proxy", f"{name}-small" if preview else name)
        if data is None:
            data = await _fetch_and_store(fed, remote_url, name, preview=preview)
        kind = image_type(data)
    except ProxyRefusal as refusal:
        log.info("media proxy refused", extra={"url": remote_url[:300], "status": refusal.status,
                                               "reason": str(refusal)})
        return PlainTextResponse(str(refusal), status_code=refusal.status)
    return Response(b"" if request.method == "HEAD" else data, media_type=kind,
                    headers={**_HEADERS, "Content-Length": str(len(data))})


ROUTES = [Route("/media/proxy/{signature:str}/{encoded:str}", proxy, methods=["GET"])]


@housekeeping.register("media_proxy_cache")
async def housekeep(conn: object, now: datetime, settings: Settings) -> None:
    await prune_cache(settings, now)
