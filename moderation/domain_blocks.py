"""Domain policies and the federation mode: which servers this node federates with, and on what terms.

Owns: the domain_policies, domain_allows and federation_mode tables and their SQL, and federation_policy_version
(migration 0063: moved on by a trigger at every change of those three, so a decision kept in memory can be checked
for being current); matching a host against them
(a policy on example.com covers sub.example.com and every port of it; the most specific policy wins); the gate
decision for what comes in and goes out (allow | drop); applying and lifting a policy's effects on the accounts of
a domain (limits, purge of cached content, media), by a moderator (or the operator at the command line), audited
in the same transaction, for the moderators' page and `ambtenaar domain` alike (Mastodon's CSV format for import
and export is domain_lists.py's). Never: sends or fetches anything (federation/ asks the gate and acts on its answer), and
never decides for one account alone (moderators' account actions do).

Severity, as on Mastodon: `suspend` (nothing in or out, cached content removed, accounts suspended), `silence`
(accounts limited: their posts reach only their followers and the people they mention), `noop` (no limit; used
with reject_media, which we call "reject-media": no images or avatars of the domain are kept or shown, or with
reject_reports: their reports are ignored).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from moderation.purge import PurgeResult, purge_remote_accounts
from moderation.reports import is_moderator
from server import accounts, audit, media, profiles
from server.accounts import Account
from server.errors import Forbidden, Invalid, NotFound

SEVERITIES = ("suspend", "silence", "noop")
# The names people use (the CLI): reject-media is Mastodon's severity noop with reject_media set.
SEVERITY_CHOICES = ("suspend", "silence", "reject-media")
MODES = ("blocklist", "allowlist")
ALLOW = "allow"
DROP = "drop"
MAX_COMMENT = 2000
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_DOMAIN = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*(?::[0-9]{{1,5}})?$")
_IPV4 = re.compile(r"^[0-9]{1,3}(?:\.[0-9]{1,3}){3}$")
_POLICY_COLUMNS = ("domain, severity, reject_media, reject_reports, obfuscate, private_comment, public_comment, "
                   "created_at, created_by, updated_at, limited_at")


# --- Domains: normalising and matching (pure) ----------------------------------------------------------------

def normalise_domain(raw: str) -> str:
    """A host name as we store it: lower case, punycode, an optional port; a URL is reduced to its host."""
    value = raw.strip().lower()
    for prefix in ("https://", "http://"):
        value = value.removeprefix(prefix)
    value = value.split("/", 1)[0].rstrip(".")
    host, sep, port = value.rpartition(":") if re.search(r":[0-9]*$", value) else (value, "", "")
    if any(ord(ch) > 127 for ch in host):
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise Invalid("%(domain)s is not a domain name.", domain=raw.strip()[:300]) from None
    value = host + sep + port
    if not _DOMAIN.match(value) or len(host) > 253 or (sep and not 0 < int(port or "0") < 65536):
        raise Invalid("%(domain)s is not a domain name.", domain=raw.strip()[:300])
    return value


def _split_port(host: str) -> tuple[str, str]:
    if host.startswith("["):  # an IPv6 literal, [::1]:8000
        name, _, rest = host.partition("]")
        return name + "]", rest.removeprefix(":")
    name, sep, port = host.rpartition(":")
    return (name, port) if sep and port.isdigit() else (host, "")


def candidates(host: str) -> list[str]:
    """Every policy domain that could cover `host`, most specific first: sub.example.com:8443 is covered by a
    policy on sub.example.com:8443, sub.example.com, example.com or com. An IP address covers only itself."""
    value = host.strip().lower().rstrip(".")
    name, port = _split_port(value)
    found = [value] if port else []
    if name.startswith("[") or _IPV4.match(name):
        return [*found, name]
    labels = name.split(".")
    return found + [".".join(labels[i:]) for i in range(len(labels)) if labels[i]]


def covers(policy_domain: str, host: str) -> bool:
    return policy_domain in candidates(host)


def is_own(host: str, own_domain: str) -> bool:
    """Our own node (with or without its port) is never blocked and always allowed."""
    value = host.strip().lower()
    return value == own_domain.lower() or value == _split_port(own_domain.lower())[0]


def obfuscated(domain: str) -> str:
    """For the public list: the middle of the name hidden (dots kept), the way Mastodon shows obfuscated blocks."""
    keep = len(domain) // 4
    return "".join(ch if i < keep or i >= len(domain) - keep or ch == "." else "*" for i, ch in enumerate(domain))


def digest(domain: str) -> str:
    """SHA-256 of the domain, so that others can check an obfuscated entry against a domain they know."""
    return hashlib.sha256(domain.encode()).hexdigest()


# --- Policies -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Policy:
    domain: str
    severity: str
    reject_media: bool
    reject_reports: bool
    obfuscate: bool
    private_comment: str
    public_comment: str
    created_at: datetime
    created_by: int | None
    updated_at: datetime
    limited_at: datetime

    @property
    def label(self) -> str:
        """The name people use: suspend, silence, reject-media, or noop (reports only)."""
        if self.severity == "noop" and self.reject_media:
            return "reject-media"
        return self.severity

    def effects(self) -> tuple[str, bool]:
        """What it does to accounts and their media: (severity, reject_media)."""
        return self.severity, self.reject_media or self.severity == "suspend"


@dataclass(frozen=True)
class Terms:
    """What a moderator asks for: the policy's fields other than who and when."""

    severity: str
    reject_media: bool = False
    reject_reports: bool = False
    obfuscate: bool = False
    private_comment: str = ""
    public_comment: str = ""


