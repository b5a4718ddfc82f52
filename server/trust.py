"""Which other government nodes this instance trusts to issue ambtenaar badges.

Owns: the trusted_issuers table; `add` and `remove`, the one way an admin changes it (the admins' page and
`ambtenaar trust` alike), validated, written and audited in the caller's transaction. Never: verifies a badge
(federation/badge_proofs.py does).
"""

from __future__ import annotations

import re
from datetime import datetime

import asyncpg

from server import audit
from server.accounts import Account
from server.errors import Forbidden, Invalid, NotFound

_DOMAIN = re.compile(r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$")


def normalise_domain(domain: str) -> str:
    value = domain.strip().lower().removeprefix("https://").removeprefix("http://").rstrip("/")
    if not _DOMAIN.match(value) or len(value) > 253:
        raise Invalid("%(domain)s is not a domain name.", domain=domain)
    return value


async def insert_trusted(conn: asyncpg.Connection, domain: str, added_by: int | None, now: datetime) -> str:
    value = normalise_domain(domain)
    await conn.execute("INSERT INTO trusted_issuers (domain, added_at, added_by) VALUES ($1, $2, $3) "
                       "ON CONFLICT (domain) DO NOTHING", value, now, added_by)
    return value


async def delete_trusted(conn: asyncpg.Connection, domain: str) -> str:
    value = normalise_domain(domain)
    status = await conn.execute("DELETE FROM trusted_issuers WHERE domain = $1", value)
    if not status.endswith(" 1"):
        raise NotFound("%(domain)s is not on the list of trusted nodes.", domain=value)
    return value


async def list_trusted(conn: asyncpg.Connection) -> list[str]:
    return [r["domain"] for r in await conn.fetch("SELECT domain FROM trusted_issuers ORDER BY domain")]


async def is_trusted(conn: asyncpg.Connection, domain: str) -> bool:
    return bool(await conn.fetchval("SELECT EXISTS (SELECT 1 FROM trusted_issuers WHERE domain = $1)",
                                    domain.lower()))


def _check_admin(actor: Account | None) -> None:
    """None is an operator at the command line; an account must be an active instance admin of this node."""
    if actor is not None and (not actor.is_admin or not actor.is_local or actor.disabled_at is not None):
        raise Forbidden("Only instance admins may see this page.")


async def add(conn: asyncpg.Connection, domain: str, *, actor: Account | None, now: datetime) -> str:
    """Trust badges issued on `domain` from now on; audited (also when it was trusted already)."""
    _check_admin(actor)
    value = await insert_trusted(conn, domain, actor.id if actor else None, now)
    await audit.record(conn, actor_id=actor.id if actor else None, action="trust.added", subject_type="domain",
                       subject_id=value, detail={}, now=now)
    return value


async def remove(conn: asyncpg.Connection, domain: str, *, actor: Account | None, now: datetime) -> str:
    """Stop trusting badges from `domain`; NotFound when it was not trusted."""
    _check_admin(actor)
    value = await delete_trusted(conn, domain)
    await audit.record(conn, actor_id=actor.id if actor else None, action="trust.removed", subject_type="domain",
                       subject_id=value, detail={}, now=now)
    return value
