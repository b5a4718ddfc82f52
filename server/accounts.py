"""Local accounts: officials, organisation accounts, instance admins and moderators.

Owns: the accounts table and its SQL, usernames, and which voices an account may use.
Never: builds ActivityStreams JSON or calls HTTP; password hashing lives in server/passwords.py.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from server import audit, names, streams
from server.errors import Conflict, Forbidden, Invalid
from server.ids import new_id

ORG_ROLES = ("official", "reviewer", "org_admin", "webcare", "archivist")
VOICES = ("official", "personal")
_USERNAME = re.compile(r"^[A-Za-z0-9_]{1,30}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{2,}$")
# Names that would shadow pages or well-known paths under /@name.
RESERVED_USERNAMES = frozenset({"admin", "administrator", "root", "support", "api", "inbox", "outbox", "about",
                                 "settings", "login", "logout", "static", "tags", "orgs", "instance", "actor",
                                 "webfinger", "nodeinfo", "moderator", "postmaster", "abuse", "security"})
_COLUMNS = ("id, username, email, display_name, bio, kind, organisation_id, org_role, is_admin, is_moderator, "
            "default_voice, language, created_at, disabled_at, domain, actor_uri, actor_type, profile_url, inbox_uri, "
            "shared_inbox_uri, followers_uri, key_id, public_key_pem, avatar_url, manually_approves_followers, "
            "fetched_at, gone_at, remote_badge, remote_badge_verified, remote_badge_reason, silenced_at, suspended_at, suspended_by_origin")


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    email: str | None
    display_name: str
    bio: str
    kind: str
    organisation_id: int | None
    org_role: str | None
    is_admin: bool
    is_moderator: bool
    default_voice: str
    language: str
    created_at: datetime
    disabled_at: datetime | None
    # Remote actors only (domain is None for accounts of this node).
    domain: str | None = None
    actor_uri: str | None = None
    actor_type: str = "Person"
    profile_url: str | None = None
    inbox_uri: str | None = None
    shared_inbox_uri: str | None = None
    followers_uri: str | None = None
    key_id: str | None = None
    public_key_pem: str | None = None
    avatar_url: str | None = None
    manually_approves_followers: bool = False
    fetched_at: datetime | None = None
    gone_at: datetime | None = None
    # A remote actor's ambtenaar badge as received, and our verdict on it (federation/badge_proofs.py).
    remote_badge: dict[str, Any] | None = None
    remote_badge_verified: bool = False
    remote_badge_reason: str | None = None
    # Moderators' limits (moderation/): silenced posts reach followers only; suspended is gone from view.
    silenced_at: datetime | None = None
    suspended_at: datetime | None = None
    suspended_by_origin: bool = False  # a remote account its own server suspended (it may lift it again)

    @property
    def name(self) -> str:
        return self.display_name or self.username

    @property
    def is_suspended(self) -> bool:
        return self.suspended_at is not None

    @property
    def is_active(self) -> bool:
        """Neither disabled nor suspended: the account may act, and others may see and reach it."""
        return self.disabled_at is None and self.suspended_at is None

    @property
    def may_moderate(self) -> bool:
        """An admin or moderator of this node whose own account is in good standing."""
        return self.is_local and (self.is_admin or self.is_moderator) and self.is_active

    def administers(self, organisation_id: int | None) -> bool:
        """The one rule for an organisation's admin actions (badges, two-step sign-in, wording): an instance admin,
        or that organisation's own admin, local and in good standing."""
        if not self.is_local or not self.is_active:
            return False
        return self.is_admin or (organisation_id is not None and self.org_role == "org_admin"
                                 and self.organisation_id == organisation_id)

    @property
    def is_silenced(self) -> bool:
        return self.silenced_at is not None

    @property
    def is_local(self) -> bool:
        return self.domain is None

    @property
    def acct(self) -> str:
        """The handle apps show: `anna` here, `bob@burger.test` for a remote account."""
        return self.username if self.domain is None else f"{self.username}@{self.domain}"

    @property
    def is_organisation(self) -> bool:
        return self.kind == "organisation"

    @property
    def allowed_voices(self) -> tuple[str, ...]:
        """An organisation account speaks only for its organisation; members choose; others speak personally."""
        if self.is_organisation:
            return ("official",)
        if self.organisation_id is not None:
            return VOICES
        return ("personal",)


