"""The aiohttp side of the one outgoing HTTP layer (federation/netguard.py): imported when a process makes its
first outgoing request, not before, so that a web process that only serves pages, the API and streams does not
carry aiohttp (about 8.5 MiB of a process's memory; docs/benchmarks.md, "Streaming API").

Owns: the resolver hook that checks every address aiohttp connects to, the connector that bounds idle connections,
the session netguard's OutgoingClient uses, reading bodies within their limits, and turning aiohttp's errors into
netguard's. Never: decides a policy of its own; every rule is netguard's (its module docstring has them all).
"""

from __future__ import annotations

import socket
import ssl
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from federation.host_memory import DnsCache
from federation.netguard import (POST_BODY_PREFIX, AddressNotAllowed, FetchFailed, FetchTimeout, GetAddrInfo,
                                 HostNotFound, NetguardError, RefusedConnect, ResponseTooLarge, UrlNotAllowed,
                                 guarded_socket, resolve_checked)

# A POST answer up to this size is read to the end so the connection can be reused; a larger one closes it.
POST_DRAIN_LIMIT = 64 * 1024
TRANSPORT_ERRORS = (aiohttp.ClientError, OSError, TimeoutError)


class GuardedResolver(AbstractResolver):
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


class BoundedIdleConnector(aiohttp.TCPConnector):
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


def headers_of(response: aiohttp.ClientResponse) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in response.headers.items():
        key = name.lower()
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out


async def read_capped(response: aiohttp.ClientResponse, max_bytes: int, url: URL) -> bytes:
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


async def read_prefix(response: aiohttp.ClientResponse) -> bytes:
    announced = response.content_length
    if announced is not None and announced > POST_DRAIN_LIMIT:
        prefix = await response.content.read(POST_BODY_PREFIX)
        response.close()
        return prefix
    body = bytearray()
    async for chunk in response.content.iter_any():
        if len(body) < POST_BODY_PREFIX:
            body += chunk
        if len(body) > POST_DRAIN_LIMIT:
            response.close()
            break
    return bytes(body[:POST_BODY_PREFIX])


def translate(exc: BaseException, url: URL) -> NetguardError:
    where = url.human_repr()[:200]
    if isinstance(exc, NetguardError):
        return exc
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return FetchTimeout(f"could not connect to {url.host}:{url.port} in time ({where})")
    if isinstance(exc, TimeoutError):
        return FetchTimeout(f"{where} did not answer in time")
    if isinstance(exc, aiohttp.ClientConnectorError):
        if isinstance(exc.os_error, RefusedConnect):
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


def session(*, resolver: GuardedResolver, context: ssl.SSLContext | bool, user_agent: str, connect_timeout: float,
            max_connections: int, max_idle_hosts: int, keepalive_seconds: float,
            allow_private_addresses: bool) -> tuple[aiohttp.ClientSession, BoundedIdleConnector]:
    """The session of an OutgoingClient: no cookies, no proxy from the environment, no redirects followed by
    aiohttp, every address through the resolver and (unless private addresses are allowed) the socket factory."""
    keepalive: dict[str, Any] = (
        {"keepalive_timeout": keepalive_seconds} if keepalive_seconds > 0 else {"force_close": True})
    connector = BoundedIdleConnector(
        max_idle_hosts=max_idle_hosts,
        resolver=resolver,
        ssl=context,
        limit=max_connections,
        limit_per_host=0,
        use_dns_cache=False,  # the resolver caches, checked answers only, with coalescing and a bound
        socket_factory=None if allow_private_addresses else guarded_socket,
        **keepalive,
    )
    return aiohttp.ClientSession(
        connector=connector,
        headers={"User-Agent": user_agent},
        cookie_jar=aiohttp.DummyCookieJar(),
        timeout=aiohttp.ClientTimeout(total=None, sock_connect=connect_timeout),
        trust_env=False,
        raise_for_status=False,
    ), connector


def is_connect_timeout(exc: BaseException) -> bool:
    return isinstance(exc, aiohttp.ConnectionTimeoutError)
