"""netguard against a real HTTP(S) server on loopback (aiohttp in a thread), plus its pure address and URL checks.

Refusals are proven to happen before any connection: the connector's `connect` is replaced by one that fails the test.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gzip
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from federation import netguard, netguard_engine
from federation.netguard import (AddressNotAllowed, FetchFailed, FetchTimeout, HostNotFound, NetguardError,
                                 OutgoingClient, ResponseTooLarge, TooManyRedirects, UrlNotAllowed, address_refusal,
                                 check_url, redirect_target, resolve_checked)

UA = "AmbtenaarOnline/0.1.0 (+https://test.invalid/)"
ADDRESSES = ("127.0.0.1", "127.0.0.2", "127.0.0.3")


@dataclass
class Server:
    port: int
    tls_port: int
    ca_path: str
    state: dict[str, Any] = field(default_factory=dict)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"


def _make_certs(directory: Path) -> tuple[str, str, str]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.timezone.utc)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "netguard test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(1).not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(hours=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(2)
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    (directory / "ca.pem").write_bytes(ca.public_bytes(pem))
    (directory / "cert.pem").write_bytes(cert.public_bytes(pem))
    (directory / "key.pem").write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return str(directory / "ca.pem"), str(directory / "cert.pem"), str(directory / "key.pem")


def _app(state: dict[str, Any]) -> web.Application:
    async def ok(request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async def headers(request: web.Request) -> web.Response:
        return web.json_response({k.lower(): v for k, v in request.headers.items()})

    async def big(request: web.Request) -> web.Response:
        return web.Response(body=b"x" * (2 * netguard.MIB))

    async def stream(request: web.Request) -> web.StreamResponse:
        # Chunked, no Content-Length: the cap must be enforced while reading. Up to 256 MiB are offered.
        response = web.StreamResponse()
        await response.prepare(request)
        chunk, sent = b"x" * (64 * 1024), 0
        state["stream_sent"] = 0
        try:
            while sent < 256 * netguard.MIB:
                await response.write(chunk)
                sent += len(chunk)
                state["stream_sent"] = sent
        except (ConnectionError, RuntimeError):
            pass
        return response

    async def gzip_bomb(request: web.Request) -> web.Response:
        # 8 MiB of zeros in about 8 KB: the cap applies to the decompressed body.
        return web.Response(body=gzip.compress(bytes(8 * netguard.MIB), compresslevel=1),
                            headers={"Content-Encoding": "gzip", "Content-Type": "application/json"})

    async def sleep(request: web.Request) -> web.Response:
        await asyncio.sleep(1)
        return web.Response(text="late")

    async def redirect(request: web.Request) -> web.Response:
        left = int(request.match_info["left"])
        if left == 0:
            return web.Response(text="arrived")
        raise web.HTTPFound(f"/redirect/{left - 1}")

    async def to_other_host(request: web.Request) -> web.Response:
        # 127.0.0.1 -> 127.0.0.2: another origin.
        raise web.HTTPFound(f"http://127.0.0.2:{request.url.port}/headers")

    async def bounce(request: web.Request) -> web.Response:
        # 127.0.0.1 -> 127.0.0.2 -> back to 127.0.0.1.
        if request.url.host == "127.0.0.1":
            raise web.HTTPFound(f"http://127.0.0.2:{request.url.port}/bounce")
        raise web.HTTPFound(f"http://127.0.0.1:{request.url.port}/headers")

    async def to_same_host(request: web.Request) -> web.Response:
        raise web.HTTPFound("/headers")

    async def set_cookie(request: web.Request) -> web.Response:
        response = web.HTTPFound("/headers")
        response.set_cookie("session", "secret")
        raise response

    async def inbox(request: web.Request) -> web.Response:
        state.setdefault("posts", []).append(await request.read())
        return web.Response(status=202, body=b"y" * 5000)

    async def slow_inbox(request: web.Request) -> web.Response:
        state["in_flight"] = state.get("in_flight", 0) + 1
        state["max_in_flight"] = max(state.get("max_in_flight", 0), state["in_flight"])
        await asyncio.sleep(0.05)
        state["in_flight"] -= 1
        return web.Response(status=202)

    async def post_redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound("/inbox")

    app = web.Application()
    app.add_routes([
        web.get("/ok", ok), web.get("/headers", headers), web.get("/big", big), web.get("/stream", stream),
        web.get("/gzip-bomb", gzip_bomb), web.get("/sleep", sleep), web.post("/sleep", sleep),
        web.get("/redirect/{left}", redirect), web.get("/to-other-host", to_other_host),
        web.get("/to-same-host", to_same_host), web.get("/bounce", bounce), web.get("/cookie", set_cookie),
        web.post("/inbox", inbox), web.post("/slow-inbox", slow_inbox), web.post("/post-redirect", post_redirect)])
    return app


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    ca, cert, key = _make_certs(tmp_path_factory.mktemp("certs"))
    loop = asyncio.new_event_loop()
    state: dict[str, Any] = {}
    started = threading.Event()
    holder: dict[str, Any] = {}

    async def start() -> None:
        runner = web.AppRunner(_app(state), access_log=None, shutdown_timeout=0.1)
        await runner.setup()
        plain = socket.socket()
        plain.bind(("127.0.0.1", 0))
        port = plain.getsockname()[1]
        plain.close()
        for address in ADDRESSES:
            await web.TCPSite(runner, address, port).start()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        tls = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
        await tls.start()
        tls_port = tls._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        holder.update(runner=runner, port=port, tls_port=tls_port)

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert started.wait(10)
    yield Server(port=holder["port"], tls_port=holder["tls_port"], ca_path=ca, state=state)
    asyncio.run_coroutine_threadsafe(holder["runner"].cleanup(), loop).result(5)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.close()


def run(scenario: Callable[[OutgoingClient], Awaitable[Any]], **options: Any) -> Any:
    async def main() -> Any:
        async with OutgoingClient(user_agent=UA, **options) as client:
            return await scenario(client)
    return asyncio.run(main())


@pytest.fixture
def no_connect(monkeypatch: pytest.MonkeyPatch) -> None:
    async def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("netguard tried to connect; the refusal must come first")
    # The step that opens a socket, after name resolution (which happens inside the connector).
    monkeypatch.setattr(netguard_engine.BoundedIdleConnector, "_wrap_create_connection", refuse)


def fake_dns(answers: dict[str, list[str]]) -> Callable[[str, int], Awaitable[list[tuple[Any, ...]]]]:
    async def getaddrinfo(host: str, port: int) -> list[tuple[Any, ...]]:
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "",
                 (a, port, 0, 0) if ":" in a else (a, port)) for a in answers[host]]
    return getaddrinfo


# ---------------------------------------------------------------- pure checks

@pytest.mark.parametrize("address, reason", [
    ("127.0.0.1", "loopback"), ("127.8.9.10", "loopback"), ("::1", "loopback"),
    ("10.0.0.1", "private"), ("172.16.5.4", "private"), ("172.31.255.255", "private"), ("192.168.1.1", "private"),
    ("fc00::1", "private"), ("fd12:3456::1", "private"),
    ("169.254.169.254", "link-local"), ("fe80::1", "link-local"),
    ("224.0.0.1", "multicast"), ("ff02::1", "multicast"),
    ("0.0.0.0", "unspecified"), ("::", "unspecified"),
    ("100.64.0.1", "carrier-grade NAT"), ("100.127.255.254", "carrier-grade NAT"),
    ("240.0.0.1", "reserved"), ("255.255.255.255", "reserved"),
    ("192.0.2.1", "not publicly routable"), ("198.18.0.1", "not publicly routable"),
    ("::ffff:127.0.0.1", "loopback"), ("::ffff:10.1.1.1", "private"), ("64:ff9b::a00:1", "private"),
    ("2002:7f00:1::", "loopback"),
])
def test_non_public_addresses_are_refused_with_a_reason(address: str, reason: str) -> None:
    refusal = address_refusal(address)
    assert refusal is not None and reason in refusal


@pytest.mark.parametrize("address", ["93.184.215.14", "1.1.1.1", "172.32.0.1", "100.128.0.1",
                                     "2606:4700:4700::1111", "::ffff:1.1.1.1"])
def test_public_addresses_pass(address: str) -> None:
    assert address_refusal(address) is None


@pytest.mark.parametrize("url", ["ftp://example.org/x", "file:///etc/passwd", "gopher://example.org/",
                                 "javascript:alert(1)", "/relative/path", "https:///no-host"])
def test_only_http_and_https_urls_with_a_host(url: str) -> None:
    with pytest.raises(UrlNotAllowed):
        check_url(url, allow_private_addresses=True)


@pytest.mark.parametrize("url", ["https://user:secret@example.org/inbox", "https://user@example.org/",
                                 "https://:secret@example.org/"])
def test_credentials_in_the_url_are_refused_without_echoing_them(url: str) -> None:
    with pytest.raises(UrlNotAllowed, match="credentials") as refused:
        check_url(url, allow_private_addresses=True)
    assert "secret" not in str(refused.value)


@pytest.mark.parametrize("url", ["http://127.0.0.1/", "http://10.0.0.1/", "https://[::1]:8443/",
                                 "http://[::ffff:169.254.169.254]/latest/meta-data"])
def test_literal_private_addresses_are_refused_by_the_url_check(url: str) -> None:
    with pytest.raises(AddressNotAllowed):
        check_url(url, allow_private_addresses=False)
    assert check_url(url, allow_private_addresses=True)


def test_redirect_targets_are_checked_like_any_url() -> None:
    here = "https://social.example/users/anna"
    assert redirect_target(here, "/users/anna2", allow_private_addresses=False) == "https://social.example/users/anna2"
    assert redirect_target(here, "https://other.example/a", allow_private_addresses=False) == "https://other.example/a"
    with pytest.raises(AddressNotAllowed, match="loopback"):
        redirect_target(here, "http://127.0.0.1:8080/admin", allow_private_addresses=False)
    with pytest.raises(AddressNotAllowed, match="link-local"):
        redirect_target(here, "http://169.254.169.254/latest/meta-data/", allow_private_addresses=False)
    with pytest.raises(UrlNotAllowed):
        redirect_target(here, "file:///etc/passwd", allow_private_addresses=False)
    with pytest.raises(UrlNotAllowed, match="credentials"):
        redirect_target(here, "https://a:b@other.example/", allow_private_addresses=False)


def test_a_name_is_refused_if_any_of_its_addresses_is_private() -> None:
    dns = fake_dns({"mixed.example": ["93.184.215.14", "10.0.0.7"], "public.example": ["93.184.215.14"]})
    with pytest.raises(AddressNotAllowed, match="10.0.0.7"):
        asyncio.run(resolve_checked("mixed.example", 443, allow_private_addresses=False, getaddrinfo=dns))
    assert asyncio.run(resolve_checked("public.example", 443, allow_private_addresses=False,
                                       getaddrinfo=dns)) == ["93.184.215.14"]


def test_the_socket_factory_refuses_a_private_address_that_got_past_everything_else() -> None:
    with pytest.raises(OSError, match="loopback"):
        netguard.guarded_socket((socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 80)))


# ---------------------------------------------------------------- refusals before connecting

@pytest.mark.parametrize("url", ["http://127.0.0.1:9/x", "http://10.0.0.1/inbox", "http://[::1]:9/",
                                 "http://localhost:9/x"])
def test_private_destinations_are_refused_before_connecting(url: str, no_connect: None) -> None:
    with pytest.raises(AddressNotAllowed):
        run(lambda c: c.get(url))
    with pytest.raises(AddressNotAllowed):
        run(lambda c: c.post(url, b"{}", {}))


def test_a_public_looking_name_that_resolves_to_a_private_address_is_refused(no_connect: None) -> None:
    dns = fake_dns({"rebind.example": ["127.0.0.1"]})
    with pytest.raises(AddressNotAllowed, match="rebind.example.*127.0.0.1.*loopback"):
        run(lambda c: c.get("https://rebind.example/actor"), getaddrinfo=dns)


def test_an_unknown_host_is_host_not_found(no_connect: None) -> None:
    with pytest.raises(HostNotFound, match="nowhere.example"):
        run(lambda c: c.get("https://nowhere.example/actor"), getaddrinfo=fake_dns({}))


# ---------------------------------------------------------------- against the real server

def test_loopback_is_reachable_when_private_addresses_are_allowed(server: Server) -> None:
    async def scenario(c: OutgoingClient) -> tuple[Any, Any]:
        return await c.get(server.url("/ok")), await c.get(server.url("/headers", host="localhost"))
    ok, echoed = run(scenario, allow_private_addresses=True)
    assert (ok.status, ok.body, ok.headers["content-type"]) == (200, b'{"ok": true}', "application/json; charset=utf-8")
    assert echoed.status == 200 and b'"user-agent": "AmbtenaarOnline/0.1.0' in echoed.body


def test_the_name_is_resolved_and_checked_once_then_connected_to_by_address(server: Server) -> None:
    asked: list[str] = []
    real = fake_dns({"inbox.example": ["127.0.0.1"]})

    async def counting(host: str, port: int) -> list[tuple[Any, ...]]:
        asked.append(host)
        return await real(host, port)
    result = run(lambda c: c.get(f"http://inbox.example:{server.port}/headers"), allow_private_addresses=True,
                 getaddrinfo=counting)
    assert asked == ["inbox.example"]
    assert f'"host": "inbox.example:{server.port}"'.encode() in result.body


def test_body_larger_than_the_cap_is_refused_from_its_content_length(server: Server) -> None:
    with pytest.raises(ResponseTooLarge, match="announces 2097152 bytes"):
        run(lambda c: c.get(server.url("/big")), allow_private_addresses=True)
    big = run(lambda c: c.get(server.url("/big"), max_bytes=3 * netguard.MIB), allow_private_addresses=True)
    assert len(big.body) == 2 * netguard.MIB


def test_a_streamed_body_is_cut_off_at_the_cap_without_reading_the_rest(server: Server) -> None:
    with pytest.raises(ResponseTooLarge, match="more than 1048576 bytes"):
        run(lambda c: c.get(server.url("/stream")), allow_private_addresses=True)
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline and server.state.get("stream_sent", 0) < 1 * netguard.MIB:
        time.sleep(0.01)
    time.sleep(0.05)
    assert server.state["stream_sent"] < 64 * netguard.MIB, "the server could keep sending: the client kept reading"


def test_a_compressed_body_is_capped_after_decompression(server: Server) -> None:
    with pytest.raises(ResponseTooLarge, match="more than 1048576 bytes"):
        run(lambda c: c.get(server.url("/gzip-bomb")), allow_private_addresses=True)


def test_redirects_are_followed_up_to_the_limit(server: Server) -> None:
    arrived = run(lambda c: c.get(server.url("/redirect/3")), allow_private_addresses=True)
    assert (arrived.status, arrived.body, arrived.url) == (200, b"arrived", server.url("/redirect/0"))
    with pytest.raises(TooManyRedirects, match="more than 3 times"):
        run(lambda c: c.get(server.url("/redirect/4")), allow_private_addresses=True)
    with pytest.raises(TooManyRedirects):
        run(lambda c: c.get(server.url("/redirect/1"), max_redirects=0), allow_private_addresses=True)


def test_credentials_are_dropped_when_a_redirect_leaves_the_origin(server: Server) -> None:
    secret = {"Authorization": "Bearer t", "Signature": "keyId=x", "Cookie": "a=b", "Accept": "application/json"}
    other = run(lambda c: c.get(server.url("/to-other-host"), secret), allow_private_addresses=True)
    assert other.url == server.url("/headers", host="127.0.0.2")
    assert b"authorization" not in other.body and b"signature" not in other.body and b"cookie" not in other.body
    assert b'"accept": "application/json"' in other.body
    same = run(lambda c: c.get(server.url("/to-same-host"), secret), allow_private_addresses=True)
    assert b'"authorization": "Bearer t"' in same.body
    back = run(lambda c: c.get(server.url("/bounce"), secret), allow_private_addresses=True)
    assert back.url == server.url("/headers") and b"authorization" not in back.body, "stripped for good once it left"


def test_headers_for_builds_each_hops_headers_from_its_url(server: Server) -> None:
    hops: list[str] = []

    def sign(url: str) -> dict[str, str]:
        hops.append(url)
        return {"Signature": f"for {url}", "Host": "evil.example"}
    result = run(lambda c: c.get(server.url("/to-other-host"), sign), allow_private_addresses=True)
    assert hops == [server.url("/to-other-host"), server.url("/headers", host="127.0.0.2")]
    assert f'"signature": "for {hops[1]}"'.encode() in result.body
    assert f'"host": "127.0.0.2:{server.port}"'.encode() in result.body


def test_cookies_are_never_kept(server: Server) -> None:
    result = run(lambda c: c.get(server.url("/cookie")), allow_private_addresses=True)
    assert b"cookie" not in result.body


def test_a_redirect_from_an_allowed_host_to_a_private_one_is_refused(server: Server,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # Loopback has no public first hop, so for this test 127.0.0.1 alone counts as public; the server then
    # redirects to 127.0.0.2, which must be refused before the second hop connects.
    real_refusal = netguard.address_refusal
    monkeypatch.setattr(netguard, "address_refusal", lambda a: None if a == "127.0.0.1" else real_refusal(a))
    dns = fake_dns({"public.example": ["127.0.0.1"]})
    first = run(lambda c: c.get(f"http://public.example:{server.port}/ok"), getaddrinfo=dns)
    assert first.status == 200
    with pytest.raises(AddressNotAllowed, match="127.0.0.2 is a loopback address"):
        run(lambda c: c.get(f"http://public.example:{server.port}/to-other-host"), getaddrinfo=dns)


def test_timeout_is_enforced(server: Server) -> None:
    started = time.monotonic()
    with pytest.raises(FetchTimeout, match="did not answer in time"):
        run(lambda c: c.get(server.url("/sleep"), timeout=0.3), allow_private_addresses=True)
    with pytest.raises(FetchTimeout):
        run(lambda c: c.post(server.url("/sleep"), b"{}", {}), allow_private_addresses=True, timeout=0.3)
    assert time.monotonic() - started < 2


def test_a_closed_port_is_fetch_failed(server: Server) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    with pytest.raises(FetchFailed, match="could not connect"):
        run(lambda c: c.get(f"http://127.0.0.1:{closed}/"), allow_private_addresses=True)


def test_post_returns_status_and_the_first_kib_and_follows_no_redirect(server: Server) -> None:
    async def scenario(c: OutgoingClient) -> tuple[Any, Any]:
        return (await c.post(server.url("/inbox"), b'{"type":"Follow"}', {"Content-Type": "application/activity+json"}),
                await c.post(server.url("/post-redirect"), b"{}", {}))
    server.state["posts"] = []
    sent, redirected = run(scenario, allow_private_addresses=True)
    assert (sent.status, sent.body_prefix, sent.elapsed > 0) == (202, b"y" * 1024, True)
    assert redirected.status == 302 and redirected.headers["location"] == "/inbox"
    assert server.state["posts"] == [b'{"type":"Follow"}']


def test_posts_to_one_host_are_limited_in_flight(server: Server) -> None:
    async def scenario(c: OutgoingClient) -> list[int]:
        results = await asyncio.gather(*(c.post(server.url("/slow-inbox"), b"{}", {}) for _ in range(6)))
        return [r.status for r in results]
    server.state["max_in_flight"] = 0
    assert run(scenario, allow_private_addresses=True, posts_per_host=2) == [202] * 6
    assert server.state["max_in_flight"] == 2


def test_idle_connections_are_kept_for_at_most_max_idle_hosts(server: Server) -> None:
    async def scenario(c: OutgoingClient) -> list[int]:
        counts = []
        for address in ADDRESSES:
            await c.get(server.url("/ok", host=address))
            counts.append(c.idle_hosts())
        return counts
    assert run(scenario, allow_private_addresses=True, max_idle_hosts=2) == [1, 2, 2]


def test_tls_is_verified_against_the_given_ca(server: Server) -> None:
    url = f"https://localhost:{server.tls_port}/ok"
    assert run(lambda c: c.get(url), allow_private_addresses=True, verify=server.ca_path).status == 200
    extra = netguard.tls_context(server.ca_path)
    assert run(lambda c: c.get(url), allow_private_addresses=True, verify=extra).status == 200
    with pytest.raises(FetchFailed, match="certificate of localhost did not verify"):
        run(lambda c: c.get(url), allow_private_addresses=True)


def test_every_error_is_a_netguard_error() -> None:
    for error in (UrlNotAllowed, AddressNotAllowed, ResponseTooLarge, TooManyRedirects, FetchTimeout, FetchFailed,
                  HostNotFound):
        assert issubclass(error, NetguardError) and issubclass(error, Exception)