def parse_org_role(role: str) -> str:
    """Accept the CLI's spelling (org-admin) and the stored one (org_admin)."""
    normalised = role.strip().replace("-", "_")
    if normalised not in ORG_ROLES:
        raise Invalid("The role must be official, reviewer, webcare, archivist or org-admin.")
    return normalised


def validate_username(username: str) -> None:
    if not _USERNAME.match(username):
        raise Invalid("A username has 1 to 30 letters, digits or underscores.")
    if username.lower() in RESERVED_USERNAMES:
        raise Invalid("The username %(username)s is reserved.", username=username)


def validate_email(email: str) -> None:
    if not _EMAIL.match(email):
        raise Invalid("%(email)s is not an e-mail address.", email=email)


def _account(row: asyncpg.Record) -> Account:
    return Account(**dict(row))


async def create_person(conn: asyncpg.Connection, *, username: str, email: str | None, password_hash: str,
                        display_name: str = "", organisation_id: int | None = None, org_role: str | None = None,
                        is_admin: bool = False, is_moderator: bool = False, language: str = "nl",
                        actor_id: int | None, now: datetime, invite_id: int | None = None) -> Account:
    """A person's account with the roles it is given (a role in an organisation, or admin or moderator), and
    the audit entry `account.created` that records who gave them; the one way people are made, from the CLI, an
    invite or a page. `actor_id` is None for the operator at the command line, the new account itself when it
    accepted an invite."""
    account = await insert_account(conn, username=username, kind="person", email=email,
                                   password_hash=password_hash, display_name=display_name,
                                   organisation_id=organisation_id, org_role=org_role, is_admin=is_admin,
                                   is_moderator=is_moderator, language=language)
    detail: dict[str, Any] = {"username": account.username, "organisation_id": organisation_id,
                              "org_role": org_role, "admin": is_admin, "moderator": is_moderator}
    if invite_id is not None:
        detail["invite_id"] = invite_id
    await audit.record(conn, actor_id=account.id if actor_id is None and invite_id else actor_id,
                       action="account.created", subject_type="account", subject_id=account.id, detail=detail,
                       now=now)
    return account


async def refuse_last_org_admin(conn: asyncpg.Connection, member: Account) -> None:
    """Refuse to take the org admin role from an organisation's last active admin (the others are locked)."""
    if member.org_role != "org_admin":
        return
    others = await conn.fetchval(
        "SELECT count(*) FROM (SELECT id FROM accounts WHERE organisation_id = $1 AND org_role = 'org_admin' "
        "AND id <> $2 AND kind = 'person' AND disabled_at IS NULL FOR UPDATE) AS others",
        member.organisation_id, member.id)
    if not others:
        raise Conflict("The organisation's last admin keeps that role: make someone else admin first.")


async def update_leave_organisation(conn: asyncpg.Connection, account_id: int, *, disable: bool,
                                    now: datetime) -> Account:
    """The person is no longer in an organisation: no role, only the personal voice; disabled if asked."""
    row = await conn.fetchrow(
        f"UPDATE accounts SET organisation_id = NULL, org_role = NULL, default_voice = 'personal', "
        f"disabled_at = CASE WHEN $2 THEN coalesce(disabled_at, $3) ELSE disabled_at END "
        f"WHERE id = $1 AND kind = 'person' RETURNING {_COLUMNS}", account_id, disable, now)
    if disable:
        await streams.publish_access_changed(conn, [account_id])  # its open streams close
    return _account(row)