def terms_for(severity: str, *, reject_media: bool = False, reject_reports: bool = False, obfuscate: bool = False,
              private_comment: str = "", public_comment: str = "") -> Terms:
    """Validate a request; `severity` in people's words (suspend, silence, reject-media) or Mastodon's (noop)."""
    value = severity.strip().lower()
    if value == "reject-media":
        value, reject_media = "noop", True
    if value not in SEVERITIES:
        raise Invalid("The severity must be suspend, silence or reject-media.")
    if len(private_comment) > MAX_COMMENT or len(public_comment) > MAX_COMMENT:
        raise Invalid("A comment may be at most %(limit)s characters.", limit=MAX_COMMENT)
    return Terms(value, reject_media, reject_reports, obfuscate, private_comment.strip(), public_comment.strip())


def _policy(row: asyncpg.Record) -> Policy:
    return Policy(**dict(row))


async def get_policy(conn: asyncpg.Connection, domain: str) -> Policy | None:
    row = await conn.fetchrow(f"SELECT {_POLICY_COLUMNS} FROM domain_policies WHERE domain = $1", domain)
    return _policy(row) if row else None


async def list_policies(conn: asyncpg.Connection) -> list[Policy]:
    rows = await conn.fetch(f"SELECT {_POLICY_COLUMNS} FROM domain_policies ORDER BY domain")
    return [_policy(r) for r in rows]


async def list_allowed(conn: asyncpg.Connection) -> list[str]:
    return [r["domain"] for r in await conn.fetch("SELECT domain FROM domain_allows ORDER BY domain")]


async def get_mode(conn: asyncpg.Connection) -> str:
    return str(await conn.fetchval("SELECT coalesce((SELECT mode FROM federation_mode), 'blocklist')"))


async def _policies_for(conn: asyncpg.Connection, hosts: Iterable[str]) -> dict[str, Policy | None]:
    """The policy that applies to each host (the most specific one), in one query."""
    wanted = {h: candidates(h) for h in hosts}
    every = sorted({c for found in wanted.values() for c in found})
    rows = await conn.fetch(f"SELECT {_POLICY_COLUMNS} FROM domain_policies WHERE domain = ANY($1::text[])", every)
    by_domain = {r["domain"]: _policy(r) for r in rows}
    return {h: next((by_domain[c] for c in found if c in by_domain), None) for h, found in wanted.items()}


async def policy_for(conn: asyncpg.Connection, host: str) -> Policy | None:
    """The policy that applies to a host, if any."""
    return (await _policies_for(conn, [host]))[host]


async def rejects_media(conn: asyncpg.Connection, domain: str) -> bool:
    """Whether images and avatars of this domain are neither kept nor shown (reject-media, or suspended)."""
    policy = await policy_for(conn, domain)
    return policy is not None and policy.effects()[1]


async def limit_new_account(conn: asyncpg.Connection, account: accounts.Account) -> accounts.Account:
    """A remote account stored for the first time gets its domain's limit, with the policy's moment (so that
    lifting the policy lifts it too), as Mastodon does for accounts of a silenced or suspended domain."""
    policy = await policy_for(conn, str(account.domain)) if account.domain else None
    if policy is None or policy.severity == "noop":
        return account
    if policy.severity == "suspend" and account.suspended_at is None:
        return await accounts.update_suspended(conn, account.id, policy.limited_at) or account
    if policy.severity == "silence" and account.silenced_at is None:
        return await accounts.update_silenced(conn, account.id, policy.limited_at) or account
    return account


