"""Limits on what a request may carry: body size on every endpoint, and the nesting depth of JSON bodies.

Owns: `RequestLimits`, a pure ASGI middleware that refuses bodies above a limit with 413, both by Content-Length
and while a chunked body streams in, and a NUL character in the path or query with 400; `loads()`, the one JSON
parser for request bodies and fetched documents, with a depth limit; and `unstorable()`, the check for text
PostgreSQL cannot store (NUL, lone surrogates).
Never: reads a body into memory itself (it only counts what passes) or decides what a body means.

Why a middleware: the client API, OAuth, the pages and the inbox each read bodies their own way; one counter in
front of them all means no endpoint can be made to buffer an unbounded body, including ones added later.
Starlette's BaseHTTPMiddleware reads bodies and breaks streaming, so this is plain ASGI (CONVENTIONS, anti-pattern 6).
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY = 1024 * 1024  # every endpoint: the client API's JSON, forms, OAuth, the inbox (which keeps its own 256 KiB)
MAX_JSON_DEPTH = 32  # Mastodon's activities nest 4 or 5 levels; 32 leaves room for any honest document
UPLOAD_OVERHEAD = 256 * 1024  # multipart boundaries and the other form fields next to the file
# Endpoints that take a file: the cap follows server/media.py's limit for one image (set in server/app.py).
UPLOAD_PATHS = ("/api/v1/media", "/api/v2/media")
# The pages whose forms carry images: the composer (and the reply form, which posts to it) and a post's edit form,
# up to four images each (`form_upload`, set in server/app.py), when sent as multipart/form-data; and a profile's
# avatar and header (the client API's update_credentials, and the settings page).
FORM_UPLOAD_PATHS = re.compile(r"/compose|/@[^/]+/[0-9]+/edit|/api/v1/accounts/update_credentials|/settings")
FORM_IMAGES = 4


class JsonTooDeep(ValueError):
    """A JSON document nested deeper than the limit (or so deep the parser gave up)."""


class UnstorableText(ValueError):
    """A JSON document with text PostgreSQL cannot store (an escaped NUL or lone surrogate)."""


def json_depth(value: Any) -> int:
    """How deeply arrays and objects nest (a scalar is 0, `[]` is 1); iterative, so any depth is safe to measure."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level + 1)
        stack.extend((child, level + 1) for child in children)
    return deepest


def loads(body: bytes | str, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """`json.loads` that refuses documents nested deeper than `max_depth` with JsonTooDeep, and documents with
    text PostgreSQL cannot store (`\\u0000`, a lone `\\ud800`) with UnstorableText.

    Python's parser recurses once per level and raises RecursionError (not ValueError) near 1,000 levels, which a
    256 KiB body of `[` reaches easily; both cases become JsonTooDeep. Anything else that is not JSON raises
    ValueError (or UnicodeDecodeError) as json.loads does.
    """
    try:
        data = json.loads(body)
    except RecursionError:
        raise JsonTooDeep(f"the JSON is nested more than {max_depth} levels deep") from None
    if json_depth(data) > max_depth:
        raise JsonTooDeep(f"the JSON is nested more than {max_depth} levels deep")
    if unstorable(data):
        raise UnstorableText("the JSON contains text that cannot be stored (a NUL or a lone surrogate)")
    return data


def unstorable(value: Any) -> bool:
    """Whether text PostgreSQL cannot store hides anywhere in a (nested) value, in a string, a key or an upload's
    file name: a NUL character, or a lone surrogate (which JSON's `\\ud800` escapes can carry but UTF-8 cannot).

    Such input could only fail later, deep in an INSERT, as a 500; callers refuse it up front with a reason."""
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item or not _encodable(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
        elif isinstance(getattr(item, "filename", None), str):
            stack.append(item.filename)
    return False


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class BodyTooLarge(Exception):
    """Raised inside `RequestLimits`' receive when a streamed body passes the limit; caught by the middleware."""


def _is_json_path(path: str) -> bool:
    return path.startswith(("/api/", "/oauth/token", "/oauth/revoke", "/inbox", "/users/", "/actor"))


class RequestLimits:
    """413 for bodies above `default` bytes (`upload` bytes on `upload_paths`, `form_upload` on the pages matching
    `form_upload_paths`), declared or streamed; 400 for a NUL in the path or query string (every page and endpoint
    would pass it on to PostgreSQL, which refuses it)."""

    def __init__(self, app: ASGIApp, *, default: int = MAX_BODY, upload: int = MAX_BODY,
                 upload_paths: tuple[str, ...] = UPLOAD_PATHS, form_upload: int = MAX_BODY,
                 form_upload_paths: re.Pattern[str] = FORM_UPLOAD_PATHS) -> None:
        self.app = app
        self.default = default
        self.upload = max(upload, default)
        self.upload_paths = upload_paths
        self.form_upload = max(form_upload, default)
        self.form_upload_paths = form_upload_paths

    def limit_for(self, path: str, content_type: bytes = b"") -> int:
        if path.rstrip("/") in self.upload_paths:
            return self.upload
        # Only a multipart form carries files; the same page sent as a plain form keeps the usual limit.
        if content_type.lower().startswith(b"multipart/form-data") and self.form_upload_paths.fullmatch(path):
            return self.form_upload
        return self.default

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # Not a coroutine itself, so that an open WebSocket keeps no frame of this layer (docs/benchmarks.md).
        if scope["type"] != "http":
            return self.app(scope, receive, send)
        return self._http(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        query = scope.get("query_string", b"")
        if "\x00" in path or b"\x00" in query or b"%00" in query:
            await _refuse(send, path, 400, "The address contains a NUL character")
            return
        headers = scope.get("headers", [])
        limit = self.limit_for(path, next((value for name, value in headers if name == b"content-type"), b""))
        declared = next((value for name, value in headers if name == b"content-length"), None)
        if declared is not None:
            text = declared.decode("latin-1").strip()
            if not text.isdigit():
                await _refuse(send, path, 400, "The Content-Length header is not a number")
                return
            if int(text) > limit:
                await _refuse(send, path, 413, f"The request body is larger than {limit} bytes")
                return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge()
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            # A chunked body (no Content-Length) passed the limit while the endpoint read it. When the endpoint
            # had already answered, there is nothing left to tell the client.
            if not started:
                await _refuse(send, path, 413, f"The request body is larger than {limit} bytes")


async def _refuse(send: Send, path: str, status: int, message: str) -> None:
    if _is_json_path(path):
        body = json.dumps({"error": message}).encode()
        content_type = b"application/json"
    else:
        body = message.encode()
        content_type = b"text/plain; charset=utf-8"
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
