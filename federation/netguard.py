"""The one outgoing HTTP layer for federation: every request to another server goes through here.

Owns: the HTTP engine (one aiohttp session per process, created in the lifespan, closed at shutdown), the address
policy (no loopback, private, link-local, multicast, unspecified, reserved or carrier-grade NAT address unless
`allow_private_addresses`), the limits (body size, total time, connect time, redirects, POSTs in flight per host,
idle connections kept) and the error hierarchy below. Never: signs, parses JSON, retries, or decides what a status
means (delivery's `classify` does); never lets the engine follow a redirect unchecked.

Engine, chosen by measurement: plain aiohttp. `bench/delivery_client.py` (2 cores shared with other work, load
average 5-9; TLS sink in its own process; 2 KB POSTs to 200 loopback hosts; median of 3) gave, in client CPU per
request on kept-alive connections at 1 / 64 / 200 in flight: httpx with one shared client 16,800 / 8,300 /
18,300 us (25-64 req/s, timeouts at 200: its pool scans every pooled connection per request, encode/httpx#3215, so
it is slow even with one request in flight once 200 connections are pooled); httpx with one client per host
1,380 / 1,500 / 1,700 us; httpx-aiohttp 840 / 770 / 775 us; aiohttp 336 / 276 / 307 us; this module on aiohttp
386 / 290 / 305 us (the guard costs 0-50 us). New TCP+TLS per request costs 2,500-5,500 us with every engine, which
is why idle connections are kept. aiohttp is also the only engine with the two hooks the address policy needs (a
resolver and a socket factory), so it is used directly; httpx-aiohttp would only add its 2.5x cost. Nothing here
imports httpx.

Rebinding: a name is resolved once, by `_GuardedResolver` through `getaddrinfo` (in a pool of 32 threads), and every
address it returns is checked; if any is refused the request is refused. aiohttp then connects to exactly those
checked IPs (the resolver's answer is the connect target; there is no second lookup), while the Host header, TLS SNI
and certificate verification keep using the name from the URL. The resolver's cache (federation/host_memory.py: 5
minutes, a name not found 30 s) only ever holds checked answers; a refused answer is asked and refused again every
time. As a second line, the socket factory checks the literal address handed to `connect()`, which also covers
IP-literal URLs (aiohttp does not ask the resolver about those; `check_url` refuses them first). No proxy from the
environment is used (`trust_env=False`): a proxy would connect on our behalf to anything.

Redirects: `get` follows at most `max_redirects` (3) hops itself, putting every hop through the same URL and address
checks and asking `headers_for(url)` for each hop's headers, so a signed fetch is signed again for the new
host/path. When fixed headers are given instead, `Authorization`, `Proxy-Authorization`, `Cookie`, `Signature` and
`Signature-Input` are dropped as soon as the scheme, host or port changes, and stay off for later hops. `post` never
follows redirects: a 3xx is returned as it came. Cookies are never stored or sent (a dummy cookie jar).
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket
import ssl
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Union

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from federation.host_memory import DnsCache, DownHosts, ResumingContext, resuming_context

KIB = 1024
MIB = 1024 * KIB
DEFAULT_MAX_BYTES = 1 * MIB
DEFAULT_TIMEOUT = 10.0
DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_MAX_REDIRECTS = 3
DEFAULT_POSTS_PER_HOST = 8
DEFAULT_MAX_CONNECTIONS = 512
# Mastodon keeps up to 512 persistent connections, idle for up to 30 s (app/lib/request_pool.rb); at about
# 135 KB per idle TLS connection that is about 70 MB, and it keeps us under the usual 1024 open files.
DEFAULT_MAX_IDLE_HOSTS = 512
DEFAULT_KEEPALIVE_SECONDS = 30.0
POST_BODY_PREFIX = 1 * KIB
# A POST answer up to this size is read to the end so the connection can be reused; a larger one closes it.
_POST_DRAIN_LIMIT = 64 * KIB

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "signature", "signature-input"})

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_PRIVATE_NETWORKS = tuple(ipaddress.ip_network(n)
                          for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"))
_NAT64 = ipaddress.ip_network("64:ff9b::/96")

_HINT = " (federation only contacts public addresses unless allow_private_addresses is set, for tests and demos)"

AddrInfo = tuple[Any, ...]
GetAddrInfo = Callable[[str, int], Awaitable[Sequence[AddrInfo]]]
HeadersFor = Union[Callable[[str], Mapping[str, str]], Mapping[str, str]]


class NetguardError(Exception):
    """Base for every refusal or failure of an outgoing request; the message names the URL and what went wrong."""


class UrlNotAllowed(NetguardError):
    """The URL is not one we fetch: not http(s), carries user:password@, has no host, or does not parse."""


class AddressNotAllowed(UrlNotAllowed):
    """The host is, or resolves to, an address we never connect to (loopback, private, link-local, ...)."""


class ResponseTooLarge(NetguardError):
    """The response body is larger than the limit for this request; it was not read to the end."""


class TooManyRedirects(NetguardError):
    """A GET was redirected more often than allowed."""


class FetchTimeout(NetguardError):
    """The request did not complete (connect, send, answer and body) within its time limit."""


class FetchFailed(NetguardError):
    """The connection failed or the server sent a broken answer; usually worth retrying later."""


class HostNotFound(FetchFailed):
    """The host name does not resolve (no such domain, or DNS failed)."""


@dataclass(frozen=True, slots=True)
class FetchResult:
    """A GET's final answer; `url` is the last hop's URL, `headers` have lower-case names."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    url: str