async def rejects_reports(conn: asyncpg.Connection, domain: str) -> bool:
    """Whether reports (Flag activities) from this domain are ignored."""
    policy = await policy_for(conn, domain)
    return policy is not None and (policy.reject_reports or policy.severity == "suspend")


# --- The gate ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Gate:
    """The decision for one host: allow, or drop (with the reason, for logs and the moderators)."""

    host: str
    decision: str
    reason: str
    policy: Policy | None

    @property
    def allowed(self) -> bool:
        return self.decision == ALLOW

    @property
    def rejects_media(self) -> bool:
        """The same answer as `rejects_media()`, from the policy the gate already found."""
        return self.policy is not None and self.policy.effects()[1]


def _decide(host: str, own_domain: str, mode: str, policy: Policy | None, allowed: bool) -> Gate:
    if is_own(host, own_domain):
        return Gate(host, ALLOW, "", None)
    if policy is not None and policy.severity == "suspend":
        return Gate(host, DROP, f"{policy.domain} is suspended", policy)
    if mode == "allowlist" and not allowed:
        return Gate(host, DROP, f"{host} is not on the allowlist", policy)
    return Gate(host, ALLOW, "", policy)


async def gates(conn: asyncpg.Connection, own_domain: str, hosts: Iterable[str]) -> dict[str, Gate]:
    """The decision for each host, in one query whatever their number (a delivery fan-out asks for many)."""
    return (await gates_with_version(conn, own_domain, hosts))[1]


async def gates_with_version(conn: asyncpg.Connection, own_domain: str,
                             hosts: Iterable[str]) -> tuple[int, dict[str, Gate]]:
    """The decisions and the policy version they were read at (migration 0063: every change of the policy tables
    moves it on), so a decision kept in memory can be checked for being current (moderation/gate_cache.py)."""
    wanted = {h.lower(): candidates(h) for h in hosts if h}
    every = sorted({c for found in wanted.values() for c in found})
    # One round trip (the inbox asks this for every activity): the mode and allows on every row, plus one row per
    # matching policy (or a single row of NULLs when none matches).
    rows = await conn.fetch(
        f"""SELECT m.mode, m.version, a.allows, {', '.join(f'p.{c.strip()}' for c in _POLICY_COLUMNS.split(','))}
            FROM (SELECT coalesce((SELECT mode FROM federation_mode), 'blocklist') AS mode,
                         (SELECT version FROM federation_policy_version) AS version) m
            CROSS JOIN (SELECT coalesce(array_agg(domain), '{{}}') AS allows FROM domain_allows
                        WHERE domain = ANY($1::text[])) a
            LEFT JOIN domain_policies p ON p.domain = ANY($1::text[])""", every)
    names = [c.strip() for c in _POLICY_COLUMNS.split(",")]
    by_domain = {r["domain"]: Policy(**{n: r[n] for n in names}) for r in rows if r["domain"] is not None}
    mode, allows = rows[0]["mode"], set(rows[0]["allows"])
    return int(rows[0]["version"]), {
        h: _decide(h, own_domain, mode, next((by_domain[c] for c in found if c in by_domain), None),
                   any(c in allows for c in found)) for h, found in wanted.items()}


async def policy_version(conn: asyncpg.Connection) -> int:
    return int(await conn.fetchval("SELECT version FROM federation_policy_version"))


async def gate(conn: asyncpg.Connection, own_domain: str, host: str) -> Gate:
    """Whether to federate with `host` (a domain, optionally with its port): for what comes in (the inbox drops
    it), what goes out (no delivery), and what we would fetch or look up there (federation/transport.py refuses)."""
    return (await gates(conn, own_domain, [host]))[host.lower()]


async def refused_hosts(conn: asyncpg.Connection, hosts: Iterable[str]) -> set[str]:
    """Which of these remote hosts nothing may be delivered to (our own never appears among delivery targets)."""
    wanted = {h.lower() for h in hosts if h}
    if not wanted:
        return set()
    return {h for h, g in (await gates(conn, "", wanted)).items() if not g.allowed}


# --- Changing policies: effects on accounts, audited -------------------------------------------------------------

@dataclass(frozen=True)
class Change:
    """What a change did, for the CLI's answer and the audit entry."""

    domain: str
    policy: Policy | None
    limited: int
    lifted: int
    purge: PurgeResult | None


