"""A stand-in for a visitor's own server (Mastodon and others): WebFinger with or without an OStatus subscribe
template, and the page the template points at. Remote behaviour we cannot produce with our own node (our node
answers WebFinger for its own users only, with its own template), so a small real HTTP server on loopback.

Accounts: `jan` has a template, `geen` has none; anyone else is 404.
"""

from __future__ import annotations

import html
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from tests.helpers.nodes import free_port


@dataclass
class SubscribeStub:
    port: int
    requests: list[str] = field(default_factory=list)

    def host(self, name: str = "127.0.0.1") -> str:
        return f"{name}:{self.port}"

    def template(self, name: str = "127.0.0.1") -> str:
        return f"http://{self.host(name)}/authorize_interaction?uri={{uri}}"


@contextmanager
def subscribe_stub() -> Iterator[SubscribeStub]:
    stub = SubscribeStub(port=free_port())

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
            stub.requests.append(self.path)
            parts = urlsplit(self.path)
            query = parse_qs(parts.query)
            host = self.headers.get("Host", stub.host())
            if parts.path == "/.well-known/webfinger":
                user = query.get("resource", [""])[0].removeprefix("acct:").split("@")[0]
                if user not in ("jan", "geen"):
                    return self._send(404, "application/jrd+json", b"{}")
                links = [{"rel": "self", "type": "application/activity+json", "href": f"http://{host}/users/{user}"}]
                if user == "jan":
                    links.append({"rel": "http://ostatus.org/schema/1.0/subscribe",
                                  "template": f"http://{host}/authorize_interaction?uri={{uri}}"})
                body = json.dumps({"subject": f"acct:{user}@{host}", "links": links}).encode()
                return self._send(200, "application/jrd+json", body)
            if parts.path == "/authorize_interaction":
                uri = query.get("uri", [""])[0]
                page = (f'<!doctype html><html lang="en"><head><title>Stub server</title></head><body><main>'
                        f'<h1>Follow from the stub server</h1><p id="uri">{html.escape(uri)}</p></main></body></html>')
                return self._send(200, "text/html; charset=utf-8", page.encode())
            self._send(404, "text/plain", b"not here")

        def _send(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", stub.port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()
