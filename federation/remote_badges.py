"""Checking the badges other servers' actors claim, as queued work of the worker.

Owns: the check of one claimed badge (the issuing node is on our trust list, the issuing organisation's actor is an
`Organization` whose key signed the badge for this actor, it is valid today, and the issuer's verification page
does not say otherwise) and the worker step that takes due checks from `remote_badge_checks` (server/badges.py),
retries an issuer that does not answer on db/queue.py's schedule, and stores the verdict with its reason. The
actor carrying the badge is fetched and stored before, by federation/actors.py, which queues the claim as
unchecked. Never: runs inside an inbox request; decides whom to trust (server/trust.py) or what a proof is
(federation/badge_proofs.py).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from federation import actors, badge_proofs, signatures, transport, vocab
from federation.context import Federation
from federation.transport import ResolveError
from server import accounts, badges, trust
from server.accounts import Account
from server.badges import RemoteBadgeCheck
from server.db import queue
from server.db.pool import connection, transaction

log = logging.getLogger("ambtenaar.federation")


class IssuerUnavailable(Exception):
    """The issuing organisation's actor could not be fetched now; the check is tried again later."""


async def _verification_page_agrees(fed: Federation, badge: Mapping[str, Any]) -> tuple[bool, str | None]:
    """The issuing node's verification page has the last word: a badge revoked since it was signed is not valid.

    Only a page on the issuer's own host counts; when it cannot be fetched the signed badge stands.
    """
    page = vocab.badge_verification_page(badge)
    issuer = badge_proofs.issuer_of(badge)
    if page is None or issuer is None or vocab.host_of(page) != vocab.host_of(issuer):
        return True, None
    status = vocab.badge_page_status(await transport.get_small_json(fed, page))
    if status in badges.STATUSES and status != badges.VALID:
        return False, f"the issuing node's verification page says the badge is {status.replace('_', ' ')}"
    return True, None


async def verdict(fed: Federation, account: Account, badge: Mapping[str, Any]) -> tuple[bool, str]:
    """(verified, why not). Raises IssuerUnavailable when the organisation could not be fetched."""
    issuer = badge_proofs.issuer_of(badge)
    if issuer is None:
        return False, "the badge names no issuing organisation"
    async with connection(fed.deps.pool) as conn:
        trusted = await trust.is_trusted(conn, vocab.host_of(issuer))
    if not trusted:
        return False, f"{vocab.host_of(issuer)} is not a trusted issuer on this node"
    try:
        organisation = await actors.fetch_actor(fed, issuer)
    except ResolveError as exc:
        raise IssuerUnavailable(f"the issuing organisation could not be checked: {exc}") from exc
    try:
        key = signatures.load_public_key(organisation.public_key_pem or "")
    except signatures.SignatureError as exc:
        return False, f"the issuing organisation could not be checked: {exc}"
    if organisation.actor_type != "Organization":
        return False, "the issuer is not an organisation"
    result = badge_proofs.check(badge, subject=str(account.actor_uri), issuer_key=key,
                                issuer_key_id=organisation.key_id, today=fed.deps.now().date())
    if not result.verified:
        return False, result.reason
    verified, reason = await _verification_page_agrees(fed, badge)
    return verified, reason or ""


async def run_check(fed: Federation, check: RemoteBadgeCheck) -> None:
    """One claimed badge checked and its verdict stored; an issuer that does not answer is retried later."""
    async with connection(fed.deps.pool) as conn:
        account = await accounts.get_account(conn, check.account_id)
    if account is None or account.is_local or account.is_suspended:
        async with connection(fed.deps.pool) as conn:
            await badges.drop_remote_check(conn, check.account_id)
        return
    try:
        verified, reason = await verdict(fed, account, check.badge)
    except IssuerUnavailable as exc:
        await retry_later(fed, check, exc, str(exc))
        return
    async with transaction(fed.deps.pool) as conn:
        await badges.finish_remote_check(conn, check, verified, reason or None)


async def retry_later(fed: Federation, check: RemoteBadgeCheck, exc: Exception, reason: str) -> None:
    """Try the check again on db/queue.py's schedule; when that gives up, the claim stays unverified with
    `reason`, so no badge shows as being checked for ever."""
    async with transaction(fed.deps.pool) as conn:
        if not await badges.retry_remote_check(conn, check, queue.error_text(exc), fed.deps.now()):
            await badges.finish_remote_check(conn, check, False, reason)


async def process_checks(fed: Federation, limit: int = 10, *, worker: int | None = None) -> int:
    """The worker's step: due badge checks, leased to `worker`, each on its own (one failing is retried, the
    others go on)."""
    async with transaction(fed.deps.pool) as conn:
        due = await badges.claim_remote_checks(conn, fed.deps.now(), limit, worker=worker)
    for check in due:
        try:
            await run_check(fed, check)
        except Exception as exc:  # one bad claim must not stop the queue; CancelledError passes
            log.warning("badge check failed", extra={"account_id": check.account_id, "error": repr(exc)})
            await retry_later(fed, check, exc, f"the badge could not be checked ({type(exc).__name__})")
    return len(due)


async def check_now(fed: Federation, account: Account) -> Account:
    """For a person waiting on a lookup (search, a profile by handle): the account's queued check, done now, so
    the answer shows the verdict. Should a worker hold the same check, both agree and the second finds nothing
    left to finish."""
    async with connection(fed.deps.pool) as conn:
        check = await badges.get_remote_check(conn, account.id)
    if check is None:
        return account
    await run_check(fed, check)
    async with connection(fed.deps.pool) as conn:
        return await accounts.get_account(conn, account.id) or account
