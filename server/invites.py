"""One-time invites: an organisation admin (or the CLI) invites an official, who picks a username and password.

Owns: the invites table and its SQL. Never: sends e-mail; the link is handed over by the inviter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from server import accounts, audit, passwords
from server.accounts import Account
from server.errors import Forbidden, Invalid, NotFound
from server.ids import new_id
from server.tokens import new_token, token_hash


@dataclass(frozen=True)
class Invite:
    id: int
    organisation_id: int
    org_role: str
    expires_at: datetime
    used_at: datetime | None


async def insert_invite(conn: asyncpg.Connection, *, organisation_id: int, org_role: str, now: datetime,
                        valid_for: timedelta, created_by: int | None = None) -> str:
    """Store an invite and return its token; only the hash is kept. Audited as `invite.created` (the role it
    grants, its expiry), with `created_by` as the actor (None: the operator at the command line), who must be an
    active admin of the organisation or an instance admin."""
    if created_by is not None:
        actor = await accounts.get_account(conn, created_by)
        if actor is None or not actor.is_active or not actor.administers(organisation_id):
            raise Forbidden("Only the organisation's admins and instance admins may manage its people.")
    token = new_token()
    role = accounts.parse_org_role(org_role)
    invite_id = new_id(now)
    await conn.execute(
        "INSERT INTO invites (id, token_hash, organisation_id, org_role, created_by, created_at, expires_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7)",
        invite_id, token_hash(token), organisation_id, role, created_by, now, now + valid_for)
    await audit.record(conn, actor_id=created_by, action="invite.created", subject_type="invite",
                       subject_id=invite_id, detail={"organisation_id": organisation_id, "org_role": role,
                                                     "expires_at": (now + valid_for).isoformat()}, now=now)
    return token


async def get_usable_invite(conn: asyncpg.Connection, token: str, now: datetime, *, lock: bool = False) -> Invite:
    """The invite behind a token, or a refusal that says why it cannot be used."""
    row = await conn.fetchrow(
        "SELECT id, organisation_id, org_role, expires_at, used_at FROM invites WHERE token_hash = $1"
        + (" FOR UPDATE" if lock else ""), token_hash(token))
    if row is None:
        raise NotFound("This invite link is not valid. Ask your organisation for a new one.")
    invite = Invite(**dict(row))
    if invite.used_at is not None:
        raise Invalid("This invite link has already been used. Ask your organisation for a new one.")
    if invite.expires_at <= now:
        raise Invalid("This invite link has expired. Ask your organisation for a new one.")
    return invite


async def accept_invite(conn: asyncpg.Connection, token: str, *, username: str, password: str, display_name: str,
                        email: str | None, now: datetime, language: str) -> Account:
    """Create the official's account and spend the invite, in the caller's transaction."""
    invite = await get_usable_invite(conn, token, now, lock=True)
    password_hash = passwords.hash_password(password)
    account = await accounts.create_person(
        conn, username=username, email=email or None, password_hash=password_hash, display_name=display_name,
        organisation_id=invite.organisation_id, org_role=invite.org_role, language=language, actor_id=None,
        now=now, invite_id=invite.id)
    await conn.execute("UPDATE invites SET used_at = $2, used_by = $3 WHERE id = $1", invite.id, now, account.id)
    return account