async def _apply(conn: asyncpg.Connection, hosts: Sequence[str], policy: Policy, now: datetime, *,
                 keep_archive_copy: bool = True) -> tuple[int, PurgeResult | None]:
    """Put a policy's effects on the accounts of `hosts` (all of which it governs)."""
    severity, reject_media = policy.effects()
    limited = await accounts.update_domain_policy_limits(
        conn, list(hosts), silenced_at=policy.limited_at if severity == "silence" else None,
        suspended_at=policy.limited_at if severity == "suspend" else None)
    ids = await accounts.list_account_ids_by_domains(conn, list(hosts))
    purged = await purge_remote_accounts(conn, ids, now, keep_archive_copy=keep_archive_copy) \
        if severity == "suspend" and ids else None
    if reject_media and ids:
        await accounts.update_clear_avatars(conn, ids)
        await profiles.clear_remote_headers(conn, ids)
        await media.delete_remote_attachments_of_accounts(conn, ids)
    return limited, purged


async def _reapply(conn: asyncpg.Connection, domain: str, change: Callable[[], Awaitable[None]],
                   now: datetime, *, keep_archive_copy: bool = True) -> tuple[int, int, PurgeResult | None]:
    """Run `change` (which changes the tables), then move each known account host under `domain` from the
    policy that governed it before to the one that governs it now: lift the old limits (only those the old
    policy set), put the new ones. Returns (accounts limited, accounts whose limit was lifted, purge)."""
    hosts = await accounts.list_account_domains_under(conn, domain)
    if not hosts:  # no account of it known here (most rows of an imported list): nothing to move
        await change()
        return 0, 0, None
    before = await _policies_for(conn, hosts)
    await change()
    after = await _policies_for(conn, hosts)
    limited, lifted, purged = 0, 0, None
    moved: dict[tuple[str, datetime] | None, list[str]] = {}
    for host in hosts:
        old, new = before[host], after[host]
        if old != new:
            if old is not None:
                lifted += await accounts.update_lift_domain_policy_limits(conn, [host], old.limited_at)
            moved.setdefault(None if new is None else (new.domain, new.limited_at), []).append(host)
    for key, group in moved.items():
        new_policy = after[group[0]]
        if key is not None and new_policy is not None:
            count, result = await _apply(conn, group, new_policy, now, keep_archive_copy=keep_archive_copy)
            limited += count
            purged = result if purged is None else _add(purged, result)
    return limited, lifted, purged


def _add(a: PurgeResult, b: PurgeResult | None) -> PurgeResult:
    if b is None:
        return a
    return PurgeResult(a.accounts + b.accounts, a.posts + b.posts, a.follows + b.follows,
                       a.favourites + b.favourites, a.notifications + b.notifications)


def _check_not_own(domain: str, own_domain: str) -> None:
    if is_own(domain, own_domain):
        raise Invalid("%(domain)s is this node's own domain.", domain=domain)


def _detail(policy: Policy | Terms) -> dict[str, Any]:
    return {"severity": policy.severity, "reject_media": policy.reject_media, "reject_reports": policy.reject_reports,
            "obfuscate": policy.obfuscate, "public_comment": policy.public_comment,
            "private_comment": policy.private_comment}


def moderator_id(actor: Account | None) -> int | None:
    """Who changes policies: None is an operator at the command line; an account must be an admin or moderator
    of this node in good standing."""
    if actor is not None and not is_moderator(actor):
        raise Forbidden("Only moderators can do this.")
    return actor.id if actor else None


async def block(conn: asyncpg.Connection, domain: str, terms: Terms, *, own_domain: str, actor: Account | None,
                now: datetime, source: str | None = None, destroy_records: bool = False) -> Change:
    """Add or change the policy of a domain and put its effects in place, in the caller's transaction.

    A suspension keeps an archive copy of the organisations' received records (replies to their people, webcare
    messages) unless `destroy_records`: the law requires their destruction (moderation/purge.py)."""
    actor_id = moderator_id(actor)
    value = normalise_domain(domain)
    _check_not_own(value, own_domain)
    previous = await get_policy(conn, value)

    async def change() -> None:
        await conn.execute(
            "INSERT INTO domain_policies (domain, severity, reject_media, reject_reports, obfuscate, private_comment, "
            "public_comment, created_at, created_by, updated_at, limited_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $8, $8) ON CONFLICT (domain) DO UPDATE SET "
            "severity = EXCLUDED.severity, reject_media = EXCLUDED.reject_media, "
            "reject_reports = EXCLUDED.reject_reports, obfuscate = EXCLUDED.obfuscate, "
            "private_comment = EXCLUDED.private_comment, public_comment = EXCLUDED.public_comment, "
            "updated_at = EXCLUDED.updated_at, limited_at = EXCLUDED.limited_at",
            value, terms.severity, terms.reject_media, terms.reject_reports, terms.obfuscate, terms.private_comment,
            terms.public_comment, now, actor_id)

    limited, lifted, purged = await _reapply(conn, value, change, now, keep_archive_copy=not destroy_records)
    policy = await get_policy(conn, value)
    detail = {**_detail(terms), "limited_accounts": limited, "lifted_accounts": lifted,
              **(purged.as_detail() if purged else {}), "records_destroyed": destroy_records}
    if previous is not None:
        detail["previous"] = _detail(previous)
    if source:
        detail["source"] = source
    await audit.record(conn, actor_id=actor_id, action="domain.updated" if previous else "domain.blocked",
                       subject_type="domain", subject_id=value, detail=detail, now=now)
    return Change(value, policy, limited, lifted, purged)


