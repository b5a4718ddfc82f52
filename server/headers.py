"""Security headers on every response, as pure ASGI middleware (it never reads the body).

Owns: the Content-Security-Policy and its companions. Never: changes a response's content.
"""

from __future__ import annotations

from collections.abc import Awaitable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")


def csp(media_origin: str = "") -> str:
    """The policy; `media_origin` is where the media store serves images when that is not this node
    (`--media-public-url`, server/media_store.py), so pages may show them."""
    return CSP.replace("img-src 'self' data:", f"img-src 'self' data: {media_origin}") if media_origin else CSP


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, https: bool, media_origin: str = "") -> None:
        self.app = app
        self.https = https
        self.csp = csp(media_origin).encode()

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # Not a coroutine itself, so that an open WebSocket keeps no frame of this layer (docs/benchmarks.md).
        if scope["type"] != "http":
            return self.app(scope, receive, send)
        return self._http(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                extra = [(b"content-security-policy", self.csp), (b"x-content-type-options", b"nosniff"),
                         (b"referrer-policy", b"same-origin"), (b"x-frame-options", b"DENY"),
                         (b"permissions-policy", b"camera=(), microphone=(), geolocation=()")]
                if self.https or scope.get("scheme") == "https":
                    extra.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
                headers.extend((k, v) for k, v in extra if k not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