@dataclass(frozen=True, slots=True)
class PostResult:
    """A POST's answer: the status, headers (lower-case names), the first 1 KiB of the body, seconds taken."""

    status: int
    headers: Mapping[str, str]
    body_prefix: bytes
    elapsed: float


def address_refusal(address: str) -> str | None:
    """Why we never connect to this IP address ("loopback address", ...), or None when it is public."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "not an IP address"
    if isinstance(ip, ipaddress.IPv6Address):
        # An IPv4 address wrapped in IPv6 reaches the IPv4 host; Python 3.11's ipaddress does not look inside.
        embedded = ip.ipv4_mapped or ip.sixtofour or (
            ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if ip in _NAT64 else None)
        if embedded is not None:
            reason = address_refusal(str(embedded))
            return f"{reason} inside an IPv6 address" if reason else None
        if ip.teredo is not None:
            return "Teredo tunnel address"
    if ip.is_unspecified:
        return "unspecified address"
    if ip.is_loopback:
        return "loopback address"
    if ip.is_link_local:
        return "link-local address"
    if ip.is_multicast:
        return "multicast address"
    if ip in _CGNAT:
        return "carrier-grade NAT address (100.64.0.0/10)"
    if any(ip in net for net in _PRIVATE_NETWORKS):
        return "private network address"
    if ip.is_reserved:
        return "reserved address"
    if ip.is_private or not ip.is_global:
        return "address that is not publicly routable"
    return None


def _parse(url: str | URL, *, allow_private_addresses: bool) -> URL:
    try:
        parsed = url if isinstance(url, URL) else URL(url)
    except (ValueError, TypeError) as exc:
        raise UrlNotAllowed(f"not a valid URL: {str(url)[:200]!r} ({exc})") from None
    if parsed.scheme not in ("http", "https"):
        raise UrlNotAllowed(
            f"only http and https URLs are fetched, not {parsed.scheme or 'a relative URL'!r}: {str(url)[:200]!r}")
    if parsed.raw_user is not None or parsed.raw_password is not None:
        # Never echo the URL here: it holds the secret.
        raise UrlNotAllowed(f"the URL for host {parsed.host!r} contains credentials (user:password@); remove them")
    if not parsed.host:
        raise UrlNotAllowed(f"the URL has no host: {str(url)[:200]!r}")
    if not allow_private_addresses:
        host = parsed.host.strip("[]")
        try:
            ipaddress.ip_address(host)
        except ValueError:
            pass
        else:
            reason = address_refusal(host)
            if reason:
                raise AddressNotAllowed(f"refusing {parsed.human_repr()[:200]}: {host} is a {reason}{_HINT}")
    return parsed.with_fragment(None)


def check_url(url: str, *, allow_private_addresses: bool) -> str:
    """The URL, normalised, if its scheme, credentials and (literal) address are acceptable; raises UrlNotAllowed.

    A host name is checked later, after resolution, when the connection is made.
    """
    return str(_parse(url, allow_private_addresses=allow_private_addresses))


def redirect_target(current_url: str, location: str, *, allow_private_addresses: bool) -> str:
    """Where a redirect from `current_url` with this Location header leads, checked like any other URL."""
    try:
        target = URL(current_url).join(URL(location))
    except (ValueError, TypeError) as exc:
        raise UrlNotAllowed(f"{current_url} redirects to an invalid Location {location[:200]!r} ({exc})") from None
    return check_url(str(target), allow_private_addresses=allow_private_addresses)


def _origin(url: URL) -> tuple[str, str, int | None]:
    return url.scheme, (url.host or "").lower(), url.port


_LOOKUP_THREADS = 32
_lookup_pool: ThreadPoolExecutor | None = None


async def _system_getaddrinfo(host: str, port: int) -> Sequence[AddrInfo]:
    # A pool of our own, wider than the loop's executor (6 threads on 2 cores): each lookup holds a thread for a DNS
    # round trip, so the pool bounds lookups per second. In the 10,000-server benchmark with a DNS server that
    # answers after 50 ms, the loop's executor let 56 of 9,000 inboxes be reached in 120 s (the queued lookups ran
    # into the time limit); 32 threads reached all in 23 s, as with instant DNS, at the same CPU per delivery.
    global _lookup_pool
    if _lookup_pool is None:
        _lookup_pool = ThreadPoolExecutor(max_workers=_LOOKUP_THREADS, thread_name_prefix="netguard-dns")
    return await asyncio.get_running_loop().run_in_executor(
        _lookup_pool, socket.getaddrinfo, host, port, 0, socket.SOCK_STREAM)


async def resolve_checked(host: str, port: int, *, allow_private_addresses: bool,
                          getaddrinfo: GetAddrInfo | None = None) -> list[str]:
    """Resolve `host` and return its addresses; raises AddressNotAllowed if any one of them is refused."""
    lookup = getaddrinfo or _system_getaddrinfo
    try:
        infos = await lookup(host, port)
    except socket.gaierror as exc:
        raise HostNotFound(f"could not resolve host {host!r}: {exc.strerror or exc}") from None
    addresses: list[str] = []
    for info in infos:
        address = str(info[4][0])
        if not allow_private_addresses:
            reason = address_refusal(address)
            if reason:
                raise AddressNotAllowed(f"refusing host {host!r}: it resolves to {address}, a {reason}{_HINT}")
        if info[0] == socket.AF_INET6 and len(info[4]) >= 4 and info[4][3] and "%" not in address:
            address = f"{address}%{info[4][3]}"
        addresses.append(address)
    if not addresses:
        raise HostNotFound(f"host {host!r} resolves to no address")
    return addresses


class _GuardedResolver(AbstractResolver):
    """aiohttp's resolver hook: the addresses it returns are the ones aiohttp connects to, so checking here is final.

    Answers are cached once checked (host_memory.DnsCache: 5 minutes, a name not found 30 s), so a name is looked
    up once per host however many inboxes it has and however many posts go there; a refused answer is never
    cached, so it is refused again on every request."""

    def __init__(self, allow_private_addresses: bool, getaddrinfo: GetAddrInfo | None) -> None:
        self._allow = allow_private_addresses
        self._getaddrinfo = getaddrinfo
        self.cache = DnsCache()

    async def _checked(self, host: str, port: int) -> list[ResolveResult]:
        addresses = await resolve_checked(host, port, allow_private_addresses=self._allow,
                                          getaddrinfo=self._getaddrinfo)
        flags = socket.AI_NUMERICHOST | socket.AI_NUMERICSERV
        return [ResolveResult(hostname=host, host=a, port=port,
                              family=socket.AF_INET6 if ":" in a else socket.AF_INET, proto=0, flags=flags)
                for a in addresses]

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        return await self.cache.resolve(host, port, lambda: self._checked(host, port),
                                        lambda exc: isinstance(exc, HostNotFound))

    async def close(self) -> None:
        return None


class _RefusedConnect(OSError):
    """Raised by the socket factory: the address about to be connected to is refused."""


def _guarded_socket(addr_info: AddrInfo) -> socket.socket:
    family, type_, proto, _, sockaddr = addr_info
    reason = address_refusal(str(sockaddr[0]).split("%")[0])
    if reason:
        raise _RefusedConnect(f"refusing to connect to {sockaddr[0]}, a {reason}")
    return socket.socket(family=family, type=type_, proto=proto)


class _BoundedIdleConnector(aiohttp.TCPConnector):
    """A TCPConnector that keeps idle connections to at most `max_idle_hosts` hosts.

    aiohttp's `limit` counts connections in use only; without this a fan-out to 10,000 inboxes would leave 10,000
    idle TLS sockets open for the keep-alive period (1.3 GB, and past the default 1024 open files). This touches
    aiohttp's private `_conns` (insertion-ordered: the first key is the host idle longest);
    tests/unit/test_netguard.py pins that it still works after an aiohttp upgrade.
    """

    def __init__(self, *, max_idle_hosts: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._max_idle_hosts = max_idle_hosts

    def _release(self, key: Any, protocol: Any, *, should_close: bool = False) -> None:
        super()._release(key, protocol, should_close=should_close)
        conns = getattr(self, "_conns", None)
        if not isinstance(conns, dict):
            return
        while len(conns) > self._max_idle_hosts:
            oldest = next(iter(conns))
            for proto, _ in conns.pop(oldest):
                proto.close()

    def idle_hosts(self) -> int:
        conns = getattr(self, "_conns", None)
        return len(conns) if isinstance(conns, dict) else 0


def tls_context(extra_ca_bundle: str = "") -> ssl.SSLContext:
    """The usual public CAs (certifi's list, as httpx uses), plus the CAs in `extra_ca_bundle` if given; TLS
    sessions are resumed where the server allows (host_memory.ResumingContext).

    For the `ca_bundle` setting: pass the result as `verify=` so private CAs are trusted on top of the public ones.
    """
    try:
        import certifi
    except ImportError:
        context = resuming_context()
    else:
        context = resuming_context(cafile=certifi.where())
    if extra_ca_bundle:
        if os.path.isdir(extra_ca_bundle):
            context.load_verify_locations(capath=extra_ca_bundle)
        else:
            context.load_verify_locations(cafile=extra_ca_bundle)
    return context


def _ssl_context(verify: ssl.SSLContext | str | bool) -> ssl.SSLContext | bool:
    if isinstance(verify, ssl.SSLContext):
        return verify
    if verify is False:
        return False
    if isinstance(verify, str):
        if os.path.isdir(verify):
            return resuming_context(capath=verify)
        return resuming_context(cafile=verify)
    return tls_context()


def _headers(response: aiohttp.ClientResponse) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in response.headers.items():
        key = name.lower()
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out


def _request_headers(headers: Mapping[str, str]) -> dict[str, str]:
    # Host always comes from the URL that was checked: a caller's Host could point a checked IP at another vhost.
    return {k: v for k, v in headers.items() if k.lower() != "host"}


async def _read_capped(response: aiohttp.ClientResponse, max_bytes: int, url: URL) -> bytes:
    announced = response.content_length
    if announced is not None and announced > max_bytes and "content-encoding" not in response.headers:
        response.close()
        raise ResponseTooLarge(
            f"{url.human_repr()[:200]} announces {announced} bytes; the limit for this request is {max_bytes}")
    body = bytearray()
    async for chunk in response.content.iter_any():
        body += chunk
        if len(body) > max_bytes:
            response.close()
            raise ResponseTooLarge(
                f"{url.human_repr()[:200]} sent more than {max_bytes} bytes, the limit for this request")
    return bytes(body)


async def _read_prefix(response: aiohttp.ClientResponse) -> bytes:
    announced = response.content_length
    if announced is not None and announced > _POST_DRAIN_LIMIT:
        prefix = await response.content.read(POST_BODY_PREFIX)
        response.close()
        return prefix
    body = bytearray()
    async for chunk in response.content.iter_any():
        if len(body) < POST_BODY_PREFIX:
            body += chunk
        if len(body) > _POST_DRAIN_LIMIT:
            response.close()
            break
    return bytes(body[:POST_BODY_PREFIX])


def _translate(exc: BaseException, url: URL) -> NetguardError:
    where = url.human_repr()[:200]
    if isinstance(exc, NetguardError):
        return exc
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return FetchTimeout(f"could not connect to {url.host}:{url.port} in time ({where})")
    if isinstance(exc, TimeoutError):
        return FetchTimeout(f"{where} did not answer in time")
    if isinstance(exc, aiohttp.ClientConnectorError):
        if isinstance(exc.os_error, _RefusedConnect):
            return AddressNotAllowed(f"{exc.os_error} ({where})")
        if isinstance(exc, aiohttp.ClientConnectorDNSError):
            return HostNotFound(f"could not resolve host {url.host!r} ({exc.strerror or exc.os_error})")
        if isinstance(exc, aiohttp.ClientConnectorCertificateError):
            return FetchFailed(f"the TLS certificate of {url.host} did not verify: {exc.certificate_error}")
        if isinstance(exc, aiohttp.ClientSSLError):
            return FetchFailed(f"TLS with {url.host}:{url.port} failed: {exc.os_error}")
        return FetchFailed(f"could not connect to {url.host}:{url.port}: {exc.strerror or exc.os_error}")
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return FetchFailed(f"{url.host} closed the connection before answering ({where})")
    if isinstance(exc, aiohttp.ClientPayloadError):
        return FetchFailed(f"{where} sent a broken response body: {exc}")
    if isinstance(exc, aiohttp.InvalidURL):
        return UrlNotAllowed(f"not a valid URL: {where} ({exc})")
    if isinstance(exc, aiohttp.ClientResponseError):
        return FetchFailed(f"{where} sent a malformed response: {exc.message}")
    if isinstance(exc, (aiohttp.ClientError, OSError)):
        return FetchFailed(f"request to {where} failed: {exc!r}")
    return FetchFailed(f"request to {where} failed: {exc!r}")


class _HostSlot:
    __slots__ = ("semaphore", "users")

    def __init__(self, size: int) -> None:
        self.semaphore = asyncio.Semaphore(size)
        self.users = 0


class OutgoingClient:
    """Every outgoing federation request; create once per process (in the lifespan, inside the running loop) and
    `await aclose()` at shutdown, or use `async with`.

    `verify` is True (certifi's CA list), a path to a CA bundle file or directory (trusted instead of the public CAs),
    an `ssl.SSLContext` (e.g. `tls_context(settings.ca_bundle)`: public CAs plus extra ones), or False (tests only).
    `keepalive_seconds=0` opens a new connection for every request.
    """

    def __init__(self, *, user_agent: str, allow_private_addresses: bool = False,
                 verify: ssl.SSLContext | str | bool = True, timeout: float = DEFAULT_TIMEOUT,
                 connect_timeout: float = DEFAULT_CONNECT_TIMEOUT, posts_per_host: int = DEFAULT_POSTS_PER_HOST,
                 max_connections: int = DEFAULT_MAX_CONNECTIONS, max_idle_hosts: int = DEFAULT_MAX_IDLE_HOSTS,
                 keepalive_seconds: float = DEFAULT_KEEPALIVE_SECONDS,
                 getaddrinfo: GetAddrInfo | None = None) -> None:
        self.allow_private_addresses = allow_private_addresses
        self.timeout = timeout
        self._posts_per_host = posts_per_host
        self._slots: dict[tuple[str, int | None], _HostSlot] = {}
        self._down = DownHosts()
        context = _ssl_context(verify)
        self._sessions = context.sessions if isinstance(context, ResumingContext) else None
        self._resolver = _GuardedResolver(allow_private_addresses, getaddrinfo)
        keepalive: dict[str, Any] = (
            {"keepalive_timeout": keepalive_seconds} if keepalive_seconds > 0 else {"force_close": True})
        self._connector = _BoundedIdleConnector(
            max_idle_hosts=max_idle_hosts,
            resolver=self._resolver,
            ssl=context,
            limit=max_connections,
            limit_per_host=0,
            use_dns_cache=False,  # the resolver caches, checked answers only, with coalescing and a bound
            socket_factory=None if allow_private_addresses else _guarded_socket,
            **keepalive,
        )
        self._session = aiohttp.ClientSession(
            connector=self._connector,
            headers={"User-Agent": user_agent},
            cookie_jar=aiohttp.DummyCookieJar(),
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=connect_timeout),
            trust_env=False,
            raise_for_status=False,
        )

    async def __aenter__(self) -> OutgoingClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._session.close()

    def idle_hosts(self) -> int:
        """How many hosts have an idle kept-alive connection right now (for metrics and tests)."""
        return self._connector.idle_hosts()

    def memory(self) -> dict[str, int]:
        """What is remembered per host (for the benchmark and tests): DNS lookups made, names and TLS sessions
        cached."""
        return {"dns_lookups": self._resolver.cache.lookups, "dns_cached": len(self._resolver.cache),
                "tls_sessions": len(self._sessions) if self._sessions is not None else 0}

    async def get(self, url: str, headers_for: HeadersFor | None = None, *, max_bytes: int = DEFAULT_MAX_BYTES,
                  timeout: float | None = None, max_redirects: int = DEFAULT_MAX_REDIRECTS,
                  follow_redirects: bool = True) -> FetchResult:
        """GET `url`, following up to `max_redirects` redirects, each hop checked; the body is capped at max_bytes.

        `headers_for(hop_url)` builds the headers of each hop (so a signed fetch is signed per hop); a plain mapping
        is sent as it is, less credentials once a redirect left the first origin. The Host header is always the
        hop URL's host (with `:port` when not the scheme's default); a caller's Host is ignored, so sign that one.
        `timeout` covers all hops. Any status is returned; only transport failures and limits raise.
        `follow_redirects=False` returns a 3xx as it came (the handle-domain self-test reports where it points).
        """
        first = _parse(url, allow_private_addresses=self.allow_private_addresses)
        current = first
        left_origin = False
        try:
            async with asyncio.timeout(self.timeout if timeout is None else timeout):
                for _ in range(max_redirects + 1):
                    # Once a redirect left the first origin, fixed credentials stay off, even if a later hop returns.
                    left_origin = left_origin or _origin(current) != _origin(first)
                    if headers_for is None:
                        headers: Mapping[str, str] = {}
                    elif callable(headers_for):
                        headers = headers_for(str(current))
                    elif not left_origin:
                        headers = headers_for
                    else:
                        headers = {k: v for k, v in headers_for.items() if k.lower() not in CREDENTIAL_HEADERS}
                    async with self._session.get(current, headers=_request_headers(headers),
                                                 allow_redirects=False) as response:
                        location = response.headers.get("Location") if follow_redirects \
                            and response.status in REDIRECT_STATUSES else None
                        if location is None:
                            body = await _read_capped(response, max_bytes, current)
                            return FetchResult(response.status, _headers(response), body, str(current))
                    current = URL(redirect_target(str(current), location,
                                                  allow_private_addresses=self.allow_private_addresses))
                raise TooManyRedirects(
                    f"{first.human_repr()[:200]} redirected more than {max_redirects} times (last to "
                    f"{current.human_repr()[:200]})")
        except NetguardError:
            raise
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise _translate(exc, current) from exc

    async def post(self, url: str, body: bytes, headers: Mapping[str, str], *,
                   timeout: float | None = None) -> PostResult:
        """POST `body` to `url` once; redirects are not followed (a 3xx comes back as the result).

        At most `posts_per_host` POSTs to one host are in flight; the time limit starts once this one's turn came.
        A host whose connect timed out is not tried again for host_memory.DOWN_SECONDS: FetchFailed at once.
        """
        target = _parse(url, allow_private_addresses=self.allow_private_addresses)
        key = (target.host or "", target.port)
        slot = self._slots.get(key)
        if slot is None:
            slot = self._slots[key] = _HostSlot(self._posts_per_host)
        slot.users += 1
        try:
            async with slot.semaphore:
                down = self._down.since(key)
                if down is not None:
                    raise FetchFailed(f"{target.host}:{target.port} did not accept a connection "
                                      f"{time.monotonic() - down:.0f} s ago; it is not tried again for "
                                      f"{self._down.seconds:.0f} s")
                started = time.monotonic()
                async with asyncio.timeout(self.timeout if timeout is None else timeout):
                    async with self._session.post(target, data=body, headers=_request_headers(headers),
                                                  allow_redirects=False) as response:
                        prefix = await _read_prefix(response)
                        return PostResult(response.status, _headers(response), prefix, time.monotonic() - started)
        except NetguardError:
            raise
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            if isinstance(exc, aiohttp.ConnectionTimeoutError):
                self._down.failed(key)
            raise _translate(exc, target) from exc
        finally:
            slot.users -= 1
            if slot.users == 0 and self._slots.get(key) is slot:
                del self._slots[key]
