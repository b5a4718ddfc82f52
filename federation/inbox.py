"""Receiving activities: every check in a fixed order, then one stored row, then 202.

Owns: the inbox pipeline (size 413 -> content type 415 -> JSON 400 -> signature 401 (key refreshed once) ->
signer owns the actor 401 -> parse 400 -> domain policy (moderation/domain_blocks.py: a blocked domain is
answered 202 and dropped, also before its key is fetched) -> rate limits per domain and actor 429
(moderation/ratelimit.py) -> duplicate 202 -> inbox_items row, commit, NOTIFY, 202) and the inbox_items table.
A request whose signature cannot be verified is answered 401, never 202: senders that try RFC 9421 first
(Fedify) fall back to draft-cavage only on an error. Never: side effects of an activity inline;
federation/inbound/ handlers run after the commit, in the worker.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import asyncpg
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from federation import actors, signatures, transport, vocab
from federation.context import Federation
from moderation import domain_blocks, ratelimit
from server import accounts, housekeeping, limits
from server.accounts import Account
from server.db import queue
from server.db.pool import connection

log = logging.getLogger("ambtenaar.federation")
MAX_BODY = 256 * 1024
CLOCK_SKEW = timedelta(hours=1)
ACCEPTED_TYPES = ("application/activity+json", "application/ld+json", "application/json")
NOTIFY_CHANNEL = "ambtenaar_inbox"
_COLUMNS = ("id", "activity_uri", "actor_uri", "activity", "attempts")


class InboxRefusal(Exception):
    """A request the inbox answers with a 4xx status and a reason."""

    def __init__(self, status: int, reason: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.headers = headers or {}


@dataclass(frozen=True)
class InboxItem:
    id: int
    activity_uri: str
    actor_uri: str
    activity: dict[str, Any]
    attempts: int


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY:
        raise InboxRefusal(413, f"the body is larger than {MAX_BODY} bytes")
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BODY:
                raise InboxRefusal(413, f"the body is larger than {MAX_BODY} bytes")
            chunks.append(chunk)
    except ClientDisconnect:
        raise InboxRefusal(400, "the request body was cut off") from None
    return b"".join(chunks)


def public_url(fed: Federation, request: Request) -> str:
    """The URL the sender signed: our public base URL, whatever proxy sits in front."""
    query = f"?{request.url.query}" if request.url.query else ""
    return f"{fed.deps.settings.base_url}{request.url.path}{query}"


def key_host(key_id: str) -> str | None:
    """The host (and port, as `vocab.host_of` writes it) of a keyId we could fetch: an http(s) URL that parses,
    without user:password@. Else None: a keyId such as `http://[::1` is answered 401 like any key that cannot be
    fetched, instead of failing inside urlsplit."""
    try:
        parts = urlsplit(key_id)
        fetchable = parts.scheme in ("http", "https") and bool(parts.hostname) and "@" not in parts.netloc
        parts.port  # noqa: B018  (raises ValueError for a port that is not a number)
    except ValueError:
        return None
    return parts.netloc.lower() if fetchable else None


def _key_not_fetched(key_id: str, reason: str) -> InboxRefusal:
    # Why is logged, never answered: it can name what an internal host resolves to, or that a port is closed.
    log.info("signing key not fetched", extra={"key_id": key_id, "reason": reason})
    return InboxRefusal(401, f"the signing key {key_id} could not be fetched")


async def verify_signer(fed: Federation, request: Request, body: bytes | None) -> Account:
    """The remote account whose key signed this request (a POST with its body, or a GET with None); its key is
    refetched once if it does not verify (unless this request fetched it). At most one outgoing GET when the key
    is not cached: the actor's document (federation/actors.py); a badge it claims is checked later, in the worker."""
    headers = {k.lower(): v for k, v in request.headers.items()}
    try:
        key_id = signatures.signature_key_id(headers)
    except signatures.SignatureError as exc:
        raise InboxRefusal(401, str(exc)) from None
    if not key_id:
        raise InboxRefusal(401, "the request is not signed (no Signature or Signature-Input header)")
    if key_host(key_id) is None:
        raise _key_not_fetched(key_id, "the keyId is not an http(s) URL")
    url = public_url(fed, request)
    now = fed.deps.now()
    refreshed = False
    while True:
        try:
            signer = await actors.actor_for_key(fed, key_id, refresh=refreshed)
        except transport.ResolveError as exc:
            raise _key_not_fetched(key_id, str(exc)) from None
        if not signer.public_key_pem:
            raise InboxRefusal(401, f"the actor of key {key_id} publishes no public key")
        try:
            public_key = signatures.load_public_key(signer.public_key_pem)
            signatures.verify_request(request.method, url, headers, body, public_key, now, CLOCK_SKEW)
            return signer
        except (signatures.SignatureExpired, signatures.DigestMismatch, signatures.HeaderNotSigned,
                signatures.SignatureMissing, signatures.WrongHost) as exc:
            raise InboxRefusal(401, str(exc)) from None
        except signatures.SignatureError as exc:
            # A key fetched for this very request is as fresh as it gets: fetching it again would be a second
            # outgoing request that cannot help (an inbox POST costs at most one).
            if refreshed or (signer.fetched_at is not None and signer.fetched_at >= now):
                raise InboxRefusal(401, str(exc)) from None
            refreshed = True  # the actor may have rotated its key: fetch it once more


