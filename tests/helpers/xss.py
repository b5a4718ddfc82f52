"""The XSS corpus put everywhere people can write, locally and from a hostile remote server, on a real node.

Local: posts, content warnings, display names and a bio, through the client API and the CLI as people would.
Remote: `HostileServer` is a server we do not run, because our own nodes escape what they send: it serves actor
documents with payloads in the name, bio, profile fields, profile link and badge, and signs Create{Note}s with
payloads in content and content warning with a key the test controls, POSTed to the node's inbox. It is the one
kind of remote behaviour no node of ours can produce (CONVENTIONS 10), so it is written here, in the test.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from federation import signatures
from tests import factories
from tests.helpers.database import scalar
from tests.helpers.nodes import Node, free_port
from tests.helpers.polling import eventually
from tests.xss_payloads import PAYLOADS

AS_PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


class HostileServer:
    """A remote server that serves whatever JSON the test puts in `documents`, by path."""

    def __init__(self, host: str = "127.0.0.4") -> None:
        self.key = signatures.generate_private_key()
        self.url = f"http://{host}:{free_port(host)}"
        self.documents: dict[str, dict[str, Any]] = {}
        documents = self.documents

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                doc = documents.get(self.path.split("?")[0])
                body = json.dumps(doc).encode() if doc is not None else b"{}"
                self.send_response(200 if doc is not None else 404)
                self.send_header("Content-Type", "application/activity+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        hostport = self.url.removeprefix("http://").rsplit(":", 1)
        self.server = ThreadingHTTPServer((hostport[0], int(hostport[1])), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def actor(self, username: str, **fields: Any) -> str:
        actor = f"{self.url}/users/{username}"
        self.documents[f"/users/{username}"] = {
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": actor, "type": "Person", "preferredUsername": username, "inbox": f"{actor}/inbox",
            "followers": f"{actor}/followers", "endpoints": {"sharedInbox": f"{self.url}/inbox"},
            "publicKey": {"id": f"{actor}#main-key", "owner": actor,
                          "publicKeyPem": signatures.public_key_pem(self.key)},
            **fields}
        return actor

    def deliver(self, node: Node, actor: str, activity: dict[str, Any]) -> httpx.Response:
        url = f"{node.url}/inbox"
        body = json.dumps(activity).encode()
        headers = {"Content-Type": "application/activity+json"}
        headers.update(signatures.sign_request_cavage("POST", url, headers, body, self.key, f"{actor}#main-key",
                                                      datetime.now(UTC)))
        return httpx.post(url, content=body, headers=headers, timeout=30)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Seeded:
    """Where the payloads ended up: ids and paths for the tests to look at."""

    root_id: str = ""
    root_uri: str = ""
    local_post_ids: list[str] = field(default_factory=list)
    remote_note_uris: list[str] = field(default_factory=list)
    remote_account_ids: list[int] = field(default_factory=list)
    name_holders: list[str] = field(default_factory=list)

    def pages(self) -> list[str]:
        """Every page that shows payloads: thread, posts, profiles (local and remote), timelines."""
        return ["/@anna", f"/@anna/{self.root_id}", *[f"/@anna/{i}" for i in self.local_post_ids[:3]],
                *[f"/@{name}" for name in self.name_holders], *[f"/accounts/{i}" for i in self.remote_account_ids],
                "/public", "/"]


def token(node: Node, username: str) -> str:
    result = node.cli("token", "create", "--username", username, "--scopes", "read write follow")
    assert result.code == 0, result.err
    return result.out.strip()


def seed(node: Node, hostile: HostileServer) -> Seeded:
    """Every payload as post text and content warning, in names and a bio, locally and from `hostile`."""
    seeded = Seeded()
    factories.person(node, "anna", display_name="Anna")
    anna = httpx.Client(base_url=node.url, headers={"Authorization": f"Bearer {token(node, 'anna')}"}, timeout=30)
    root = anna.post("/api/v1/statuses", json={"status": "Draad voor de test"}).json()
    seeded.root_id, seeded.root_uri = root["id"], root["uri"]
    for i, payload in enumerate(PAYLOADS):
        if "\x00" in payload:  # PostgreSQL cannot store it: refused with a reason (tests/integration/test_hardening)
            assert anna.post("/api/v1/statuses", json={"status": payload}).status_code == 422
            continue
        created = anna.post("/api/v1/statuses", json={
            "status": payload[:500], "spoiler_text": payload[:500] if i % 3 == 0 else "",
            "in_reply_to_id": root["id"] if i % 2 else None})
        assert created.status_code == 200, created.text
        seeded.local_post_ids.append(created.json()["id"])
    bio = "\n\n".join(p for p in PAYLOADS if "\x00" not in p)[:1000]
    updated = anna.patch("/api/v1/accounts/update_credentials", data={"display_name": PAYLOADS[3][:100],
                                                                      "note": bio})
    assert updated.status_code == 200, updated.text
    for n, payload in enumerate((PAYLOADS[0], PAYLOADS[6], PAYLOADS[27], PAYLOADS[8])):
        name = f"naam{n}"
        factories.person(node, name, display_name=payload[:100])
        client = httpx.Client(base_url=node.url, headers={"Authorization": f"Bearer {token(node, name)}"})
        assert client.post("/api/v1/statuses", json={"status": "Reactie", "in_reply_to_id": root["id"]}
                           ).status_code == 200
        seeded.name_holders.append(name)

    anna_uri = f"{node.url}/users/anna"
    fields = [{"type": "PropertyValue", "name": payload[:50], "value": payload} for payload in PAYLOADS[:6]]
    mallory = hostile.actor("mallory", name=PAYLOADS[3], summary="".join(p for p in PAYLOADS if "\x00" not in p), url="javascript:alert(1)",
                            icon={"type": "Image", "url": "javascript:alert(2)"}, attachment=fields,
                            ambtenaarBadge={"type": "AmbtenaarBadge", "function": PAYLOADS[0],
                                            "verification": "javascript:alert(3)",
                                            "organisation": {"id": f"{hostile.url}/users/org", "name": PAYLOADS[6]}})
    mirjam = hostile.actor("mirjam", name="Mirjam\u202e tnemeeG", summary=PAYLOADS[19],
                           ambtenaarBadge={"type": "AmbtenaarBadge", "function": PAYLOADS[27],
                                           "verification": f"{hostile.url}/badges/1",
                                           "organisation": {"id": f"{hostile.url}/users/org", "name": PAYLOADS[4]}})
    for author in (mallory, mirjam):
        corpus = [p for p in PAYLOADS if "\x00" not in p]
        for i, payload in enumerate((*corpus, "".join(corpus)) if author == mallory else corpus[:4]):
            note_id = f"{author}/statuses/{secrets.token_hex(6)}"
            note = {"id": note_id, "type": "Note", "attributedTo": author, "content": payload,
                    "summary": payload[:200] if i % 2 else None, "inReplyTo": root["uri"],
                    "to": [AS_PUBLIC], "cc": [anna_uri], "tag": [{"type": "Mention", "href": anna_uri}],
                    "url": "javascript:alert(4)", "published": datetime.now(UTC).isoformat()}
            activity = {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{note_id}/activity",
                        "type": "Create", "actor": author, "to": note["to"], "cc": note["cc"], "object": note}
            response = hostile.deliver(node, author, activity)
            assert response.status_code == 202, response.text
            seeded.remote_note_uris.append(note_id)
    eventually(lambda: scalar(node.database_url, "SELECT count(*) FROM posts WHERE uri = ANY($1::text[])",
                              seeded.remote_note_uris), lambda n: n == len(seeded.remote_note_uris),
               what="the hostile server's notes stored", timeout=60)
    for author in (mallory, mirjam):
        seeded.remote_account_ids.append(int(scalar(node.database_url,
                                                    "SELECT id FROM accounts WHERE actor_uri = $1", author)))
    return seeded


_DANGEROUS_URL = re.compile(r"^(javascript|vbscript|data):", re.IGNORECASE)


def url_is_dangerous(value: str) -> bool:
    """As a browser reads an address: control characters and spaces around and inside the scheme do not count."""
    return bool(_DANGEROUS_URL.match(re.sub(r"[\x00-\x20]", "", value)))


class PageScan(HTMLParser):
    """What a browser would find executable in a page: script elements, event handlers, script URLs, styles."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.findings: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "script" and not values.get("src", "").startswith("/static/"):
            self.findings.append(f"<script> without our own src: {values}")
        if tag in ("iframe", "object", "embed", "svg", "math", "base") or (
                tag == "meta" and values.get("http-equiv", "").lower() == "refresh"):
            self.findings.append(f"<{tag}> {values}")
        for name, value in values.items():
            if name.startswith("on"):
                self.findings.append(f"<{tag} {name}=...>")
            if name in ("href", "src", "action", "formaction", "srcdoc", "data", "xlink:href") and (
                    url_is_dangerous(value) or name == "srcdoc"):
                self.findings.append(f"<{tag} {name}={value[:60]!r}>")
            if name == "style":
                self.findings.append(f"<{tag} style=...>")


def scan(html: str) -> list[str]:
    parser = PageScan()
    parser.feed(html)
    parser.close()
    return parser.findings
