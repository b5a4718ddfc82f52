"""Receiving activities: every check in a fixed order, then one stored row, then 202.

Owns: the inbox pipeline (size 413 -> content type 415 -> JSON 400 -> domain policy on the keyId's host (a blocked
domain is answered 202 and dropped, before its key is fetched) -> signature 401 (key refreshed once; a deleted
actor's is refused) -> parse 400 -> signer owns the actor 401 -> domain policy on the actor's host -> rate limits
per domain and actor 429 (moderation/ratelimit.py) -> stored unless a duplicate -> NOTIFY -> 202) and the
inbox_items table. A request whose signature cannot be verified is answered 401, never 202: senders that try
RFC 9421 first (Fedify) fall back to draft-cavage only on an error. Never: side effects of an activity inline;
federation/inbound/ handlers run after the commit, in the worker.

Issue 18: an activity costs no database round trip of its own in the usual case. The key, the gate's decisions
and the rate limit counts come from the process's memory (federation/inbox_state.py), and the activity is stored
by one statement shared with the others that arrive meanwhile (federation/inbox_batch.py), which also checks that
what memory decided with still holds (`insert_items`): a request is answered 202 only once its row is committed,
and 503 when the write failed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import asyncpg
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from federation import actors, inbox_state, signatures, transport, vocab
from federation.context import Federation
from federation.inbox_state import InboxState
from federation.key_cache import CachedKey, KeyCache, Stamp, pem_md5, stamp_of
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
    """The remote account whose key signed this request (a POST with its body, or a GET with None), read from the
    database (authorized fetch: no statement after it would notice a stale key in memory); its key is refetched
    once if it does not verify (unless this request fetched it). At most one outgoing GET when the key is not
    cached: the actor's document (federation/actors.py); a badge it claims is checked later, in the worker."""
    headers = {k.lower(): v for k, v in request.headers.items()}
    return (await _verify(fed, request.method, public_url(fed, request), headers, _key_id_of(headers), body,
                          None)).signer


def _key_id_of(headers: dict[str, str]) -> str:
    try:
        key_id = signatures.signature_key_id(headers)
    except signatures.SignatureError as exc:
        raise InboxRefusal(401, str(exc)) from None
    if not key_id:
        raise InboxRefusal(401, "the request is not signed (no Signature or Signature-Input header)")
    return key_id


_HARD_FAILURES = (signatures.SignatureExpired, signatures.DigestMismatch, signatures.HeaderNotSigned,
                  signatures.SignatureMissing, signatures.WrongHost)


async def _verify(fed: Federation, method: str, url: str, headers: dict[str, str], key_id: str, body: bytes | None,
                  cache: KeyCache | None) -> CachedKey:
    """Verify with the key in `cache` (when given), else the one in the database, else fetched: the next source is
    tried only when the key at hand does not verify (or its actor was deleted), and it is fetched at most once."""
    if key_host(key_id) is None:
        raise _key_not_fetched(key_id, "the keyId is not an http(s) URL")
    now = fed.deps.now()
    failed: set[str] = set()  # the keys (their PEM's md5) that did not verify this request
    entry = cache.get(key_id) if cache is not None else None
    refreshed = False
    while True:
        from_memory = entry is not None
        if entry is None:
            try:
                signer = await actors.actor_for_key(fed, key_id, refresh=refreshed)
            except transport.ResolveError as exc:
                raise _key_not_fetched(key_id, str(exc)) from None
            if not signer.public_key_pem:
                raise InboxRefusal(401, f"the actor of key {key_id} publishes no public key")
            fetched_now = refreshed or (signer.fetched_at is not None and signer.fetched_at >= now)
            if signer.gone_at is not None or pem_md5(signer.public_key_pem) in failed:
                # Deleted (a Delete of the actor was received), or the same key again: only a fetch can help.
                if fetched_now:
                    raise InboxRefusal(401, f"the actor of key {key_id} was deleted" if signer.gone_at is not None
                                       else "the signature does not verify with the actor's key")
                refreshed = True
                continue
            try:
                public_key = signatures.load_public_key(signer.public_key_pem)
            except signatures.SignatureError as exc:
                if fetched_now:
                    raise InboxRefusal(401, str(exc)) from None
                failed.add(pem_md5(signer.public_key_pem))
                refreshed = True
                continue
            entry = cache.put(key_id, signer, public_key) if cache is not None \
                else CachedKey(signer, public_key, stamp_of(signer, key_id), 0.0)
        else:
            fetched_now = False
        try:
            signatures.verify_request(method, url, headers, body, entry.public_key, now, CLOCK_SKEW)
            return entry
        except _HARD_FAILURES as exc:
            raise InboxRefusal(401, str(exc)) from None
        except signatures.SignatureError as exc:
            # A key fetched for this very request is as fresh as it gets: fetching it again would be a second
            # outgoing request that cannot help (an inbox POST costs at most one).
            if cache is not None:
                cache.forget(key_id)
            if fetched_now:
                raise InboxRefusal(401, str(exc)) from None
            failed.add(entry.stamp.pem_md5)  # the actor may have rotated its key: read it, fetch it once
            refreshed = refreshed or not from_memory
            entry = None