async def insert_item(conn: asyncpg.Connection, activity: vocab.Activity, now: datetime) -> bool:
    """Store the activity unless its id was seen before, and wake a worker when it is new; True when it is new.
    One statement, so it is atomic without a transaction block (and costs one round trip, not four)."""
    inserted = await conn.fetchval(
        f"""WITH stored AS (
              INSERT INTO inbox_items (activity_uri, actor_uri, activity, received_at, next_attempt_at)
              VALUES ($1, $2, $3, $4, $4) ON CONFLICT (activity_uri) DO NOTHING RETURNING id)
            SELECT count(pg_notify('{NOTIFY_CHANNEL}', '')) FROM stored""",
        activity.id, activity.actor, dict(activity.raw), now)
    return bool(inserted)


async def _is_unknown_actor_deleting_itself(fed: Federation, doc: Any) -> bool:
    """Mastodon sends Delete{Person} for accounts whose key is already gone; for actors we never knew, drop it."""
    if not isinstance(doc, dict) or doc.get("type") != "Delete" or doc.get("actor") != doc.get("object"):
        return False
    async with connection(fed.deps.pool) as conn:
        return await accounts.get_account_by_actor_uri(conn, str(doc.get("actor"))) is None


async def _blocked_domain(fed: Federation, host: str) -> bool:
    """The moderation gate: a suspended domain (or, in allowlist mode, one not listed) is answered 202 and
    dropped, as Takahē and GoToSocial do, so that a block cannot be probed."""
    async with connection(fed.deps.pool) as conn:
        verdict = await domain_blocks.gate(conn, fed.deps.settings.domain, host)
    if not verdict.allowed:
        log.info("inbox dropped", extra={"host": host, "reason": verdict.reason})
    return not verdict.allowed


async def _key_host_gate(fed: Federation, request: Request) -> tuple[str | None, bool]:
    """The gate before verifying, on the keyId's host, so a blocked server cannot make us fetch its key:
    (the host checked, or None; whether it is blocked)."""
    try:
        key_id = signatures.signature_key_id({k.lower(): v for k, v in request.headers.items()})
    except signatures.SignatureError:
        return None, False  # verify_signer answers 401 with the reason
    host = key_host(key_id) if key_id else None
    if host is None:
        return None, False  # verify_signer answers 401
    return host, await _blocked_domain(fed, host)


def heard_from(signer: Account, activity: vocab.Activity) -> bool:
    """A suspended account's activities are dropped, except, when its own server suspended it, the Update of its
    actor that may say the suspension is over."""
    if not signer.is_suspended:
        return True
    return signer.suspended_by_origin and activity.type == "Update" and activity.object_id == signer.actor_uri


