"""What the outgoing client (federation/netguard.py) remembers per remote host between requests, so that reaching
the same server again is cheaper and a server that is down costs little: its checked DNS answer, its TLS session,
and that it did not accept a connection a moment ago.

Owns: `DnsCache` (checked answers for `ANSWER_SECONDS`, a failed lookup for `NOT_FOUND_SECONDS`, one lookup at a
time per name however many requests wait for it, at most `MAX_HOSTS` names, least recently used out first);
`SessionCache` and `ResumingContext` (TLS session resumption: the session a server gave us is offered again on the
next connection to the same host name, when the server allows it, which skips the certificate exchange and its
checks); `DownHosts` (a host whose connect timed out is not tried again for `DOWN_SECONDS`, so its other
deliveries fail at once instead of each waiting out the connect timeout).
Never: decides whether an address is allowed (netguard checks an answer before it is cached) or talks HTTP.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

ANSWER_SECONDS = 300.0  # a server's address rarely changes within minutes; Mastodon's resolver cache is similar
NOT_FOUND_SECONDS = 30.0
MAX_HOSTS = 10_000  # about 0.7 KB a name: 7 MB at most
# A client session keeps the server's certificate chain: 12 KB each (measured, OpenSSL 3), so 12 MB at most. The
# servers reached most often (where most followers are) keep theirs; a fan-out to more distinct servers than this
# cycles through them without resuming.
MAX_SESSIONS = 1_024
DOWN_SECONDS = 30.0  # the first retry of a delivery comes after 30 s (server/db/queue.py), when this has passed

T = TypeVar("T")


class _Bounded(Generic[T]):
    """An insertion-ordered map of at most `size` entries, each with an expiry (monotonic seconds)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Any, tuple[float, T]] = OrderedDict()

    def get(self, key: Any, now: float) -> T | None:
        entry = self._items.get(key)
        if entry is None:
            return None
        if entry[0] <= now:
            del self._items[key]
            return None
        self._items.move_to_end(key)
        return entry[1]

    def put(self, key: Any, value: T, until: float) -> None:
        self._items[key] = (until, value)
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


class DnsCache:
    """Answers (or the exception a lookup raised) per (host, port); concurrent lookups of one name share one."""

    def __init__(self, *, answer_seconds: float = ANSWER_SECONDS, not_found_seconds: float = NOT_FOUND_SECONDS,
                 size: int = MAX_HOSTS, clock: Callable[[], float] = time.monotonic) -> None:
        self.answer_seconds = answer_seconds
        self.not_found_seconds = not_found_seconds
        self._entries: _Bounded[Any] = _Bounded(size)
        self._pending: dict[tuple[str, int], asyncio.Future[Any]] = {}  # lookups under way, by name
        self._clock = clock
        self.lookups = 0  # how many lookups were made (for the benchmark and tests)

    async def resolve(self, host: str, port: int, find: Callable[[], Awaitable[T]],
                      remember_error: Callable[[BaseException], bool]) -> T:
        """The cached answer, or `find()`'s, cached; an exception for which `remember_error` is true is cached
        (shorter) and raised again until it expires. The lookup runs on its own: a request that gives up waiting
        (its time limit) does not cancel it, so the answer is there for the next one."""
        key = (host.lower(), port)
        cached = self._entries.get(key, self._clock())
        if cached is not None:
            if isinstance(cached, BaseException):
                raise cached
            return cached  # type: ignore[no-any-return]
        lookup = self._pending.get(key)
        if lookup is None:
            self.lookups += 1
            lookup = self._pending[key] = asyncio.ensure_future(self._look_up(key, find, remember_error))
        return await asyncio.shield(lookup)  # type: ignore[no-any-return]

    async def _look_up(self, key: tuple[str, int], find: Callable[[], Awaitable[T]],
                       remember_error: Callable[[BaseException], bool]) -> T:
        try:
            answer = await find()
        except Exception as exc:
            if remember_error(exc):
                self._entries.put(key, exc, self._clock() + self.not_found_seconds)
            raise
        else:
            self._entries.put(key, answer, self._clock() + self.answer_seconds)
            return answer
        finally:
            lookup = self._pending.pop(key, None)
            if lookup is not None:  # retrieved here, so nobody waiting any more is no "never retrieved" warning
                lookup.add_done_callback(lambda done: done.cancelled() or done.exception())

    def __len__(self) -> int:
        return len(self._entries)