@dataclass(frozen=True)
class Pending:
    """An activity ready to store, with what it was accepted on: its signer's key and the gate's policy version."""

    activity: vocab.Activity
    json_text: str
    stamp: Stamp
    policy_version: int
    received_at: datetime


STORED, DUPLICATE, STALE = "stored", "duplicate", "stale"


async def insert_items(conn: asyncpg.Connection, rows: Sequence[Pending]) -> list[str]:
    """Store a batch in one statement (autocommit: committed when it returns), and wake a worker if any is new.

    Per row: STORED, DUPLICATE (its id was seen before: nothing stored) or STALE (nothing stored: its signer's row
    no longer holds the key, or the signer was suspended or deleted since, or the domain policies changed since the
    gate decided; the caller decides again from the database). So what the inbox keeps in memory (the key cache,
    the gate's decisions) never lets an activity in that the database would refuse at the moment it is stored.
    """
    result = await conn.fetchrow(
        f"""WITH input AS (
              SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::bigint[], $6::text[],
                                   $7::text[], $8::timestamptz[], $9::boolean[], $10::bigint[]) WITH ORDINALITY
                       AS t(activity_uri, actor_uri, activity, received_at, account_id, key_id, pem_md5,
                            suspended_at, by_origin, policy_version, n)),
            fresh AS (
              SELECT i.* FROM input i
              WHERE i.policy_version = (SELECT version FROM federation_policy_version)
                AND EXISTS (SELECT 1 FROM accounts a
                            WHERE a.id = i.account_id AND a.key_id = i.key_id AND md5(a.public_key_pem) = i.pem_md5
                              AND a.gone_at IS NULL AND a.suspended_at IS NOT DISTINCT FROM i.suspended_at
                              AND a.suspended_by_origin = i.by_origin)),
            stored AS (
              INSERT INTO inbox_items (activity_uri, actor_uri, activity, received_at, next_attempt_at)
              SELECT activity_uri, actor_uri, activity::jsonb, received_at, received_at FROM fresh ORDER BY n
              ON CONFLICT (activity_uri) DO NOTHING RETURNING activity_uri)
            SELECT array(SELECT n FROM fresh) AS fresh, array(SELECT activity_uri FROM stored) AS stored,
                   (SELECT count(pg_notify('{NOTIFY_CHANNEL}', '')) FROM (SELECT FROM stored LIMIT 1) s) AS woken""",
        [r.activity.id for r in rows], [r.activity.actor for r in rows], [r.json_text for r in rows],
        [r.received_at for r in rows], [r.stamp.account_id for r in rows], [r.stamp.key_id for r in rows],
        [r.stamp.pem_md5 for r in rows], [r.stamp.suspended_at for r in rows],
        [r.stamp.suspended_by_origin for r in rows], [r.policy_version for r in rows])
    fresh, stored = set(result["fresh"]), set(result["stored"])
    answers = []
    for n, row in enumerate(rows, start=1):
        if n not in fresh:
            answers.append(STALE)
        elif row.activity.id in stored:
            stored.discard(row.activity.id)  # the same id twice in one batch: the first is stored
            answers.append(STORED)
        else:
            answers.append(DUPLICATE)
    return answers


def _writer(fed: Federation) -> Callable[[list[Pending]], Awaitable[list[str]]]:
    async def write(rows: list[Pending]) -> list[str]:
        async with connection(fed.deps.pool) as conn:
            return await insert_items(conn, rows)
    return write


async def _is_gone_actor_deleting_itself(fed: Federation, doc: Any) -> bool:
    """Mastodon sends Delete{Person} for accounts whose key is already gone; for actors we never knew, or whose
    Delete we already have (their signatures are refused from then on), drop it."""
    if not isinstance(doc, dict) or doc.get("type") != "Delete" or doc.get("actor") != doc.get("object"):
        return False
    async with connection(fed.deps.pool) as conn:
        account = await accounts.get_account_by_actor_uri(conn, str(doc.get("actor")))
    return account is None or (not account.is_local and account.gone_at is not None)


async def _gate(fed: Federation, state: InboxState, hosts: list[str], *, fresh: bool) -> tuple[int, str | None]:
    """The moderation gate, from memory: (the policy version, the first host that is dropped, or None). A
    suspended domain (or, in allowlist mode, one not listed) is answered 202 and dropped, as Takahē and GoToSocial
    do, so that a block cannot be probed."""
    version, verdicts = await state.gate.decide(lambda: connection(fed.deps.pool), hosts, fresh=fresh)
    for host in hosts:
        verdict = verdicts[host.lower()]
        if not verdict.allowed:
            log.info("inbox dropped", extra={"host": host, "reason": verdict.reason})
            return version, host
    return version, None