async def unblock(conn: asyncpg.Connection, domain: str, *, actor: Account | None, now: datetime) -> Change:
    """Remove a domain's policy; the limits it put on accounts are lifted (content it purged stays gone)."""
    actor_id = moderator_id(actor)
    value = normalise_domain(domain)
    previous = await get_policy(conn, value)
    if previous is None:
        raise NotFound("%(domain)s has no domain policy here.", domain=value)

    async def change() -> None:
        await conn.execute("DELETE FROM domain_policies WHERE domain = $1", value)

    limited, lifted, purged = await _reapply(conn, value, change, now)
    await audit.record(conn, actor_id=actor_id, action="domain.unblocked", subject_type="domain", subject_id=value,
                       detail={"previous": _detail(previous), "lifted_accounts": lifted, "limited_accounts": limited},
                       now=now)
    return Change(value, None, limited, lifted, purged)


async def allow(conn: asyncpg.Connection, domain: str, *, own_domain: str, actor: Account | None,
                now: datetime) -> bool:
    """Put a domain on the allowlist (used in allowlist mode); False when it was already there."""
    actor_id = moderator_id(actor)
    value = normalise_domain(domain)
    _check_not_own(value, own_domain)
    status = await conn.execute("INSERT INTO domain_allows (domain, created_at, created_by) VALUES ($1, $2, $3) "
                                "ON CONFLICT (domain) DO NOTHING", value, now, actor_id)
    added = status.endswith(" 1")
    if added:
        await audit.record(conn, actor_id=actor_id, action="domain.allowed", subject_type="domain", subject_id=value,
                           detail={}, now=now)
    return added


async def disallow(conn: asyncpg.Connection, domain: str, *, actor: Account | None, now: datetime) -> str:
    """Take a domain off the allowlist."""
    actor_id = moderator_id(actor)
    value = normalise_domain(domain)
    status = await conn.execute("DELETE FROM domain_allows WHERE domain = $1", value)
    if not status.endswith(" 1"):
        raise NotFound("%(domain)s is not on the allowlist.", domain=value)
    await audit.record(conn, actor_id=actor_id, action="domain.disallowed", subject_type="domain", subject_id=value,
                       detail={}, now=now)
    return value


async def set_mode(conn: asyncpg.Connection, mode: str, *, actor: Account | None, now: datetime) -> str:
    """Switch between blocklist mode (everyone but the suspended) and allowlist mode (only the listed)."""
    actor_id = moderator_id(actor)
    if mode not in MODES:
        raise Invalid("The federation mode must be blocklist or allowlist.")
    previous = await get_mode(conn)
    await conn.execute("INSERT INTO federation_mode (singleton, mode, changed_at, changed_by) VALUES (true, $1, $2, $3) "
                       "ON CONFLICT (singleton) DO UPDATE SET mode = $1, changed_at = $2, changed_by = $3",
                       mode, now, actor_id)
    if previous != mode:
        await audit.record(conn, actor_id=actor_id, action="domain.mode", subject_type="domain", subject_id="*",
                           detail={"mode": mode, "previous": previous}, now=now)
    return previous


def public_list(policies: list[Policy]) -> list[dict[str, str]]:
    """What everyone may know, for the about page and Mastodon's GET /api/v1/instance/domain_blocks: the limited
    servers (obfuscated where the moderators chose so), the SHA-256 of each name, the severity (Mastodon's word, and
    ours) and the public comment; never the private reason."""
    return [{"domain": obfuscated(p.domain) if p.obfuscate else p.domain,
             "digest": digest(p.domain), "severity": p.severity, "label": p.label,
             "comment": p.public_comment}
            for p in policies if p.severity in ("suspend", "silence") or p.reject_media]
