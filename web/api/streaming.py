"""Mastodon's streaming API, served by the web process itself: a WebSocket at /api/v1/streaming (several streams
on one connection, `{"type": "subscribe", "stream": ...}`; its connections are held by web/api/stream_sockets.py),
the server-sent-events paths /api/v1/streaming/user, /user/notification, /public, /public/local, /public/remote,
/hashtag, /hashtag/local, /list and /direct, and /api/v1/streaming/health.

Owns: the stream names, parameters, refusals and message shapes of Mastodon 4.3's streaming server (an event's
payload is a JSON *string* inside the message: `{"stream": ["user"], "event": "update", "payload": "{...}"}`),
the keep-alive (one timer: a ping on every WebSocket, a `:thump` comment on every event stream), and `StreamHub`: the one
LISTEN connection of this process (server/streams.py's channel, started with the first stream) and who is
subscribed to what. For each event it asks server/timelines.live_audience, once for all its subscribers, whose
home, public, tag or direct timeline (or, once per list, which list) holds the post (the visibility rule, mutes,
blocks and the home filter, as the REST reads apply them), then renders the Status once for all of them (and once
more for each viewer who liked or boosted it, since only `favourited` and `reblogged` differ) with the REST API's
own renderers, and applies each viewer's own filters to that entity (web/api/filtering.py: `hide` leaves the
post out of that viewer's stream, `warn` marks their copy) as the REST timeline of the same context would.
Never: SQL, or deciding who may see what.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

import asyncpg
from starlette.datastructures import Headers, QueryParams
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from server import accounts, lists, media, notifications, oauth, posts, scopes, streams, timelines
from server.db.pool import connection
from server.deps import Deps
from server.posts import Post
from server.visibility import PUBLISHED
from web.api.event_streams import DETACH, EventStreamSocket, HandOver
from web.api.entities import render_accounts, render_notifications, render_status_ids
from web.api.filtering import apply as apply_filters, filter_notifications, load as load_filters

if TYPE_CHECKING:
    from web.api.stream_sockets import StreamSocket

log = logging.getLogger("ambtenaar.streaming")

# Every open stream's keep-alive: a ping on a WebSocket (a client that sent nothing by the next one is gone), the
# `:thump` comment on an event stream, as often as Mastodon's streaming server sends its heartbeat.
KEEPALIVE_SECONDS = 15.0
RECHECK_SECONDS = 60.0  # every open stream's token and account checked again, beside the access.changed events
# Mastodon streams a remote post only when it was written in the last 6 hours (Status#within_realtime_window?), so
# fetching an old thread does not flood the public streams.
REALTIME_WINDOW = timedelta(hours=6)
# The media streams carry only posts with images of their own (the public timeline's `only_media`).
MEDIA_STREAMS = {"public": "public:media", "public:local": "public:local:media", "public:remote": "public:remote:media"}
PUBLIC_STREAMS = frozenset({"public", "public:local", "public:remote", "hashtag", "hashtag:local",
                            *MEDIA_STREAMS.values()})
STREAMS = PUBLIC_STREAMS | {"user", "user:notification", "list", "direct"}
SSE_PATHS = {"/api/v1/streaming/user": "user", "/api/v1/streaming/user/notification": "user:notification",
             "/api/v1/streaming/public": "public", "/api/v1/streaming/public/local": "public:local",
             "/api/v1/streaming/public/remote": "public:remote", "/api/v1/streaming/hashtag": "hashtag",
             "/api/v1/streaming/hashtag/local": "hashtag:local", "/api/v1/streaming/list": "list",
             "/api/v1/streaming/direct": "direct"}


class StreamRefused(Exception):
    """A stream Mastodon's streaming server refuses too, with its status (400 or 401) and message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True, slots=True)
class Viewer:
    account_id: int
    scopes: tuple[str, ...]
    token_id: int  # the token the stream was opened with: its revocation closes the stream

    @property
    def reads_notifications(self) -> bool:
        """Mastodon's user stream carries notifications only for a token that may read them."""
        return scopes.covers(self.scopes, "read:notifications")


@dataclass(frozen=True, slots=True)
class Channel:
    name: str  # one of STREAMS
    tag: str = ""  # hashtag streams: the tag as stored (no '#', lower case)
    label: tuple[str, ...] = ()  # the `stream` of each message, e.g. ("hashtag", "Ede"), as Mastodon echoes it
    list_id: int = 0  # the list stream: which of the viewer's lists


