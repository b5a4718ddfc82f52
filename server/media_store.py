"""Where media files are kept: one interface, two back ends (the data dir, or an S3-compatible object store), so that
web processes and workers on several machines share uploads, avatars and the media proxy's cache.

Owns: reading and checking the `--media-store` settings (a bad value is one clear SettingsError at start-up), one
store per process (`for_settings`), the public address of a stored file (`url`), and serving stored files under
`/media` (`asgi_app`). A store has two areas: `media` (uploads, avatars, headers, logos: public, at unguessable
names) and `media-proxy` (remote images the proxy re-encoded: reachable only through its checks, never public).
Never: decides what a file holds, what it is called, or who may see it (server/media.py, server/profiles.py and
federation/media_proxy.py do).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from server.config import Settings, SettingsError

AREAS = ("media", "media-proxy")
TYPES = {"jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp", "gif": "image/gif"}
# The rules of S3 (and so of MinIO and Ceph RGW) for a bucket's name.
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}$")


@dataclass(frozen=True)
class StoredFile:
    """One file of an area as a listing gives it: its name and when it was last written."""

    name: str
    modified: datetime


class MediaStore(Protocol):
    """A flat namespace of files per area. Names are checked by `check_name` before a back end sees them."""

    async def put(self, area: str, name: str, data: bytes, content_type: str) -> None: ...

    async def get(self, area: str, name: str) -> bytes | None:
        """The file's bytes, or None when there is none by that name."""

    async def delete(self, area: str, names: Sequence[str]) -> None:
        """Remove these files; a name that is already gone is fine."""

    async def list(self, area: str, starting: str = "") -> list[StoredFile]:
        """The files of the area whose names start with `starting` (housekeeping decides which go)."""


@dataclass(frozen=True)
class StoreSettings:
    """The checked `--media-store` settings: no bucket means the data dir."""

    data_dir: str
    bucket: str = ""
    prefix: str = ""
    endpoint: str = ""
    region: str = "us-east-1"
    access_key: str = ""
    secret_key: str = ""


def check_name(area: str, name: str) -> str:
    """A file name a store may use: no folders, no hidden files, no way out of its area."""
    if area not in AREAS:
        raise ValueError(f"not a media area: {area!r}")
    if not _NAME.match(name) or ".." in name:
        raise ValueError(f"not a media file name: {name!r}")
    return name


def _http_url(value: str, flag: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise SettingsError(f"{flag} must be an http:// or https:// address, not {value!r}")
    return value.rstrip("/")


def parse(settings: Settings) -> StoreSettings:
    """The store the settings describe, or a SettingsError of one line that says what to fix."""
    if settings.media_public_url:
        _http_url(settings.media_public_url, "--media-public-url")
    raw = settings.media_store
    if not raw:
        given = [flag for flag, value in (("--s3-endpoint", settings.s3_endpoint),
                                          ("--s3-access-key", settings.s3_access_key),
                                          ("--s3-secret-key", settings.s3_secret_key)) if value]
        if given:
            raise SettingsError(f"{given[0]} is set but --media-store is not an s3:// store (empty: the data dir)")
        return StoreSettings(settings.data_dir)
    if not raw.startswith("s3://"):
        raise SettingsError(f"--media-store must be empty (the data dir) or s3://bucket[/prefix], not {raw!r}")
    bucket, _, prefix = raw[len("s3://"):].partition("/")
    if not bucket:
        raise SettingsError(f"--media-store names no bucket: write s3://bucket[/prefix], not {raw!r}")
    if not _BUCKET.match(bucket) or ".." in bucket:
        raise SettingsError(f"--media-store: {bucket!r} is not a bucket name (3 to 63 lowercase letters, digits, "
                            "dots and hyphens)")
    prefix = prefix.strip("/")
    if any(part in ("", ".", "..") for part in prefix.split("/")) and prefix:
        raise SettingsError(f"--media-store: the prefix {prefix!r} has an empty, '.' or '..' part")
    if bool(settings.s3_access_key) != bool(settings.s3_secret_key):
        raise SettingsError("--s3-access-key and --s3-secret-key must be given together (or neither: the "
                            "provider's usual credentials, e.g. AWS_ACCESS_KEY_ID)")
    endpoint = _http_url(settings.s3_endpoint, "--s3-endpoint") if settings.s3_endpoint else ""
    if not settings.s3_region:
        raise SettingsError("--s3-region must not be empty (us-east-1 suits most S3-compatible stores)")
    return StoreSettings(settings.data_dir, bucket, prefix, endpoint, settings.s3_region, settings.s3_access_key,
                         settings.s3_secret_key)


_STORES: dict[tuple[int, StoreSettings], MediaStore] = {}


def for_settings(settings: Settings) -> MediaStore:
    """This process's store (one per process: a client made before a fork is not used after it)."""
    config = parse(settings)
    key = (os.getpid(), config)
    store = _STORES.get(key)
    if store is None:
        if config.bucket:
            from server.media_store_s3 import S3MediaStore  # its client library loads only where it is used
            store = S3MediaStore(config)
        else:
            from server.media_store_dir import DirMediaStore
            store = DirMediaStore(config.data_dir)
        _STORES[key] = store
    return store


def url(settings: Settings, name: str) -> str:
    """Where browsers, apps and other servers load a stored file of the `media` area."""
    base = settings.media_public_url.rstrip("/") if settings.media_public_url else f"{settings.base_url}/media"
    return f"{base}/{name}"


def public_origin(settings: Settings) -> str:
    """The origin pages load media from when it is not the node's own ('' when it is): the CSP must allow it."""
    if not settings.media_public_url:
        return ""
    parts = urlsplit(settings.media_public_url)
    return f"{parts.scheme}://{parts.netloc}"


def content_type(name: str) -> str:
    return TYPES.get(name.rsplit(".", 1)[-1].lower(), "application/octet-stream")


class StoreFiles:
    """`GET /media/{name}` from an object store, for nodes without a public URL of their own for it (and for
    addresses handed out before one was set)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        response = await self._answer(request)
        await response(scope, receive, send)

    async def _answer(self, request: Request) -> Response:
        if request.method not in ("GET", "HEAD"):
            return PlainTextResponse("Method not allowed", status_code=405)
        name = request.url.path.split("/media/", 1)[-1]  # a name with a folder in it is refused below
        try:
            check_name("media", name)
        except ValueError:
            return PlainTextResponse("Not found", status_code=404)
        data = await for_settings(self.settings).get("media", name)
        if data is None:
            return PlainTextResponse("Not found", status_code=404)
        etag = f'"{hashlib.sha256(data).hexdigest()[:32]}"'
        # A stored file never changes: a new image gets a new name.
        headers = {"ETag": etag, "Cache-Control": "public, max-age=604800, immutable"}
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=headers)
        return Response(b"" if request.method == "HEAD" else data, media_type=content_type(name),
                        headers={**headers, "Content-Length": str(len(data))})


def asgi_app(settings: Settings) -> ASGIApp:
    """What `/media` serves: the data dir's folder as static files (as before stores), or the object store."""
    config = parse(settings)
    if config.bucket:
        return StoreFiles(settings)
    from server.media_store_dir import area_dir
    return StaticFiles(directory=area_dir(config.data_dir, "media"), check_dir=False)