async def receive(request: Request) -> Response:
    fed: Federation = request.app.state.federation
    try:
        body = await _read_body(request)
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type not in ACCEPTED_TYPES:
            raise InboxRefusal(415, "the content type must be application/activity+json or application/ld+json")
        try:
            doc = limits.loads(body)
        except (limits.JsonTooDeep, limits.UnstorableText) as exc:
            raise InboxRefusal(400, str(exc)) from None
        except (ValueError, UnicodeDecodeError):
            raise InboxRefusal(400, "the body is not JSON") from None
        if await _is_unknown_actor_deleting_itself(fed, doc):
            return Response(status_code=202)
        key_host, key_blocked = await _key_host_gate(fed, request)
        if key_blocked:
            return Response(status_code=202)
        signer = await verify_signer(fed, request, body)
        try:
            activity = vocab.parse_activity(doc)
        except vocab.InvalidActivity as exc:
            raise InboxRefusal(400, f"invalid activity: {exc}") from None
        if activity.actor != signer.actor_uri:
            raise InboxRefusal(401, "the signing key does not belong to the activity's actor")
        if vocab.host_of(activity.id) != vocab.host_of(activity.actor):
            raise InboxRefusal(400, "the activity id is not on the actor's host")
        if not heard_from(signer, activity):
            return Response(status_code=202)  # dropped, as Mastodon does, with 202 so it is no probe
        actor_host = vocab.host_of(activity.actor)
        if actor_host != key_host and await _blocked_domain(fed, actor_host):  # the usual key is on the actor's host
            return Response(status_code=202)
        async with connection(fed.deps.pool) as conn:  # autocommit: a refused request is counted too
            throttled = await ratelimit.check_inbox(conn, fed.deps.settings, actor_uri=activity.actor,
                                                    now=fed.deps.now())
            if throttled is not None:
                raise InboxRefusal(429, throttled.reason, {"Retry-After": str(throttled.retry_after)})
            await insert_item(conn, activity, fed.deps.now())
    except InboxRefusal as refusal:
        log.info("inbox refused", extra={"status": refusal.status, "reason": refusal.reason,
                                         "path": request.url.path})
        return JSONResponse({"error": refusal.reason}, status_code=refusal.status, headers=refusal.headers)
    return Response(status_code=202)


async def shared_inbox(request: Request) -> Response:
    return await receive(request)


async def personal_inbox(request: Request) -> Response:
    return await receive(request)


# The queue of received activities (server/db/queue.py): leased to a worker for 2 minutes (or until that worker is
# gone), retried on the shared schedule, given up ("failed", the error kept) after the 8th attempt.
QUEUE = queue.Queue("inbox_items", lease=timedelta(minutes=2), states={queue.DEAD: "failed"})


async def claim_items(conn: asyncpg.Connection, now: datetime, limit: int = 20, *,
                      worker: int | None = None) -> list[InboxItem]:
    rows = await queue.claim(conn, QUEUE, now, limit, _COLUMNS, worker=worker)
    return [InboxItem(**r) for r in sorted(rows, key=lambda r: r["id"])]


async def finish_item(conn: asyncpg.Connection, item_id: int) -> None:
    await queue.done(conn, QUEUE, [item_id])


async def fail_item(conn: asyncpg.Connection, item: InboxItem, error: str, now: datetime) -> bool:
    """Retry later with backoff; after 8 attempts (about a day) give up and keep the error. True when given up."""
    return await queue.retry(conn, QUEUE, item.id, item.attempts, error, now)


@housekeeping.register("inbox_items")
async def delete_old_items(conn: asyncpg.Connection, now: datetime, settings: object = None,
                           keep: timedelta = timedelta(days=7)) -> None:
    """Housekeeping: handled items are kept a week (for duplicate detection and debugging), then removed."""
    await conn.execute("DELETE FROM inbox_items WHERE state <> 'pending' AND received_at < $1", now - keep)