def _raw_token(request: HTTPConnection) -> tuple[str, bool]:
    """The token from the Authorization header, the `access_token` parameter or the Sec-WebSocket-Protocol header
    (browsers cannot set headers on a WebSocket); and whether it came from the last, which is then echoed.
    Read from the scope, not `request.headers`/`query_params`, which an open WebSocket would keep parsed."""
    headers = Headers(scope=request.scope)
    header = headers.get("authorization", "")
    if header:
        return header.removeprefix("Bearer ").strip(), False
    query = QueryParams(request.scope.get("query_string", b"")).get("access_token", "")
    if query:
        return query, False
    protocol = _first_protocol(headers)
    return protocol, bool(protocol)


def _first_protocol(headers: Headers) -> str:
    return headers.get("sec-websocket-protocol", "").split(",")[0].strip()


async def authenticate(deps: Deps, request: HTTPConnection) -> tuple[Viewer, bool]:
    """Every stream needs a person's token, as in Mastodon 4.3 (an app's own token has no timeline)."""
    raw, via_protocol = _raw_token(request)
    if not raw:
        raise StreamRefused(401, "Missing access token")
    async with connection(deps.pool) as conn:
        token = await oauth.get_active_token(conn, raw, deps.now())
        account = await accounts.get_account(conn, token.account_id) if token and token.account_id else None
    if token is None or account is None or not account.is_active:
        raise StreamRefused(401, "Invalid access token")
    return Viewer(account.id, token.scopes, token.id), via_protocol


async def check_list_owner(deps: Deps, viewer: Viewer, channel: Channel) -> None:
    """Only the list's owner streams it; someone else's list is refused as one that does not exist (Mastodon)."""
    if channel.name != "list":
        return
    async with connection(deps.pool) as conn:
        owners = await lists.list_owners(conn, [channel.list_id])
    if owners.get(channel.list_id) != viewer.account_id:
        raise StreamRefused(401, "Not authorized to stream this list")


# The filter context (server/filters.py) of the timeline whose rule let a post into a stream; direct
# conversations are not filtered (Mastodon's streaming server leaves them alone too).
FILTER_CONTEXT = {"home": "home", "list": "home", "public": "public", "tag": "public"}


def resolve_channel(viewer: Viewer, name: str, params: Mapping[str, Any]) -> Channel:
    """A stream by Mastodon's name and parameters (`tag`, `list`), checked as its streaming server checks it:
    scopes first (public streams need none), then the parameters."""
    if name in MEDIA_STREAMS and str(params.get("only_media", "")).lower() in ("1", "true"):
        name = MEDIA_STREAMS[name]  # `public` with `only_media=true`, as Mastodon's event-stream paths take it
    if name not in PUBLIC_STREAMS:
        needed = "read:notifications" if name == "user:notification" else "read:statuses"
        if not scopes.covers(viewer.scopes, needed):
            raise StreamRefused(401, "Access token does not have the required scopes")
    if name in ("hashtag", "hashtag:local"):
        tag = params.get("tag")
        if not isinstance(tag, str) or not tag.strip("# "):
            raise StreamRefused(400, "Missing tag name parameter")
        return Channel(name, tag.strip().lstrip("#").lower(), (name, tag))
    if name == "list":
        raw = params.get("list")
        if not raw:
            raise StreamRefused(400, "Missing list name parameter")
        if not str(raw).isdigit() or len(str(raw)) > 19:
            raise StreamRefused(401, "Not authorized to stream this list")
        return Channel(name, list_id=int(str(raw)), label=(name, str(raw)))
    if name not in STREAMS:
        raise StreamRefused(400, "Unknown stream type")
    return Channel(name, label=(name,))


class Sink(Protocol):
    """Where a client's messages go, written at once: web/api/stream_sockets.StreamSocket (a WebSocket) or
    web/api/event_streams.EventStreamSocket (an event stream), each bounding what may wait unsent."""

    def send_text(self, text: str) -> None: ...

    def close(self, code: int, reason: str) -> None: ...


