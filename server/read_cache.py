"""Rendered public documents kept in each web process's memory, so that a post a popular account boosts, fetched by
every server that sees the boost, is rendered once and not once per fetch.

Owns: the entries (body, media type, ETag, the tags of the rows they were made from, an expiry), their byte budget
(least recently used go first), the invalidation channel (`CHANNEL`) and its payload, the listener that applies
invalidations in every process, and the answer with `ETag` / `304 Not Modified`.

How it stays right:
- Only what a handler declares cacheable is kept, under a key that holds everything the answer depends on (path,
  query, representation, language, the signer under authorized fetch). Handlers declare only documents that anyone
  who may ask would get the same way (public and unlisted published posts, actors, WebFinger, NodeInfo, pages for
  visitors who are not signed in); who may see what is still decided first, by the same rule as without the cache.
- Every outbox event (server/events.py) announces on `CHANNEL`, in its transaction, the ids it touches (subject,
  actor, and for a post its author, parent and boosted post); each process drops the entries tagged with any of
  them (`post:N`, `account:N`). Every post stored, edited or deleted, remote ones included, announces the same way
  (server/streams.py's `publish`), so a remote reply shows on our post's page at once. What changes without either
  (a remote like, an organisation's name, NodeInfo's counts) is seen after the expiry, `TTL_SECONDS`.
- A render that started before an invalidation arrived is not stored (`epoch`), so a slow render never puts back a
  document that was just invalidated. While the listener is not listening (start-up, a lost database connection),
  nothing is stored and what was stored is dropped, because changes made meanwhile would go unseen.
Never: decides visibility (server/visibility.py), renders documents, or caches anything for a signed-in viewer.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Collection, Iterable
from dataclasses import dataclass, field

import asyncpg
from starlette.requests import Request
from starlette.responses import Response

log = logging.getLogger("ambtenaar.read_cache")

CHANNEL = "ambtenaar_read_cache"
TTL_SECONDS = 60.0
BUDGET_BYTES = 16 * 1024 * 1024  # per process; a Note is 1-3 KB, a page 10-40 KB

Key = tuple[str, ...]


def post_tag(post_id: int) -> str:
    return f"post:{post_id}"


def account_tag(account_id: int) -> str:
    return f"account:{account_id}"


# The ids an outbox event touches, computed in the event's own statement: the subject and actor, and when the subject
# is a post its author, parent and boosted post. Ids of other tables (a poll, a quote) are also read as post and
# account ids; that drops an unrelated entry now and then, never keeps a stale one.
NOTIFY_SQL = f"""SELECT pg_notify('{CHANNEL}', concat_ws(' ', $1::bigint, $2::bigint,
                   (SELECT concat_ws(' ', p.account_id, p.in_reply_to_id, p.reblog_of_id)
                    FROM posts p WHERE p.id = $1)))"""


async def announce(conn: asyncpg.Connection, subject_id: int, actor_id: int) -> None:
    """Tell every process, when the caller's transaction commits, to drop what was made from these rows."""
    await conn.execute(NOTIFY_SQL, subject_id, actor_id)


async def announce_accounts(conn: asyncpg.Connection, account_ids: Iterable[int]) -> None:
    """For a change that no outbox event carries (an organisation's handle domain): drop these accounts' entries."""
    ids = [str(int(i)) for i in account_ids]
    for start in range(0, len(ids), 300):  # 300 ids of at most 20 bytes: below NOTIFY's 8,000-byte limit
        await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, " ".join(ids[start:start + 300]))


def tags_of(payload: str) -> set[str]:
    tags: set[str] = set()
    for word in payload.split():
        if word.isdigit():
            tags.add(post_tag(int(word)))
            tags.add(account_tag(int(word)))
    return tags


@dataclass(frozen=True)
class Fresh:
    """A document a handler just rendered and declares the same for everyone under its key."""

    body: bytes
    media_type: str
    tags: frozenset[str]
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Entry:
    body: bytes
    media_type: str
    etag: str
    tags: frozenset[str]
    headers: tuple[tuple[str, str], ...]
    expires: float


