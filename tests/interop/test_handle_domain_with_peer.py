"""Handles on the organisation's own domain (issue 17) over real TLS: our node is gemeente.test, the organisation's
handle domain is ministerie.test (127.0.0.3:443), served by a small web server started here with the harness's
certificate. While it answers 404, an HTML page, or a redirect without CORS, the self-test fails with the line that
says so and the domain stays pending; once it redirects /.well-known/webfinger and /.well-known/nodeinfo to
gemeente.test with Access-Control-Allow-Origin: *, the check passes and the domain is active. The Fedify peer then
finds @anna@ministerie.test, follows her, receives her post and replies into her thread; WebFinger of her actor
URL gives the handle; changing the domain after that is refused. Skipped where the harness is not set up.
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from tests import factories
from tests.helpers.database import fetch
from tests.helpers.nodes import Node
from tests.helpers.polling import eventually
from tests.interop.peers import OUR_HOST, Peer, harness_problem, peers_dir

_problem = harness_problem()
if _problem:
    pytest.skip(f"Fedify peer harness not available: {_problem}", allow_module_level=True)

HANDLE_DOMAIN = "ministerie.test"
HANDLE_ADDRESS = "127.0.0.3"
ORG = "ministerie-bzk"
ANNA = f"https://{OUR_HOST}/users/anna"


class _Site(BaseHTTPRequestHandler):
    """The organisation's own web server, in the mode the test sets: 404, html, nocors or redirect."""

    mode = "404"

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        discovery = self.path.startswith(("/.well-known/webfinger", "/.well-known/nodeinfo"))
        if discovery and self.mode in ("redirect", "nocors"):
            self.send_response(301)
            self.send_header("Location", f"https://{OUR_HOST}{self.path}")
            if self.mode == "redirect":
                self.send_header("Access-Control-Allow-Origin", "*")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.mode == "html" or not discovery:
            body = b"<!doctype html><title>Ministerie</title><p>Welkom</p>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
        else:
            body = b"Not found"
            self.send_response(404)
            self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def site() -> Iterator[type[_Site]]:
    certs = peers_dir() / "certs"
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(certs / f"{HANDLE_DOMAIN}.crt"), str(certs / f"{HANDLE_DOMAIN}.key"))
    handler = type("Site", (_Site,), {"mode": "404"})
    server = ThreadingHTTPServer((HANDLE_ADDRESS, 443), handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield handler
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def ministerie(gemeente: Node) -> Node:
    factories.organisation(gemeente, slug=ORG, name="Ministerie van BZK", kind="ministerie")
    factories.person(gemeente, "anna", org=ORG, display_name="Anna Jansen")
    factories.person(gemeente, "mila", org=ORG, role="org-admin")
    done = gemeente.cli("org", "domain", "--org", ORG, "--handle-domain", HANDLE_DOMAIN)
    assert done.code == 0 and "pending" in done.out, done.err
    return gemeente


def _check(node: Node) -> tuple[int, str]:
    result = node.cli("org", "domain-check", "--org", ORG)
    return result.code, result.out + result.err


def _state(node: Node) -> str:
    return str(fetch(node.database_url, "SELECT state FROM handle_domains WHERE domain = $1", HANDLE_DOMAIN)[0]["state"])


def test_the_self_test_names_each_failure_and_passes_once_the_redirect_is_there(
        ministerie: Node, site: type[_Site]) -> None:
    expected = {"404": "FAIL webfinger redirect: https://ministerie.test/.well-known/webfinger?resource="
                       "acct:ministerie_bzk@ministerie.test answered 404",
                "html": "answered 200 with text/html itself instead of redirecting",
                "nocors": "FAIL webfinger CORS: no Access-Control-Allow-Origin header"}
    for mode, line in expected.items():
        site.mode = mode
        code, output = _check(ministerie)
        assert code == 1 and line in output, (mode, output)
        assert "change:" in output and _state(ministerie) == "pending"
    site.mode = "redirect"
    code, output = _check(ministerie)
    assert code == 0, output
    assert f"ok   webfinger subject: subject acct:ministerie_bzk@{HANDLE_DOMAIN}" in output
    assert f"ok   webfinger self link: self https://{OUR_HOST}/users/ministerie_bzk" in output
    assert "ok   nodeinfo answer" in output and output.strip().endswith(f"{HANDLE_DOMAIN} is active")
    assert _state(ministerie) == "active"
    # Followers' servers hear of the new handle: an Update of each of the organisation's actors is queued.
    updated = fetch(ministerie.database_url, "SELECT a.username FROM outbox_events e JOIN accounts a "
                    "ON a.id = e.subject_id WHERE e.kind = 'account.updated' AND e.detail->>'change' = "
                    "'handle_domain' ORDER BY a.username")
    assert {r["username"] for r in updated} >= {"anna", "ministerie_bzk"}


def _anna(node: Node) -> httpx.Client:
    token = node.cli("token", "create", "--username", "anna", "--scopes", "read write follow")
    assert token.code == 0, token.err
    return httpx.Client(base_url=node.url, verify=node.verify(), timeout=30,
                        headers={"Authorization": f"Bearer {token.out.strip()}"})


def test_a_fedify_peer_follows_anna_on_the_handle_domain_and_replies_into_her_thread(
        ministerie: Node, site: type[_Site], burger: Peer) -> None:
    assert _state(ministerie) == "active"  # after the previous test
    found = burger.call("POST", "/lookup", target=f"@anna@{HANDLE_DOMAIN}")
    assert found["webfinger"]["subject"] == f"acct:anna@{HANDLE_DOMAIN}", found
    assert found["document"]["id"] == ANNA and found["document"]["webfinger"] == f"anna@{HANDLE_DOMAIN}"

    followed = burger.call("POST", "/follow", target=f"@anna@{HANDLE_DOMAIN}")
    assert followed["state"] == "accepted", followed
    with _anna(ministerie) as anna:
        post = anna.post("/api/v1/statuses", json={"status": "Open dag op het ministerie.",
                                                    "voice": "official"}).json()
        created = burger.received(type="Create", actor=ANNA, wait=20, min=1)
        note_uri = next(c["object_id"] for c in created if "Open dag" in c["activity"]["object"]["content"])
        burger.call("POST", "/reply", object_id=note_uri, text="Hoe laat begint het?")
        thread = eventually(lambda: anna.get(f"/api/v1/statuses/{post['id']}/context").json(),
                            lambda t: len(t["descendants"]) == 1, what="the peer's reply in anna's thread")
        assert thread["descendants"][0]["account"]["acct"] == "jan@burger.test"

    by_url = httpx.get(f"https://{OUR_HOST}/.well-known/webfinger", params={"resource": ANNA},
                       verify=ministerie.verify()).json()
    assert by_url["subject"] == f"acct:anna@{HANDLE_DOMAIN}"
    via_domain = httpx.get(f"https://{HANDLE_DOMAIN}/.well-known/webfinger",
                           params={"resource": f"acct:anna@{HANDLE_DOMAIN}"}, follow_redirects=True,
                           verify=ministerie.verify()).json()
    assert via_domain["subject"] == f"acct:anna@{HANDLE_DOMAIN}" and via_domain["aliases"][1] == ANNA

    refused = ministerie.cli("org", "domain", "--org", ORG, "--handle-domain", "provincie.test")
    assert refused.code == 1 and "can no longer be changed" in refused.err, refused.err