class Client:
    """One connection's subscriptions; its messages go straight to its socket. An idle connection holds only this
    record and its socket (docs/benchmarks.md, "Streaming API": memory per stream)."""

    __slots__ = ("channels", "closed", "_socket", "_websocket")

    def __init__(self, socket: Sink, *, websocket: bool = True) -> None:
        self.channels: dict[Channel, Viewer] = {}
        self.closed = False
        self._socket = socket
        self._websocket = websocket

    @property
    def websocket(self) -> bool:
        return self._websocket

    def deliver(self, channel: Channel, event: str, payload: str | None) -> None:
        if self._websocket:
            message: dict[str, Any] = {"stream": list(channel.label), "event": event}
            if payload is not None:
                message["payload"] = payload
            self.push(json.dumps(message, ensure_ascii=False, separators=(",", ":")))
        else:  # Mastodon writes JavaScript's `undefined` for an event without payload (filters_changed)
            self.push(f"event: {event}\ndata: {'undefined' if payload is None else payload}\n\n")

    def push(self, text: str) -> None:
        if not self.closed:
            self._socket.send_text(text)

    def end(self, code: int, reason: str) -> None:
        """End the connection from our side: a WebSocket is closed with `code`, an event stream's response ends."""
        if not self.closed:
            self._socket.close(code, reason)
        self.close()

    def close(self) -> None:
        """The connection ended: nothing more is sent to it."""
        self.closed = True


def _dumps(entity: Any) -> str:
    return json.dumps(entity, ensure_ascii=False, separators=(",", ":"))  # as Starlette's JSONResponse


