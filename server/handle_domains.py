"""Handles on an organisation's own domain: `@anna@ede.nl` for the members of Gemeente Ede hosted on this node.

Owns: the handle_domains table (one handle domain per organisation; states pending → active ⇄ failing) and
remote_handle_domains (remote accounts whose handle domain is not their actor's host); validating a domain; who may
set it (`Account.administers`: an instance admin or the organisation's own admin; `actor_id` None is the operator
at the command line); refusing a change once an account of the organisation has federated under the domain;
recording a self-test's outcome (only a passing test activates); which domain a local account's handle uses.
Never: fetches anything (federation/handle_domain_check.py runs the self-test), or builds WebFinger or actor JSON.

"Federated under the domain" (the lock, as Mastodon's LOCAL_DOMAIN and GoToSocial's account-domain are fixed once
used): since activation, a remote account follows an account of the organisation, or the organisation published an
official post. From then on other servers hold `user@domain` for our actors, and a change would orphan those
handles. It is recorded in `federated_at` the first time it is seen, so a later unfollow does not unlock it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from server import accounts, audit, events, follows, posts, read_cache
from server.errors import Conflict, Forbidden, Invalid
from server.organisations import Organisation

STATES = ("pending", "active", "failing")
LIVE = ("active", "failing")  # the handle is answered in its domain form (failing: their redirect broke lately)
# Allowed state changes by one self-test's outcome: (state, passed) → new state. Only a pass activates.
TRANSITIONS: dict[tuple[str, bool], str] = {
    ("pending", True): "active", ("pending", False): "pending",
    ("active", True): "active", ("active", False): "failing",
    ("failing", True): "active", ("failing", False): "failing",
}
RECHECK_EVERY = timedelta(days=1)
_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
_DOMAIN = re.compile(rf"^{_LABEL}(\.{_LABEL})+$")
_COLUMNS = "organisation_id, domain, state, set_at, activated_at, checked_at, check_lines, federated_at"

# Why a handle domain is fixed once used (Dutch in the catalogue; a constant, as it is longer than two lines).
LOCKED = ("The handle domain %(domain)s can no longer be changed: accounts of this organisation have federated as "
          "user@%(domain)s, and other servers keep those handles. Mastodon and GoToSocial fix the handle domain "
          "for the same reason.")


@dataclass(frozen=True)
class HandleDomain:
    organisation_id: int
    domain: str
    state: str
    set_at: datetime
    activated_at: datetime | None
    checked_at: datetime | None
    check_lines: list[str]
    federated_at: datetime | None

    @property
    def live(self) -> bool:
        return self.state in LIVE


def _row(row: asyncpg.Record) -> HandleDomain:
    return HandleDomain(**{**dict(row), "check_lines": list(row["check_lines"])})


def normalise_domain(value: str, node_domain: str) -> str:
    """The handle domain as stored (lower case, IDNA for non-ASCII names), or Invalid saying what is wrong."""
    text = value.strip().rstrip(".").lower()
    if text.startswith(("http://", "https://")) or "/" in text or "@" in text:
        raise Invalid("A handle domain is a bare domain name such as ede.nl: no https://, no path, no @.")
    if ":" in text:
        raise Invalid("A handle domain has no port: other servers always ask https://%(domain)s on port 443.",
                      domain=text.split(":")[0][:80])
    try:
        text = text.encode("idna").decode("ascii")
    except UnicodeError:
        raise Invalid("%(domain)s is not a valid domain name.", domain=value.strip()[:80]) from None
    if len(text) > 253 or not _DOMAIN.match(text) or text.replace(".", "").isdigit():
        raise Invalid("%(domain)s is not a valid domain name.", domain=value.strip()[:80])
    if text == node_domain.split(":")[0].lower():
        raise Invalid("%(domain)s is this node's own domain: handles use it already without a handle domain.",
                      domain=text)
    return text


async def get_handle_domain(conn: asyncpg.Connection, organisation_id: int) -> HandleDomain | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM handle_domains WHERE organisation_id = $1", organisation_id)
    return _row(row) if row else None


async def get_by_domain(conn: asyncpg.Connection, domain: str) -> HandleDomain | None:
    """The handle domain `domain` in any state: WebFinger answers its form even while pending, since only the
    domain's own redirect can bring anyone here with it (that is what the self-test proves)."""
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM handle_domains WHERE domain = $1", domain.lower())
    return _row(row) if row else None


async def get_live_by_domain(conn: asyncpg.Connection, domain: str) -> HandleDomain | None:
    """The active (or failing) handle domain `domain`, or None (a pending domain answers nothing yet)."""
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM handle_domains WHERE domain = $1 AND state <> 'pending'",
                              domain.lower())
    return _row(row) if row else None