def heard_from(signer: Account, activity: vocab.Activity) -> bool:
    """A suspended account's activities are dropped, except, when its own server suspended it, the Update of its
    actor that may say the suspension is over."""
    if not signer.is_suspended:
        return True
    return signer.suspended_by_origin and activity.type == "Update" and activity.object_id == signer.actor_uri


def _json_text(body: bytes, doc: dict[str, Any]) -> str:
    """The activity as stored: the body as it came (it parsed as this JSON), or re-encoded if it was not UTF-8."""
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return json.dumps(doc)


async def _accept(fed: Federation, state: InboxState, request: Request, body: bytes, doc: Any, *,
                  fresh: bool) -> Pending | Response | None:
    """Every check up to storing, with what the process keeps in memory (or, `fresh`, read again): the activity to
    store, the answer when it is not stored (202 for a drop), or None: decide again from the database."""
    headers = {k.lower(): v for k, v in request.headers.items()}
    key_id = _key_id_of(headers)
    host = key_host(key_id)
    if host is None:
        raise _key_not_fetched(key_id, "the keyId is not an http(s) URL")
    # The gate before verifying, on the keyId's host, so a blocked server cannot make us fetch its key.
    version, dropped = await _gate(fed, state, [host], fresh=fresh)
    if dropped:
        return Response(status_code=202)
    if fresh:
        state.keys.forget(key_id)
    try:
        entry = await _verify(fed, request.method, public_url(fed, request), headers, key_id, body, state.keys)
    except InboxRefusal:
        # The host's "allow" came from memory: had it been blocked since, its key was not fetched (the fetch asks
        # the gate itself) and the answer must be the drop's 202, not a 401 that gives the block away.
        if not fresh and (await _gate(fed, state, [host], fresh=True))[1]:
            return Response(status_code=202)
        raise
    signer = entry.signer
    try:
        activity = vocab.parse_activity(doc)
    except vocab.InvalidActivity as exc:
        raise InboxRefusal(400, f"invalid activity: {exc}") from None
    if activity.actor != signer.actor_uri:
        raise InboxRefusal(401, "the signing key does not belong to the activity's actor")
    actor_host = vocab.host_of(activity.actor)
    if actor_host != vocab.host_of(activity.id):
        raise InboxRefusal(400, "the activity id is not on the actor's host")
    if not heard_from(signer, activity):
        if not fresh:
            return None  # a suspension known from memory: no statement would notice that it was lifted
        return Response(status_code=202)  # dropped, as Mastodon does, with 202 so it is no probe
    if actor_host != host:  # the usual key is on the actor's host, just checked
        version, dropped = await _gate(fed, state, [host, actor_host], fresh=False)
        if dropped:
            return Response(status_code=202)
    return Pending(activity, _json_text(body, doc), entry.stamp, version, fed.deps.now())


async def receive(request: Request) -> Response:
    fed: Federation = request.app.state.federation
    state = inbox_state.of(fed, _writer)
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
        if await _is_gone_actor_deleting_itself(fed, doc):
            return Response(status_code=202)
        counted = False
        for attempt in range(3):
            accepted = await _accept(fed, state, request, body, doc, fresh=attempt > 0)
            if accepted is None:
                continue
            if isinstance(accepted, Response):
                return accepted
            if not counted:  # one hit per request, refused or not, even when it is decided again below
                counted = True
                throttled = state.limits.check(actor_uri=accepted.activity.actor, now=fed.deps.now())
                state.flush_limits_soon()
                if throttled is not None:
                    raise InboxRefusal(429, throttled.reason, {"Retry-After": str(throttled.retry_after)})
            try:
                outcome = await state.batcher.submit(accepted)
            except Exception:
                # Never 202 unless the row is committed: the sender keeps the activity and retries.
                log.exception("inbox not stored", extra={"activity": accepted.activity.id})
                return JSONResponse({"error": "the activity could not be stored now; try again later"},
                                    status_code=503, headers={"Retry-After": "10"})
            if outcome != STALE:
                return Response(status_code=202)
            # Something the memory decided with changed in the database: decide again from the database.
        log.warning("inbox gave up deciding", extra={"path": request.url.path})
        return JSONResponse({"error": "the sender's key or this server's policies keep changing; try again later"},
                            status_code=503, headers={"Retry-After": "10"})
    except InboxRefusal as refusal:
        log.info("inbox refused", extra={"status": refusal.status, "reason": refusal.reason,
                                         "path": request.url.path})
        return JSONResponse({"error": refusal.reason}, status_code=refusal.status, headers=refusal.headers)


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