class StreamHub:
    """The streams of this web process and its one LISTEN connection (a pool connection held while it runs)."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.subscribers: dict[str, dict[tuple[Client, Channel], Viewer]] = {name: {} for name in STREAMS}
        self.sockets: set[StreamSocket | EventStreamSocket] = set()  # open streams, kept alive by one timer
        self.clients: dict[Client, Viewer] = {}  # every open stream and whose token opened it
        self._events: asyncio.Queue[str] = asyncio.Queue()
        self._listening = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._pinger: asyncio.Task[None] | None = None

    def count(self) -> int:
        return sum(len(subs) for subs in self.subscribers.values())

    async def subscribe(self, client: Client, viewer: Viewer, channel: Channel) -> None:
        """From now on the client gets the channel's events (once, however often it asks)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="stream-hub")
        client.channels[channel] = viewer
        self.subscribers[channel.name][(client, channel)] = viewer
        # Wait for LISTEN, so that what happens after the client was told it is subscribed reaches it.
        if not self._listening.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._listening.wait(), timeout=10)

    def unsubscribe(self, client: Client, channel: Channel) -> None:
        client.channels.pop(channel, None)
        self.subscribers[channel.name].pop((client, channel), None)

    def drop(self, client: Client) -> None:
        for channel in list(client.channels):
            self.unsubscribe(client, channel)
        self.clients.pop(client, None)
        client.close()

    def opened(self, client: Client, viewer: Viewer, socket: StreamSocket | EventStreamSocket) -> None:
        """A stream was opened with the viewer's token on `socket`, which the keep-alive timer now reaches."""
        self.clients[client] = viewer
        self.sockets.add(socket)
        if self._pinger is None:
            self._pinger = asyncio.create_task(self._ping(), name="stream-pings")

    def forget_socket(self, socket: StreamSocket | EventStreamSocket) -> None:
        self.sockets.discard(socket)

    async def _ping(self) -> None:
        """One timer for every open stream of the process rather than one per connection; every RECHECK_SECONDS it
        also checks every open stream's token and account again, for a change no event announced."""
        rounds = 0
        while True:
            await asyncio.sleep(KEEPALIVE_SECONDS)
            for socket in list(self.sockets):
                try:
                    socket.keepalive()
                except Exception:  # one broken socket must not stop the pings of the others
                    log.exception("stream keep-alive failed")
            rounds += 1
            if rounds * KEEPALIVE_SECONDS >= RECHECK_SECONDS:
                rounds = 0
                try:
                    await self.recheck(None)
                except Exception:  # the database away for a moment: the next round checks again
                    log.exception("stream access recheck failed")

    async def recheck(self, account_ids: set[int] | None) -> None:
        """Close the streams (of these accounts, or all) whose token was revoked or whose account was suspended or
        disabled since they opened: what `authenticate` would now refuse, it no longer serves."""
        open_now = [(client, viewer) for client, viewer in list(self.clients.items())
                    if account_ids is None or viewer.account_id in account_ids]
        if not open_now:
            return
        async with connection(self.deps.pool) as conn:
            live_tokens = await oauth.list_unrevoked(conn, sorted({v.token_id for _, v in open_now}))
            people = await accounts.list_accounts_by_ids(conn, sorted({v.account_id for _, v in open_now}))
        for client, viewer in open_now:
            person = people.get(viewer.account_id)
            if viewer.token_id not in live_tokens or person is None or not person.is_active:
                client.end(1008, "Invalid access token")
                self.drop(client)

    async def close(self) -> None:
        if self._pinger is not None:
            self._pinger.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pinger
            self._pinger = None
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def _on_notify(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        self._events.put_nowait(payload)

    async def _run(self) -> None:
        """Listen, and hand each event to its subscribers in the order PostgreSQL committed them; after the
        connection is lost (a database restart), listen again: what happened meanwhile is not replayed, as on
        Mastodon, whose clients reload their timelines on reconnecting."""
        while True:
            try:
                listener = await self.deps.pool.acquire()
                try:
                    await listener.add_listener(streams.CHANNEL, self._on_notify)
                    self._listening.set()
                    while not listener.is_closed():
                        try:
                            payload = await asyncio.wait_for(self._events.get(), timeout=5)
                        except TimeoutError:
                            continue
                        event = streams.parse(payload)
                        if event is not None:
                            await self._dispatch_safely(event)
                finally:
                    self._listening.clear()
                    with contextlib.suppress(Exception):
                        await listener.remove_listener(streams.CHANNEL, self._on_notify)
                    with contextlib.suppress(Exception):
                        await self.deps.pool.release(listener)
            except Exception as exc:  # the database went away; CancelledError passes
                log.warning("stream listener restarting", extra={"error": repr(exc)})
                await asyncio.sleep(1)

    async def _dispatch_safely(self, event: streams.LiveEvent) -> None:
        try:
            await self.dispatch(event)
        except Exception:  # one event's failure must not end the streams of everyone
            log.exception("stream event failed", extra={"kind": event.kind, "subject": event.subject_id})

    async def dispatch(self, event: streams.LiveEvent) -> None:
        if event.kind in (streams.POST_PUBLISHED, streams.POST_EDITED):
            await self._post(event.subject_id, published=event.kind == streams.POST_PUBLISHED)
        elif event.kind == streams.POST_DELETED:
            await self._deleted(event.subject_id)
        elif event.kind == streams.NOTIFICATION_CREATED:
            await self._notification(event.subject_id)
        elif event.kind == streams.ACCESS_CHANGED:
            await self.recheck({event.subject_id})
        elif event.kind == streams.FILTERS_CHANGED:
            for (client, channel), viewer in list(self.subscribers["user"].items()):
                if viewer.account_id == event.subject_id:
                    client.deliver(channel, "filters_changed", None)

    def _candidates(self, post: Post, tags: Collection[str], *, direct: bool,
                    has_media: bool) -> dict[str, list[tuple[Client, Channel, Viewer]]]:
        """The subscriptions that could show the post, by the timeline whose rule decides (home, public, tag,
        direct)."""
        local = post.uri is None

        def of(name: str, wanted: bool = True) -> list[tuple[Client, Channel, Viewer]]:
            if not wanted:
                return []
            return [(client, channel, viewer) for (client, channel), viewer in list(self.subscribers[name].items())
                    if not channel.tag or channel.tag in tags]

        return {"home": of("user"),
                "public": (of("public") + of("public:local", local) + of("public:remote", not local)
                           + of("public:media", has_media) + of("public:local:media", local and has_media)
                           + of("public:remote:media", not local and has_media)),
                "tag": of("hashtag", bool(tags)) + of("hashtag:local", local and bool(tags)),
                "direct": of("direct", direct and post.visibility == "direct"), "list": of("list")}

    async def _has_media(self, conn: asyncpg.Connection, post_id: int) -> bool:
        """Whether the post has images, asked only while someone follows a media stream."""
        if not any(self.subscribers[name] for name in MEDIA_STREAMS.values()):
            return False
        return bool((await media.list_for_posts(conn, [post_id])).get(post_id))

    async def _receivers(self, conn: asyncpg.Connection, post: Post, candidates: Mapping[str, list[tuple[Client, Channel, Viewer]]],
                         *, before_deletion: bool = False) -> list[tuple[str, Client, Channel, Viewer]]:
        found = []
        for timeline, subs in candidates.items():
            # A list's timeline is asked once per list (its owner is the only viewer).
            for list_id in sorted({channel.list_id for _, channel, _ in subs}) if timeline == "list" else [0]:
                chosen = [sub for sub in subs if sub[1].list_id == list_id]
                if not chosen:
                    continue
                audience = await timelines.live_audience(conn, post.id, {v.account_id for _, _, v in chosen},
                                                         timeline, before_deletion=before_deletion,
                                                         list_id=list_id or None)
                found += [(timeline, client, channel, viewer) for client, channel, viewer in chosen
                          if viewer.account_id in audience]
        return found

    async def _post(self, post_id: int, *, published: bool) -> None:
        if not any(self.subscribers[name] for name in STREAMS):
            return
        async with connection(self.deps.pool) as conn:
            post = await posts.get_post(conn, post_id)
            # Held and rejected posts are never streamed; a held post is announced again when it is approved.
            if post is None or post.state != PUBLISHED:
                return
            if published and post.uri is not None and post.created_at < self.deps.now() - REALTIME_WINDOW:
                return
            tags = set((await posts.list_tags(conn, [post.id])).get(post.id, []))
            receivers = await self._receivers(conn, post, self._candidates(
                post, tags, direct=published, has_media=await self._has_media(conn, post.id)))
            if not receivers:
                return
            statuses = await self._render(conn, post, {viewer.account_id for _, _, _, viewer in receivers})
            conversations = await self._conversations(conn, post, statuses, {
                viewer.account_id for timeline, _, _, viewer in receivers if timeline == "direct"})
            their_filters = await load_filters(conn, list({viewer.account_id for _, _, _, viewer in receivers}))
        name = "update" if published else "status.update"
        personal: dict[tuple[int, str], str | None] = {}  # (viewer, filter context) -> their filtered copy
        for timeline, client, channel, viewer in receivers:
            if timeline == "direct":
                if viewer.account_id in conversations:
                    client.deliver(channel, "conversation", conversations[viewer.account_id])
            elif viewer.account_id in statuses:
                entity, payload = statuses[viewer.account_id]
                key = (viewer.account_id, FILTER_CONTEXT[timeline])
                if key not in personal:
                    shown = apply_filters(their_filters.get(viewer.account_id, []), entity, key[1], self.deps.now())
                    personal[key] = None if shown is None else payload if shown is entity else _dumps(shown)
                if personal[key] is not None:
                    client.deliver(channel, name, personal[key])

    async def _render(self, conn: asyncpg.Connection, post: Post, viewer_ids: set[int]) -> dict[int, tuple[dict[str, Any], str]]:
        """The Status entity each viewer gets from GET /api/v1/statuses/:id: rendered once for everyone who has
        not liked or boosted it (their entities are equal), once for each who has."""
        ids = [post.id] + ([post.reblog_of_id] if post.reblog_of_id else [])
        personal = await timelines.list_reacting(conn, ids, viewer_ids)
        result: dict[int, tuple[dict[str, Any], str]] = {}
        shared = viewer_ids - personal
        groups = ([(min(shared), shared)] if shared else []) + [(v, {v}) for v in personal]
        for renderer, viewers in groups:
            rendered = await render_status_ids(conn, self.deps.settings, [post.id], renderer)
            if rendered:
                entity = (rendered[0], _dumps(rendered[0]))
                result.update({v: entity for v in viewers})
        return result

    async def _conversations(self, conn: asyncpg.Connection, post: Post, statuses: Mapping[int, tuple[dict[str, Any], str]],
                             viewer_ids: set[int]) -> dict[int, str]:
        """Mastodon's Conversation entity for each participant on a direct stream: the thread (its first post's
        id), the other participants, and this post as the last one, unread for all but its author."""
        viewer_ids = {v for v in viewer_ids if v in statuses}
        if not viewer_ids:
            return {}
        participant_ids = [post.account_id, *await posts.list_mentioned_account_ids(conn, post.id)]
        people = await accounts.list_accounts_by_ids(conn, participant_ids)
        rendered = {int(a["id"]): a for a in await render_accounts(conn, self.deps.settings, list(people.values()))}
        root_id = await posts.get_root_id(conn, post.id)
        return {viewer: _dumps({"id": str(root_id), "unread": viewer != post.account_id,
                                "accounts": [a for i, a in rendered.items() if i != viewer],
                                "last_status": statuses[viewer][0]})
                for viewer in viewer_ids}

    async def _deleted(self, post_id: int) -> None:
        if not any(self.subscribers[name] for name in ("user", "list", *PUBLIC_STREAMS)):
            return
        async with connection(self.deps.pool) as conn:
            post = await posts.get_post(conn, post_id, include_deleted=True)
            if post is None or post.state != PUBLISHED:
                return
            tags = set((await posts.list_tags(conn, [post.id])).get(post.id, []))
            # Those whose timeline held it until now hear of it, as Mastodon removes it from those timelines.
            receivers = await self._receivers(conn, post, self._candidates(
                post, tags, direct=False, has_media=await self._has_media(conn, post.id)), before_deletion=True)
        for _, client, channel, _ in receivers:
            client.deliver(channel, "delete", str(post_id))

    async def _notification(self, notification_id: int) -> None:
        if not self.subscribers["user"] and not self.subscribers["user:notification"]:
            return
        async with connection(self.deps.pool) as conn:
            found = await notifications.get_shown_notification(conn, notification_id)
            if found is None:
                return
            targets = [(client, channel) for name in ("user", "user:notification")
                       for (client, channel), viewer in list(self.subscribers[name].items())
                       if viewer.account_id == found.account_id and (name != "user" or viewer.reads_notifications)]
            if not targets:
                return
            rendered = await filter_notifications(conn, found.account_id, await render_notifications(
                conn, self.deps.settings, [found], found.account_id), self.deps.now())
        if rendered:
            payload = _dumps(rendered[0])
            for client, channel in targets:
                client.deliver(channel, "notification", payload)


def _hub(request: HTTPConnection) -> StreamHub:
    return request.app.state.streams  # type: ignore[no-any-return]


async def health(request: Request) -> Response:
    return PlainTextResponse("OK")


async def event_stream(request: Request) -> Response:
    """A server-sent-events path: one stream per request, the stream named by the path. Subscribed before the
    response starts, so that what happens once the client sees it reaches it; then the connection is handed to an
    EventStreamSocket (web/api/event_streams.py)."""
    hub = _hub(request)
    hand_over: HandOver | None = request.scope.get("extensions", {}).get(DETACH)
    if hand_over is None:
        return JSONResponse({"error": "Event streams are served by `ambtenaar serve` only"}, status_code=501)
    try:
        viewer, _ = await authenticate(hub.deps, request)
        channel = resolve_channel(viewer, SSE_PATHS[request.url.path.rstrip("/")], request.query_params)
        await check_list_owner(hub.deps, viewer, channel)
    except StreamRefused as refused:
        return JSONResponse({"error": refused.message}, status_code=refused.status)
    socket = EventStreamSocket(hub)
    socket.client = client = Client(socket, websocket=False)
    hub.opened(client, viewer, socket)
    await hub.subscribe(client, viewer, channel)
    return _HandedOverStream(socket, hand_over)


class _HandedOverStream(Response):
    """The event stream's response: its head and first line go out through the middleware (which adds the
    security and CORS headers), then the connection is handed over and this request's task ends."""

    def __init__(self, socket: EventStreamSocket, hand_over: HandOver) -> None:
        super().__init__(media_type="text/event-stream", headers={"Cache-Control": "no-store"})
        del self.headers["content-length"]
        self._socket = socket
        self._hand_over = hand_over

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            await send({"type": "http.response.body", "body": b":)\n", "more_body": True})
        except BaseException:  # the request ended here (cancelled, or the server is stopping): so does the stream
            self._socket.connection_lost(None)
            raise
        self._hand_over(self._socket)


async def subscribe_message(hub: StreamHub, client: Client, viewer: Viewer, request: Mapping[str, Any]) -> None:
    """A WebSocket client's `subscribe` or `unsubscribe` (web/api/stream_sockets.py reads the frames)."""
    stream = request.get("stream")
    name = stream[0] if isinstance(stream, list) and stream else stream
    if request.get("type") not in ("subscribe", "unsubscribe") or not isinstance(name, str):
        return  # Mastodon ignores other messages
    try:
        channel = resolve_channel(viewer, name, request)
        if request["type"] == "subscribe":
            await check_list_owner(hub.deps, viewer, channel)
    except StreamRefused as refused:
        if request["type"] == "subscribe":
            client.push(_dumps({"error": refused.message, "status": refused.status}))
        return
    if request["type"] == "subscribe":
        await hub.subscribe(client, viewer, channel)
    else:
        hub.unsubscribe(client, channel)


def routes() -> list[BaseRoute]:
    return [Route("/api/v1/streaming/health", health, methods=["GET"]),
            *(Route(path, event_stream, methods=["GET"]) for path in SSE_PATHS)]
    # The WebSocket at /api/v1/streaming (and any path under it) is not a route: uvicorn hands every upgrade to
    # web/api/stream_sockets.StreamSocket (server/cli/web_processes.py), which holds an open stream far more cheaply.


ROUTES = routes()