async def list_live_domains(conn: asyncpg.Connection, organisation_ids: list[int]) -> dict[int, str]:
    """The live handle domain of each of these organisations that has one."""
    rows = await conn.fetch("SELECT organisation_id, domain FROM handle_domains WHERE organisation_id = ANY($1) "
                            "AND state <> 'pending'", organisation_ids)
    return {r["organisation_id"]: r["domain"] for r in rows}


async def handle_domain_of(conn: asyncpg.Connection, account: accounts.Account) -> str | None:
    """The domain of a local account's handle when its organisation's handle domain is live, else None (the
    node's own domain)."""
    if not account.is_local or account.organisation_id is None:
        return None
    return (await list_live_domains(conn, [account.organisation_id])).get(account.organisation_id)


async def get_local_by_handle(conn: asyncpg.Connection, username: str, domain: str) -> accounts.Account | None:
    """The local account `username@domain` when `domain` is the live handle domain of its organisation (a
    mention or search of @anna@ede.nl needs no network round trip), else None."""
    live = await get_live_by_domain(conn, domain)
    if live is None:
        return None
    account = await accounts.get_account_by_username(conn, username)
    return account if account is not None and account.organisation_id == live.organisation_id else None


async def _require_admin(conn: asyncpg.Connection, actor_id: int | None, organisation_id: int) -> None:
    if actor_id is None:
        return
    actor = await accounts.get_account(conn, actor_id)
    if actor is None or not actor.administers(organisation_id):
        raise Forbidden("Only the organisation's admins and instance admins may change its handle domain.")


async def has_federated(conn: asyncpg.Connection, current: HandleDomain, now: datetime) -> bool:
    """Whether an account of the organisation has federated under its live domain (see the module docstring);
    recorded in `federated_at` the first time it is seen."""
    if current.federated_at is not None:
        return True
    if not current.live or current.activated_at is None:
        return False
    since = current.activated_at
    used = (await posts.count_official_since(conn, current.organisation_id, since) > 0
            or await follows.exists_remote_follower_of_organisation(conn, current.organisation_id, since))
    if used:
        await conn.execute("UPDATE handle_domains SET federated_at = $2 WHERE organisation_id = $1 "
                           "AND federated_at IS NULL", current.organisation_id, now)
    return used


async def get_with_federation(conn: asyncpg.Connection, organisation_id: int, now: datetime) -> HandleDomain | None:
    """The organisation's handle domain with `federated_at` brought up to date (recorded in the caller's
    transaction: the page and every check commit it, so the lock outlives a later unfollow)."""
    current = await get_handle_domain(conn, organisation_id)
    if current is None or current.federated_at is not None or not await has_federated(conn, current, now):
        return current
    return await get_handle_domain(conn, organisation_id)


async def set_handle_domain(conn: asyncpg.Connection, organisation: Organisation, domain: str, *,
                            node_domain: str, actor_id: int | None, now: datetime) -> HandleDomain:
    """Set (or change) the organisation's handle domain as pending, audited; refused once it has federated."""
    await _require_admin(conn, actor_id, organisation.id)
    wanted = normalise_domain(domain, node_domain)
    current = await get_handle_domain(conn, organisation.id)
    if current is not None and current.domain == wanted:
        return current
    if current is not None and await has_federated(conn, current, now):
        raise Conflict(LOCKED, domain=current.domain)
    other = await conn.fetchval("SELECT organisation_id FROM handle_domains WHERE domain = $1", wanted)
    if other is not None and other != organisation.id:
        raise Conflict("%(domain)s is already the handle domain of another organisation here.", domain=wanted)
    row = await conn.fetchrow(
        f"""INSERT INTO handle_domains (organisation_id, domain, state, set_at) VALUES ($1, $2, 'pending', $3)
            ON CONFLICT (organisation_id) DO UPDATE SET domain = EXCLUDED.domain, state = 'pending',
              set_at = EXCLUDED.set_at, activated_at = NULL, checked_at = NULL, check_lines = '{{}}',
              federated_at = NULL
            RETURNING {_COLUMNS}""", organisation.id, wanted, now)
    await audit.record(conn, actor_id=actor_id, action="organisation.handle_domain", subject_type="organisation",
                       subject_id=organisation.id,
                       detail={"domain": wanted, "previous": current.domain if current else None}, now=now)
    await _forget_rendered(conn, organisation.id)
    return _row(row)


async def _forget_rendered(conn: asyncpg.Connection, organisation_id: int) -> None:
    """WebFinger answers and actors of the organisation's people name the handle domain: render them anew."""
    org_account = await accounts.get_organisation_account(conn, organisation_id)
    members = await accounts.list_organisation_members(conn, organisation_id)
    await read_cache.announce_accounts(conn, [a.id for a in [*([org_account] if org_account else []), *members]])