async def change_org_role(conn: asyncpg.Connection, member: Account, role: str, *, actor: Account | None,
                          now: datetime) -> Account:
    """Give a member of an organisation another role, audited as `account.role_changed` (from, to). Only the
    organisation's own admin or an instance admin may (`actor` None: the operator at the command line); the
    organisation's last org admin keeps that role, so someone can still manage it."""
    if member.organisation_id is None or member.kind != "person":
        raise Invalid("Only a person in an organisation has a role there.")
    if actor is not None and not (actor.is_active and actor.administers(member.organisation_id)):
        raise Forbidden("Only the organisation's admins and instance admins may manage its people.")
    new_role = parse_org_role(role)
    if new_role == member.org_role:
        return member
    await refuse_last_org_admin(conn, member)
    row = await conn.fetchrow(f"UPDATE accounts SET org_role = $2 WHERE id = $1 RETURNING {_COLUMNS}",
                              member.id, new_role)
    await audit.record(conn, actor_id=actor.id if actor else None, action="account.role_changed",
                       subject_type="account", subject_id=member.id,
                       detail={"username": member.username, "organisation_id": member.organisation_id,
                               "from": member.org_role, "to": new_role}, now=now)
    return _account(row)


async def insert_account(conn: asyncpg.Connection, *, username: str, kind: str, email: str | None = None,
                         password_hash: str | None = None, display_name: str = "",
                         organisation_id: int | None = None, org_role: str | None = None,
                         is_admin: bool = False, is_moderator: bool = False, default_voice: str | None = None,
                         language: str = "nl") -> Account:
    validate_username(username)
    if email is not None:
        validate_email(email)
    display_name = names.clean_name(display_name)
    if len(display_name) > 100:
        raise Invalid("A display name may be at most 100 characters.")
    voice = default_voice or ("official" if kind == "organisation" else "personal")
    try:
        row = await conn.fetchrow(
            f"INSERT INTO accounts (id, username, email, password_hash, display_name, kind, organisation_id, "
            f"org_role, is_admin, is_moderator, default_voice, language) "
            f"VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING {_COLUMNS}",
            new_id(), username, email, password_hash, display_name.strip(), kind, organisation_id, org_role,
            is_admin, is_moderator, voice, language)
    except asyncpg.UniqueViolationError as exc:
        if "email" in (exc.constraint_name or ""):
            raise Conflict("An account with that e-mail address already exists.") from None
        raise Conflict("The username %(username)s is already taken.", username=username) from None
    return _account(row)


async def get_account(conn: asyncpg.Connection, account_id: int) -> Account | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM accounts WHERE id = $1", account_id)
    return _account(row) if row else None


async def get_account_by_username(conn: asyncpg.Connection, username: str) -> Account | None:
    """A local account by username (remote accounts with the same name live on their own domain)."""
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM accounts WHERE lower(username) = lower($1) AND domain IS NULL",
                              username)
    return _account(row) if row else None


async def get_organisation_account(conn: asyncpg.Connection, organisation_id: int) -> Account | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM accounts WHERE organisation_id = $1 AND kind = 'organisation'",
                              organisation_id)
    return _account(row) if row else None


async def get_password_hash(conn: asyncpg.Connection, account_id: int) -> str | None:
    value = await conn.fetchval("SELECT password_hash FROM accounts WHERE id = $1", account_id)
    return str(value) if value else None


async def list_accounts(conn: asyncpg.Connection) -> list[Account]:
    rows = await conn.fetch(f"SELECT {_COLUMNS} FROM accounts WHERE domain IS NULL ORDER BY lower(username)")
    return [_account(r) for r in rows]


async def list_accounts_by_usernames(conn: asyncpg.Connection, usernames: list[str]) -> list[Account]:
    rows = await conn.fetch(f"SELECT {_COLUMNS} FROM accounts WHERE lower(username) = ANY($1::text[]) "
                            f"AND domain IS NULL", [u.lower() for u in usernames])
    return [_account(r) for r in rows]


async def list_organisation_members(conn: asyncpg.Connection, organisation_id: int) -> list[Account]:
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM accounts WHERE organisation_id = $1 AND kind = 'person' AND disabled_at IS NULL "
        f"ORDER BY lower(display_name), lower(username)", organisation_id)
    return [_account(r) for r in rows]


