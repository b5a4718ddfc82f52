"""Remote images, fetched by this node and served from its own origin: a reader's browser or app never contacts
the remote server, so it cannot be tracked there, and an address inside our network is never handed to it.

Owns: `GET /media/proxy/{signature}/{encoded}` and the cache under `<data_dir>/media-proxy` (outside the folder
that `/media` serves as static files, so a cached file is reachable only through the checks here), pruned after
30 days by the workers' housekeeping.
Never: fetches a URL this node did not sign (`server.uris.proxied_media`), one the outgoing guard refuses
(private addresses unless allowed, size, redirects, time), or one on a domain whose media moderators reject; never
serves the remote bytes as they came: every image is decoded and re-encoded (no metadata, no polyglot files).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from datetime import datetime, timedelta
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

from federation import netguard, vocab
from federation.context import Federation
from moderation import domain_blocks
from server import housekeeping, media, uris
from server.config import Settings
from server.db.pool import connection
from server.errors import Invalid

log = logging.getLogger("ambtenaar.federation")
FETCH_SECONDS = 20.0
CACHE_DAYS = timedelta(days=30)
_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
# The image is ours now (re-encoded), but say so twice: nothing in it may run, and browsers must not sniff.
_HEADERS = {"Cache-Control": "public, max-age=604800", "Content-Security-Policy": "default-src 'none'; sandbox",
            "X-Content-Type-Options": "nosniff", "Cross-Origin-Resource-Policy": "same-origin"}


class ProxyRefusal(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


def cache_dir(data_dir: str) -> Path:
    return Path(data_dir) / "media-proxy"


def _cached(folder: Path, name: str) -> Path | None:
    for extension in _TYPES:
        path = folder / f"{name}.{extension}"
        if path.is_file():
            return path
    return None


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    temporary.replace(path)


async def _fetch_and_store(fed: Federation, remote_url: str, folder: Path, name: str) -> None:
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
    folder.mkdir(parents=True, exist_ok=True)
    # The preview first: a reader who finds the full file can rely on the preview being there too.
    _write_atomically(folder / f"{name}-small.{prepared.extension}", prepared.preview)
    _write_atomically(folder / f"{name}.{prepared.extension}", prepared.full)


def prune_cache(data_dir: str, now: datetime, keep: timedelta = CACHE_DAYS) -> int:
    """Housekeeping: cached images older than `keep` are removed (a later view fetches them again), so the
    cache does not grow without end; returns how many files went."""
    folder = cache_dir(data_dir)
    if not folder.is_dir():
        return 0
    cutoff = (now - keep).timestamp()
    removed = 0
    for path in folder.iterdir():
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except FileNotFoundError:  # another process pruned or replaced it meanwhile
            continue
    return removed


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
    folder = cache_dir(settings.data_dir)
    name = hashlib.sha256(remote_url.encode()).hexdigest()
    try:
        await _check_domain(fed, vocab.host_of(remote_url))
        path = _cached(folder, name)
        if path is None:
            await _fetch_and_store(fed, remote_url, folder, name)
            path = _cached(folder, name)
            if path is None:
                raise ProxyRefusal(502, "the image could not be stored")
    except ProxyRefusal as refusal:
        log.info("media proxy refused", extra={"url": remote_url[:300], "status": refusal.status,
                                               "reason": str(refusal)})
        return PlainTextResponse(str(refusal), status_code=refusal.status)
    if request.query_params.get("size") == "small":
        path = path.with_name(f"{name}-small{path.suffix}")
    return FileResponse(path, media_type=_TYPES[path.suffix.lstrip(".")], headers=_HEADERS)


ROUTES = [Route("/media/proxy/{signature:str}/{encoded:str}", proxy, methods=["GET"])]


@housekeeping.register("media_proxy_cache")
async def housekeep(conn: object, now: datetime, settings: Settings) -> None:
    await asyncio.to_thread(prune_cache, settings.data_dir, now)