class SessionCache:
    """The latest resumable TLS session per host name, at most `size` of them, kept from the second full handshake
    with a host within `seconds`: reading a session out of OpenSSL costs about half an RSA signature (137 µs against
    262 µs, measured: Python copies it) and holds 12 KB, which a fan-out to thousands of servers reached once would
    pay for nothing."""

    def __init__(self, size: int = MAX_SESSIONS, seconds: float = 3600.0) -> None:
        self.seconds = seconds
        self._sessions: _Bounded[ssl.SSLSession] = _Bounded(size)
        self._seen: _Bounded[bool] = _Bounded(MAX_HOSTS)

    def get(self, host: str) -> ssl.SSLSession | None:
        return self._sessions.get(host.lower(), time.monotonic())

    def keep(self, host: str, ssl_object: Any) -> None:
        """After an answer on a TLS connection (a TLS 1.3 server sends its ticket after the handshake, so only
        then is there one): keep the session if the server allows resuming it and this is not the first time."""
        name, now = host.lower(), time.monotonic()
        if self._seen.get(name, now) is None:
            self._seen.put(name, True, now + self.seconds)
            return
        session = getattr(ssl_object, "session", None)
        if session is None or not (session.has_ticket or session.id):
            return
        lifetime = min(float(session.ticket_lifetime_hint or self.seconds), self.seconds)
        self._sessions.put(name, session, now + lifetime)

    def __len__(self) -> int:
        return len(self._sessions)


class _KeepingSSLObject(ssl.SSLObject):
    """Keeps its session in its context's cache once it has one worth keeping: at the first read of data, since a
    TLS 1.3 server sends its ticket after the handshake (and HTTP clients may drop the connection before anyone
    else could ask it)."""

    def read(self, len: int = 1024, buffer: Any = None) -> Any:  # noqa: A002 - ssl.SSLObject's own names
        data = super().read(len, buffer)
        if "_kept" not in self.__dict__:
            self._kept = True
            sessions = getattr(self.context, "sessions", None)
            # A resumed session stays usable (stateless tickets), so only a full handshake's is worth keeping.
            if sessions is not None and self.server_hostname and not self.server_side and not self.session_reused:
                sessions.keep(self.server_hostname, self)
        return data


class ResumingContext(ssl.SSLContext):
    """A client SSLContext that offers the cached session of the host it connects to. asyncio and uvloop make every
    TLS connection through `wrap_bio` without a session, so this is the one place to add it; a session the server
    no longer accepts just means a full handshake."""

    sessions: SessionCache
    sslobject_class = _KeepingSSLObject

    def wrap_bio(self, incoming: ssl.MemoryBIO, outgoing: ssl.MemoryBIO, server_side: bool = False,
                 server_hostname: str | None = None, session: ssl.SSLSession | None = None) -> ssl.SSLObject:
        if session is None and server_hostname and not server_side:
            session = self.sessions.get(server_hostname)
        return super().wrap_bio(incoming, outgoing, server_side=server_side, server_hostname=server_hostname,
                                session=session)


def resuming_context(cafile: str | None = None, capath: str | None = None) -> ResumingContext:
    """What ssl.create_default_context() makes for a client (Python 3.11: TLS client, hostname check, CAs), with
    session resumption."""
    context = ResumingContext(ssl.PROTOCOL_TLS_CLIENT)
    context.sessions = SessionCache()
    if cafile or capath:
        context.load_verify_locations(cafile=cafile, capath=capath)
    else:
        context.load_default_certs()
    return context


class DownHosts:
    """Hosts whose connect timed out lately: (host, port) -> until when they are not tried."""

    def __init__(self, seconds: float = DOWN_SECONDS, size: int = MAX_HOSTS) -> None:
        self.seconds = seconds
        self._hosts: _Bounded[float] = _Bounded(size)

    def since(self, key: tuple[str, int | None]) -> float | None:
        """When the host last failed to accept a connection, if that was less than `seconds` ago."""
        return self._hosts.get(key, time.monotonic())

    def failed(self, key: tuple[str, int | None]) -> None:
        now = time.monotonic()
        self._hosts.put(key, now, now + self.seconds)