def etag_of(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def answer(request: Request, body: bytes, media_type: str, etag: str,
           headers: Iterable[tuple[str, str]]) -> Response:
    """200 with the body, or 304 when the client already holds this version (If-None-Match, weak comparison)."""
    sent = dict(headers)
    sent["ETag"] = etag
    asked = request.headers.get("if-none-match", "")
    if asked and (asked.strip() == "*" or etag in (tag.strip().removeprefix("W/") for tag in asked.split(","))):
        return Response(status_code=304, headers=sent)
    return Response(body, media_type=media_type, headers=sent)


@dataclass
class ReadCache:
    budget: int = BUDGET_BYTES
    ttl: float = TTL_SECONDS
    clock: Callable[[], float] = time.monotonic
    epoch: int = 0  # counts invalidations; a render stores only if none came in meanwhile
    listening: bool = False
    _entries: OrderedDict[Key, Entry] = field(default_factory=OrderedDict)
    _by_tag: dict[str, set[Key]] = field(default_factory=dict)
    _bytes: int = 0
    _rendering: dict[Key, asyncio.Future[Entry | None]] = field(default_factory=dict)
    hits: int = 0
    misses: int = 0

    def get(self, key: Key) -> Entry | None:
        entry = self._entries.get(key)
        if entry is None or entry.expires <= self.clock():
            if entry is not None:
                self._remove(key)
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return entry

    def store(self, key: Key, fresh: Fresh, since_epoch: int) -> Entry:
        entry = Entry(fresh.body, fresh.media_type, etag_of(fresh.body), fresh.tags, fresh.headers,
                      self.clock() + self.ttl)
        if not self.listening or since_epoch != self.epoch or len(fresh.body) > self.budget // 16:
            return entry  # answered, not kept
        if key in self._entries:
            self._remove(key)
        self._entries[key] = entry
        self._bytes += len(entry.body)
        for tag in entry.tags:
            self._by_tag.setdefault(tag, set()).add(key)
        while self._bytes > self.budget and self._entries:
            self._remove(next(iter(self._entries)))
        return entry

    def invalidate(self, tags: Collection[str]) -> None:
        self.epoch += 1
        for tag in tags:
            for key in self._by_tag.pop(tag, set()):
                self._remove(key)

    def clear(self) -> None:
        self.epoch += 1
        self._entries.clear()
        self._by_tag.clear()
        self._bytes = 0

    def _remove(self, key: Key) -> None:
        entry = self._entries.pop(key, None)
        if entry is None:
            return
        self._bytes -= len(entry.body)
        for tag in entry.tags:
            keys = self._by_tag.get(tag)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._by_tag[tag]

    @property
    def size(self) -> tuple[int, int]:
        """(entries, bytes), for /readyz-style reporting and tests."""
        return len(self._entries), self._bytes

    async def serve(self, request: Request, key: Key,
                    render: Callable[[], Awaitable[Fresh | Response]]) -> Response:
        """The cached answer under `key`, or the handler's: stored when the handler declares it cacheable."""
        entry = self.get(key)
        if entry is None:
            entry = await self._render_once(key, render)
            if isinstance(entry, Response):
                return entry
        return answer(request, entry.body, entry.media_type, entry.etag, entry.headers)

    async def _render_once(self, key: Key, render: Callable[[], Awaitable[Fresh | Response]]) -> Entry | Response:
        """One render per key at a time: when a popular document expires, the requests that miss meanwhile wait for
        it instead of each running the same queries (at size, NodeInfo's counts would otherwise take the pool).
        A render that is not cacheable is done by each request itself, as it may differ per request."""
        running = self._rendering.get(key)
        if running is not None:
            shared = await asyncio.shield(running)
            if shared is not None:
                return shared
            rendered = await render()
            return rendered if isinstance(rendered, Response) else self.store(key, rendered, self.epoch)
        done: asyncio.Future[Entry | None] = asyncio.get_running_loop().create_future()
        self._rendering[key] = done
        try:
            since = self.epoch
            rendered = await render()
            entry = None if isinstance(rendered, Response) else self.store(key, rendered, since)
            done.set_result(entry)
            return rendered if entry is None else entry
        except BaseException:
            done.set_result(None)
            raise
        finally:
            del self._rendering[key]

    # ------------------------------------------------------------------ listening

    def on_notify(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        self.invalidate(tags_of(payload))

    def _lost(self, _conn: object) -> None:
        """The listening connection ended: nothing heard from now on, so nothing kept."""
        self.listening = False
        self.clear()

    async def listen(self, pool: asyncpg.Pool, stop: asyncio.Event) -> None:
        """Apply every process's invalidations until `stop`; while not listening, keep nothing."""
        while not stop.is_set():
            try:
                conn = await pool.acquire()
                try:
                    await conn.add_listener(CHANNEL, self.on_notify)
                    conn.add_termination_listener(self._lost)
                    self.clear()
                    self.listening = True
                    while not stop.is_set() and not conn.is_closed():
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(stop.wait(), timeout=5)
                finally:
                    self.listening = False
                    self.clear()
                    with contextlib.suppress(Exception):
                        await conn.remove_listener(CHANNEL, self.on_notify)
                    with contextlib.suppress(Exception):
                        await pool.release(conn)
            except Exception as exc:  # the database went away; CancelledError passes
                log.warning("read cache listener restarting", extra={"error": repr(exc)})
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=1)


def of(request: Request) -> ReadCache | None:
    """The process's cache, or None where the app runs without one (then every request is rendered)."""
    return getattr(request.app.state, "read_cache", None)


async def respond(request: Request, key: Key | None, render: Callable[[], Awaitable[Fresh | Response]]) -> Response:
    """The answer through the process's cache under `key`; rendered for this request alone when there is no key
    (nothing to keep) or no cache."""
    cache = of(request)
    if cache is not None and key is not None:
        return await cache.serve(request, key, render)
    rendered = await render()
    if isinstance(rendered, Fresh):
        return Response(rendered.body, media_type=rendered.media_type, headers=dict(rendered.headers))
    return rendered