async def update_profile(conn: asyncpg.Connection, account: Account, *, display_name: str, bio: str,
                         default_voice: str, language: str, locked: bool | None = None) -> Account:
    # Invisible and bidi characters go (a name could otherwise show a handle with its host reversed).
    display_name = names.clean_name(display_name)
    if len(display_name) > 100:
        raise Invalid("A display name may be at most 100 characters.")
    if len(bio) > 1000:
        raise Invalid("A bio may be at most 1000 characters.")
    if default_voice not in account.allowed_voices:
        raise Invalid("You cannot speak in official voice: you are not a member of an organisation.")
    if language not in ("nl", "en"):
        raise Invalid("The language must be nl or en.")
    row = await conn.fetchrow(
        f"UPDATE accounts SET display_name = $2, bio = $3, default_voice = $4, language = $5, "
        f"manually_approves_followers = $6 WHERE id = $1 RETURNING {_COLUMNS}", account.id, display_name.strip(),
        bio.strip(), default_voice, language,
        account.manually_approves_followers if locked is None else locked)
    return _account(row)


async def update_password_hash(conn: asyncpg.Connection, account_id: int, password_hash: str) -> None:
    await conn.execute("UPDATE accounts SET password_hash = $2 WHERE id = $1", account_id, password_hash)


async def list_accounts_by_ids(conn: asyncpg.Connection, account_ids: list[int]) -> dict[int, Account]:
    rows = await conn.fetch(f"SELECT {_COLUMNS} FROM accounts WHERE id = ANY($1::bigint[])", account_ids)
    return {r["id"]: _account(r) for r in rows}


async def search_accounts(conn: asyncpg.Connection, query: str, limit: int, offset: int = 0) -> list[Account]:
    """Accounts this node knows (local, and remote ones already fetched) whose username or display name starts with
    (or contains) the query, best matches first."""
    needle = query.strip().lstrip("@").split("@")[0].lower()
    if not needle:
        return []
    pattern = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM accounts WHERE disabled_at IS NULL AND suspended_at IS NULL "
        f"AND (lower(username) LIKE $1 || '%' "
        f"OR lower(display_name) LIKE '%' || $1 || '%') "
        f"ORDER BY (lower(username) = $2) DESC, (lower(username) LIKE $1 || '%') DESC, lower(username) "
        f"LIMIT $3 OFFSET $4", pattern, needle, limit, offset)
    return [_account(r) for r in rows]


async def get_account_by_actor_uri(conn: asyncpg.Connection, actor_uri: str) -> Account | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM accounts WHERE actor_uri = $1", actor_uri)
    return _account(row) if row else None


async def get_account_by_key_id(conn: asyncpg.Connection, key_id: str) -> Account | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM accounts WHERE key_id = $1 ORDER BY fetched_at DESC NULLS LAST "
                              f"LIMIT 1", key_id)
    return _account(row) if row else None


async def get_remote_account(conn: asyncpg.Connection, username: str, domain: str) -> Account | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM accounts WHERE lower(username) = lower($1) "
                              f"AND lower(domain) = lower($2)", username, domain)
    return _account(row) if row else None


@dataclass(frozen=True)
class RemoteProfile:
    """What we keep of a remote actor document (parsed and sanitised by federation/vocab.py)."""

    actor_uri: str
    username: str
    domain: str
    actor_type: str
    display_name: str
    summary_html: str
    profile_url: str | None
    inbox_uri: str
    shared_inbox_uri: str | None
    followers_uri: str | None
    key_id: str | None
    public_key_pem: str | None
    avatar_url: str | None
    manually_approves_followers: bool


