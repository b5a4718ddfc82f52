"""The one outgoing HTTP layer for federation: every request to another server goes through here.

Owns: the HTTP engine (one aiohttp session per process, made by its first request in federation/netguard_engine.py so
that a process that never fetches does not carry aiohttp, closed at shutdown), the address
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
from typing import TYPE_CHECKING, Any, Union

from yarl import URL

from federation.host_memory import DownHosts, ResumingContext, resuming_context

if TYPE_CHECKING:
    import aiohttp

    from federation import netguard_engine

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


class RefusedConnect(OSError):
    """Raised by the socket factory: the address about to be connected to is refused."""


def guarded_socket(addr_info: AddrInfo) -> socket.socket:
    family, type_, proto, _, sockaddr = addr_info
    reason = address_refusal(str(sockaddr[0]).split("%")[0])
    if reason:
        raise RefusedConnect(f"refusing to connect to {sockaddr[0]}, a {reason}")
    return socket.socket(family=family, type=type_, proto=proto)


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


def _request_headers(headers: Mapping[str, str]) -> dict[str, str]:
    # Host always comes from the URL that was checked: a caller's Host could point a checked IP at another vhost.
    return {k: v for k, v in headers.items() if k.lower() != "host"}


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
        self._user_agent = user_agent
        self._connect_timeout = connect_timeout
        self._max_connections = max_connections
        self._max_idle_hosts = max_idle_hosts
        self._keepalive_seconds = keepalive_seconds
        self._getaddrinfo = getaddrinfo
        self._context = _ssl_context(verify)
        self._sessions = self._context.sessions if isinstance(self._context, ResumingContext) else None
        # Made by the first request (federation/netguard_engine.py), so that aiohttp is imported only then.
        self._engine: Any = None
        self._resolver: netguard_engine.GuardedResolver | None = None
        self._connector: netguard_engine.BoundedIdleConnector | None = None
        self._session: aiohttp.ClientSession | None = None

    def _started(self) -> tuple[Any, aiohttp.ClientSession]:
        """The aiohttp engine module and this client's session, made on first use (inside the running loop)."""
        if self._session is None:
            from federation import netguard_engine

            self._engine = netguard_engine
            self._resolver = netguard_engine.GuardedResolver(self.allow_private_addresses, self._getaddrinfo)
            self._session, self._connector = netguard_engine.session(
                resolver=self._resolver, context=self._context, user_agent=self._user_agent,
                connect_timeout=self._connect_timeout, max_connections=self._max_connections,
                max_idle_hosts=self._max_idle_hosts, keepalive_seconds=self._keepalive_seconds,
                allow_private_addresses=self.allow_private_addresses)
        return self._engine, self._session

    async def __aenter__(self) -> OutgoingClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()

    def idle_hosts(self) -> int:
        """How many hosts have an idle kept-alive connection right now (for metrics and tests)."""
        return self._connector.idle_hosts() if self._connector is not None else 0

    def memory(self) -> dict[str, int]:
        """What is remembered per host (for the benchmark and tests): DNS lookups made, names and TLS sessions
        cached."""
        cache = self._resolver.cache if self._resolver is not None else None
        return {"dns_lookups": cache.lookups if cache is not None else 0, "dns_cached": len(cache or ()),
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
        engine, session = self._started()
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
                    async with session.get(current, headers=_request_headers(headers),
                                                 allow_redirects=False) as response:
                        location = response.headers.get("Location") if follow_redirects \
                            and response.status in REDIRECT_STATUSES else None
                        if location is None:
                            body = await engine.read_capped(response, max_bytes, current)
                            return FetchResult(response.status, engine.headers_of(response), body, str(current))
                    current = URL(redirect_target(str(current), location,
                                                  allow_private_addresses=self.allow_private_addresses))
                raise TooManyRedirects(
                    f"{first.human_repr()[:200]} redirected more than {max_redirects} times (last to "
                    f"{current.human_repr()[:200]})")
        except NetguardError:
            raise
        except engine.TRANSPORT_ERRORS as exc:
            raise engine.translate(exc, current) from exc

    async def post(self, url: str, body: bytes, headers: Mapping[str, str], *,
                   timeout: float | None = None) -> PostResult:
        """POST `body` to `url` once; redirects are not followed (a 3xx comes back as the result).

        At most `posts_per_host` POSTs to one host are in flight; the time limit starts once this one's turn came.
        A host whose connect timed out is not tried again for host_memory.DOWN_SECONDS: FetchFailed at once.
        """
        target = _parse(url, allow_private_addresses=self.allow_private_addresses)
        engine, session = self._started()
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
                    async with session.post(target, data=body, headers=_request_headers(headers),
                                                  allow_redirects=False) as response:
                        prefix = await engine.read_prefix(response)
                        return PostResult(response.status, engine.headers_of(response), prefix,
                                          time.monotonic() - started)
        except NetguardError:
            raise
        except engine.TRANSPORT_ERRORS as exc:
            if engine.is_connect_timeout(exc):
                self._down.failed(key)
            raise engine.translate(exc, target) from exc
        finally:
            slot.users -= 1
            if slot.users == 0 and self._slots.get(key) is slot:
                del self._slots[key]