async def record_check(conn: asyncpg.Connection, organisation_id: int, domain: str, *, passed: bool,
                       lines: list[str], actor_id: int | None, now: datetime) -> HandleDomain:
    """A self-test's outcome for `domain` (ignored as stale when the domain was changed meanwhile): the state by
    TRANSITIONS, the lines kept for the page; a change of state is audited."""
    await _require_admin(conn, actor_id, organisation_id)
    current = await get_handle_domain(conn, organisation_id)
    if current is None or current.domain != domain:
        raise Conflict("The handle domain changed while it was being checked; run the check again.")
    state = TRANSITIONS[(current.state, passed)]
    row = await conn.fetchrow(
        f"""UPDATE handle_domains SET state = $2, checked_at = $3, check_lines = $4,
              activated_at = CASE WHEN $2 = 'active' AND state = 'pending' THEN $3 ELSE activated_at END
            WHERE organisation_id = $1 RETURNING {_COLUMNS}""", organisation_id, state, now, [s[:500] for s in lines])
    await has_federated(conn, _row(row), now)
    if state == "active" and current.state == "pending":
        # Followers' servers learn the handle (the actor's `webfinger` property) from an Update of each actor.
        org_account = await accounts.get_organisation_account(conn, organisation_id)
        members = await accounts.list_organisation_members(conn, organisation_id)
        for account in [*([org_account] if org_account else []), *members]:
            await events.record_event(conn, "account.updated", account.id, account.id, now,
                                      {"change": "handle_domain"})
    if state != current.state:
        await _forget_rendered(conn, organisation_id)
        await audit.record(conn, actor_id=actor_id, action=f"organisation.handle_domain_{state}",
                           subject_type="organisation", subject_id=organisation_id,
                           detail={"domain": domain, "failed": [s for s in lines if not s.startswith("ok")][:10]},
                           now=now)
    return await get_handle_domain(conn, organisation_id) or _row(row)


async def list_due_rechecks(conn: asyncpg.Connection, now: datetime, limit: int = 5) -> list[HandleDomain]:
    """Live handle domains whose last check is more than a day old (the worker re-checks them)."""
    rows = await conn.fetch(f"SELECT {_COLUMNS} FROM handle_domains WHERE state <> 'pending' "
                            f"AND (checked_at IS NULL OR checked_at < $1) ORDER BY checked_at NULLS FIRST LIMIT $2",
                            now - RECHECK_EVERY, limit)
    return [_row(r) for r in rows]


async def readiness(conn: asyncpg.Connection) -> dict[str, object] | None:
    """For /readyz details: how many handle domains are in each state, and which are failing (None when there are
    none). A failing domain is the organisation's web server's doing, not this node's, so it never makes the node
    unready."""
    rows = await conn.fetch("SELECT state, domain FROM handle_domains ORDER BY domain")
    if not rows:
        return None
    counts = {state: 0 for state in STATES}
    for row in rows:
        counts[row["state"]] += 1
    return {**counts, "failing_domains": [r["domain"] for r in rows if r["state"] == "failing"][:20]}


async def remember_remote_handle(conn: asyncpg.Connection, account_id: int, username: str, handle_domain: str,
                                 now: datetime) -> None:
    """A remote account's confirmed handle on another domain than its actor's (split-domain servers)."""
    await conn.execute(
        """INSERT INTO remote_handle_domains (account_id, username, handle_domain, confirmed_at)
           VALUES ($1, $2, $3, $4)
           ON CONFLICT (account_id) DO UPDATE SET username = EXCLUDED.username,
             handle_domain = EXCLUDED.handle_domain, confirmed_at = EXCLUDED.confirmed_at""",
        account_id, username, handle_domain.lower(), now)


async def get_remote_by_handle(conn: asyncpg.Connection, username: str, handle_domain: str
                               ) -> accounts.Account | None:
    """The remote account known by `username@handle_domain`: on its actor's own host, or through a confirmed
    split-domain handle."""
    found = await accounts.get_remote_account(conn, username, handle_domain)
    if found is not None:
        return found
    account_id = await conn.fetchval("SELECT account_id FROM remote_handle_domains WHERE lower(username) = "
                                     "lower($1) AND handle_domain = $2", username, handle_domain.lower())
    return await accounts.get_account(conn, account_id) if account_id is not None else None


async def list_remote_handle_domains(conn: asyncpg.Connection, account_ids: list[int]) -> dict[int, str]:
    """The confirmed handle domain of each of these remote accounts that has one elsewhere than its actor."""
    rows = await conn.fetch("SELECT account_id, handle_domain FROM remote_handle_domains WHERE account_id = ANY($1)",
                            account_ids)
    return {r["account_id"]: r["handle_domain"] for r in rows}