async def upsert_remote_account(conn: asyncpg.Connection, profile: RemoteProfile, now: datetime) -> Account:
    """Insert or refresh a remote actor, keyed by its actor URI (the handle may change, the URI does not)."""
    row = await conn.fetchrow(
        f"""INSERT INTO accounts (id, username, kind, display_name, bio, domain, actor_uri, actor_type, profile_url,
              inbox_uri, shared_inbox_uri, followers_uri, key_id, public_key_pem, avatar_url,
              manually_approves_followers, fetched_at, gone_at)
            VALUES ($1, $2, 'person', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, NULL)
            ON CONFLICT (actor_uri) WHERE actor_uri IS NOT NULL DO UPDATE SET
              username = EXCLUDED.username, display_name = EXCLUDED.display_name, bio = EXCLUDED.bio,
              domain = EXCLUDED.domain, actor_type = EXCLUDED.actor_type, profile_url = EXCLUDED.profile_url,
              inbox_uri = EXCLUDED.inbox_uri, shared_inbox_uri = EXCLUDED.shared_inbox_uri,
              followers_uri = EXCLUDED.followers_uri, key_id = EXCLUDED.key_id,
              public_key_pem = EXCLUDED.public_key_pem, avatar_url = EXCLUDED.avatar_url,
              manually_approves_followers = EXCLUDED.manually_approves_followers, fetched_at = EXCLUDED.fetched_at,
              gone_at = NULL
            RETURNING {_COLUMNS}""",
        new_id(now), profile.username[:200], profile.display_name[:100], profile.summary_html, profile.domain.lower(),
        profile.actor_uri, profile.actor_type, profile.profile_url, profile.inbox_uri, profile.shared_inbox_uri,
        profile.followers_uri, profile.key_id, profile.public_key_pem, profile.avatar_url,
        profile.manually_approves_followers, now)
    return _account(row)


async def update_remote_badge(conn: asyncpg.Connection, account_id: int, badge: Mapping[str, Any] | None,
                              verified: bool, reason: str | None) -> None:
    await conn.execute("UPDATE accounts SET remote_badge = $2, remote_badge_verified = $3, remote_badge_reason = $4 "
                       "WHERE id = $1 AND domain IS NOT NULL", account_id, dict(badge) if badge else None, verified,
                       reason)


async def mark_gone(conn: asyncpg.Connection, account_id: int, now: datetime) -> None:
    await conn.execute("UPDATE accounts SET gone_at = $2 WHERE id = $1 AND domain IS NOT NULL", account_id, now)


async def get_first_admin(conn: asyncpg.Connection) -> Account | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM accounts WHERE is_admin AND disabled_at IS NULL ORDER BY id "
                              f"LIMIT 1")
    return _account(row) if row else None


async def update_silenced(conn: asyncpg.Connection, account_id: int, silenced_at: datetime | None) -> Account | None:
    """Limit an account (a time) or lift the limit (None); moderation/ decides and audits."""
    row = await conn.fetchrow(f"UPDATE accounts SET silenced_at = $2 WHERE id = $1 RETURNING {_COLUMNS}",
                              account_id, silenced_at)
    return _account(row) if row else None


async def update_suspended(conn: asyncpg.Connection, account_id: int, suspended_at: datetime | None) -> Account | None:
    """Suspend an account (a time) or lift the suspension (None); moderation/ decides and audits. A moderator's
    decision is ours from then on: the account's own server can no longer lift it."""
    row = await conn.fetchrow(f"UPDATE accounts SET suspended_at = $2, suspended_by_origin = false WHERE id = $1 "
                              f"RETURNING {_COLUMNS}", account_id, suspended_at)
    if row and suspended_at is not None:
        await streams.publish_access_changed(conn, [account_id])  # its open streams close
    return _account(row) if row else None


async def update_origin_suspension(conn: asyncpg.Connection, account_id: int, suspended: bool,
                                   now: datetime) -> Account | None:
    """What a remote account's own server says (`suspended` on its actor): suspend it here too, or lift a
    suspension that came from there. A suspension of our own (a moderator's, a domain policy's) is left alone."""
    if suspended:
        row = await conn.fetchrow(
            f"UPDATE accounts SET suspended_at = $2, suspended_by_origin = true "
            f"WHERE id = $1 AND domain IS NOT NULL AND suspended_at IS NULL RETURNING {_COLUMNS}", account_id, now)
    else:
        row = await conn.fetchrow(
            f"UPDATE accounts SET suspended_at = NULL, suspended_by_origin = false "
            f"WHERE id = $1 AND suspended_by_origin RETURNING {_COLUMNS}", account_id)
    return _account(row) if row else None


