"""CORS for browser-based Mastodon apps (Elk, Phanpy): any origin may call the API with a bearer token.

Owns: preflight answers and Access-Control-* headers on API paths. Cookies are never honoured cross-origin, so
allowing every origin exposes nothing a token does not already grant. Never: touches page routes.
"""

from __future__ import annotations

from collections.abc import Awaitable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

PREFIXES = ("/api/", "/oauth/token", "/oauth/revoke", "/oauth/userinfo", "/.well-known/", "/nodeinfo/")
ALLOW_HEADERS = b"Authorization, Content-Type, Idempotency-Key, Accept, Accept-Language"
EXPOSE_HEADERS = b"Link, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, Retry-After"
METHODS = b"GET, POST, PUT, PATCH, DELETE, OPTIONS"


class ApiCors:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # Not a coroutine itself, so that an open WebSocket keeps no frame of this layer (docs/benchmarks.md).
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith(PREFIXES):
            return self.app(scope, receive, send)
        return self._http(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] == "OPTIONS":
            await send({"type": "http.response.start", "status": 204, "headers": [
                (b"access-control-allow-origin", b"*"), (b"access-control-allow-methods", METHODS),
                (b"access-control-allow-headers", ALLOW_HEADERS), (b"access-control-max-age", b"86400")]})
            await send({"type": "http.response.body", "body": b""})
            return

        async def with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [(b"access-control-allow-origin", b"*"), (b"access-control-expose-headers", EXPOSE_HEADERS)]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_cors)