async def update_clear_remote_profiles(conn: asyncpg.Connection, account_ids: list[int]) -> None:
    """Forget what a remote actor told us about itself (name, bio, avatar, badge) when moderation purges it; the
    row stays (its actor URI and key), and fetched_at is cleared so that the profile is fetched anew if the
    account is ever restored."""
    await conn.execute(
        "UPDATE accounts SET display_name = '', bio = '', avatar_url = NULL, remote_badge = NULL, "
        "remote_badge_verified = false, remote_badge_reason = NULL, fetched_at = NULL "
        "WHERE id = ANY($1::bigint[]) AND domain IS NOT NULL", account_ids)


async def list_account_domains_under(conn: asyncpg.Connection, domain: str) -> list[str]:
    """The distinct domains of known remote accounts that a domain policy on `domain` may cover: the domain itself
    and its subdomains, on any port (a domain with a port covers only itself). `domain` is normalised (no LIKE
    wildcards can occur in it)."""
    if ":" in domain:
        rows = await conn.fetch("SELECT DISTINCT domain FROM accounts WHERE domain = $1", domain)
    else:
        rows = await conn.fetch(
            "SELECT DISTINCT domain FROM accounts WHERE domain = $1 OR domain LIKE '%.' || $1 "
            "OR domain LIKE $1 || ':%' OR domain LIKE '%.' || $1 || ':%'", domain)
    return sorted(r["domain"] for r in rows)


async def list_account_ids_by_domains(conn: asyncpg.Connection, domains: list[str]) -> list[int]:
    rows = await conn.fetch("SELECT id FROM accounts WHERE domain = ANY($1::text[]) ORDER BY id", domains)
    return [r["id"] for r in rows]


async def update_domain_policy_limits(conn: asyncpg.Connection, domains: list[str], *, silenced_at: datetime | None,
                                      suspended_at: datetime | None) -> int:
    """A domain policy's limits on the accounts of these domains: the given moment is set where the account has
    no such limit yet (a moderator's earlier limit on one account keeps its own moment, so lifting the policy,
    which clears only its own moment, leaves that limit in place). None leaves a column alone."""
    if silenced_at is None and suspended_at is None:
        return 0
    status = await conn.execute(
        "UPDATE accounts SET silenced_at = coalesce(silenced_at, $2), suspended_at = coalesce(suspended_at, $3) "
        "WHERE domain = ANY($1::text[]) AND (($2::timestamptz IS NOT NULL AND silenced_at IS NULL) "
        "OR ($3::timestamptz IS NOT NULL AND suspended_at IS NULL))", domains, silenced_at, suspended_at)
    return int(status.split()[-1])


async def update_lift_domain_policy_limits(conn: asyncpg.Connection, domains: list[str], limited_at: datetime) -> int:
    """Lift the limits a domain policy set (those carrying its moment) on the accounts of these domains."""
    status = await conn.execute(
        "UPDATE accounts SET silenced_at = CASE WHEN silenced_at = $2 THEN NULL ELSE silenced_at END, "
        "suspended_at = CASE WHEN suspended_at = $2 THEN NULL ELSE suspended_at END "
        "WHERE domain = ANY($1::text[]) AND (silenced_at = $2 OR suspended_at = $2)", domains, limited_at)
    return int(status.split()[-1])


async def update_clear_avatars(conn: asyncpg.Connection, account_ids: list[int]) -> None:
    """Forget remote avatars (a domain whose media this node rejects); a later fetch of the actor keeps none."""
    await conn.execute("UPDATE accounts SET avatar_url = NULL WHERE id = ANY($1::bigint[]) AND domain IS NOT NULL",
                       account_ids)
