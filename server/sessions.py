"""Web sign-in sessions and sign-in throttling.

Owns: the web_sessions and login_failures tables. Never: sets cookies (web/ does that with the token it gets).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from server import accounts, housekeeping, passwords
from server.accounts import Account
from server.config import Settings
from server.errors import Forbidden, Invalid, TooManyAttempts
from server.tokens import new_token, token_hash

SESSION_LIFETIME = timedelta(days=30)
ADDRESS_FACTOR = 4


async def insert_session(conn: asyncpg.Connection, account_id: int, now: datetime, *, user_agent: str = "",
                         client_address: str = "") -> str:
    token = new_token()
    await conn.execute("INSERT INTO web_sessions (token_hash, account_id, created_at, expires_at, user_agent, "
                       "client_address) VALUES ($1, $2, $3, $4, $5, $6)", token_hash(token), account_id, now,
                       now + SESSION_LIFETIME, user_agent[:300], client_address[:100])
    return token


@dataclass(frozen=True)
class SessionInfo:
    """A sign-in as its owner sees it on the security page (never its token)."""
    id: int
    created_at: datetime
    expires_at: datetime
    user_agent: str
    client_address: str
    current: bool


async def list_sessions(conn: asyncpg.Connection, account_id: int, now: datetime,
                        current_token: str = "") -> list[SessionInfo]:
    rows = await conn.fetch("SELECT id, created_at, expires_at, user_agent, client_address, token_hash = $3 AS current "
                            "FROM web_sessions WHERE account_id = $1 AND expires_at > $2 ORDER BY created_at DESC",
                            account_id, now, token_hash(current_token))
    return [SessionInfo(**dict(r)) for r in rows]


async def delete_session_by_id(conn: asyncpg.Connection, account_id: int, session_id: int) -> bool:
    status = await conn.execute("DELETE FROM web_sessions WHERE id = $1 AND account_id = $2", session_id, account_id)
    return status.endswith(" 1")


async def delete_sessions_of(conn: asyncpg.Connection, account_ids: list[int], keep_token: str = "") -> int:
    """Sign these accounts out everywhere (but the session `keep_token`, if given); how many sessions ended."""
    status = await conn.execute("DELETE FROM web_sessions WHERE account_id = ANY($1::bigint[]) AND token_hash <> $2",
                                account_ids, token_hash(keep_token))
    return int(status.rsplit(" ", 1)[1])


async def get_session_account(conn: asyncpg.Connection, token: str, now: datetime) -> Account | None:
    account_id = await conn.fetchval(
        "SELECT s.account_id FROM web_sessions s JOIN accounts a ON a.id = s.account_id "
        "WHERE s.token_hash = $1 AND s.expires_at > $2 AND a.disabled_at IS NULL AND a.suspended_at IS NULL",
        token_hash(token), now)
    return await accounts.get_account(conn, account_id) if account_id else None


async def delete_session(conn: asyncpg.Connection, token: str) -> None:
    await conn.execute("DELETE FROM web_sessions WHERE token_hash = $1", token_hash(token))


async def count_recent_failures(conn: asyncpg.Connection, key: str, since: datetime) -> int:
    value = await conn.fetchval("SELECT count(*) FROM login_failures WHERE throttle_key = $1 AND failed_at > $2",
                                key, since)
    return int(value or 0)


async def insert_failures(conn: asyncpg.Connection, keys: list[str], now: datetime) -> None:
    await conn.executemany("INSERT INTO login_failures (throttle_key, failed_at) VALUES ($1, $2)",
                           [(k, now) for k in keys])


async def delete_failures(conn: asyncpg.Connection, keys: list[str]) -> None:
    await conn.execute("DELETE FROM login_failures WHERE throttle_key = ANY($1::text[])", keys)


def sign_in_name(raw: str, domain: str = "") -> str:
    """The one spelling of what a person typed as their name: NFKC, no surrounding space, no leading '@'s, no
    '@our.domain' of a full handle, case folded. Both the throttle and the account lookup use it."""
    name = unicodedata.normalize("NFKC", raw).strip().lstrip("@").strip()
    if domain and name.lower().endswith("@" + domain.lower()):
        name = name[:-len(domain) - 1]
    return name.casefold()


async def is_throttled(conn: asyncpg.Connection, keys: list[str], since: datetime, max_failures: int) -> bool:
    """Whether an account's counter (keys[0]) or an address's (keys[1], with ADDRESS_FACTOR times the room) is
    spent; shared by passwords and second factors."""
    return await count_recent_failures(conn, keys[0], since) >= max_failures \
        or await count_recent_failures(conn, keys[1], since) >= max_failures * ADDRESS_FACTOR


async def lock_throttle(conn: asyncpg.Connection, keys: list[str]) -> None:
    """Take the throttle's counters for this transaction, in the order given (always account, then address, so
    two attempts never wait for each other in a circle)."""
    for key in keys:
        await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"login_failures:{key}")


async def authenticate(conn: asyncpg.Connection, *, username: str, password: str, client_address: str,
                       now: datetime, max_failures: int, window: timedelta, domain: str = "") -> Account:
    """Check a username and password, counting failures per account and per address.

    Call it outside a transaction: a refused attempt must still be counted. An address gets more tries than an
    account because a whole town hall may sign in from behind one address.
    """
    name = sign_in_name(username, domain)
    account = await accounts.get_account_by_username(conn, name) if name else None
    # One counter per account, whatever spelling reached it ('bert', '@bert', '@@bert', 'Bert@our.domain');
    # names that reach no account share one counter per normalised name.
    keys = [f"account:{account.id}" if account else f"user:{name}", f"addr:{client_address}"]
    since, ok = now - window, False
    # Count, check the password and record the failure while holding the counters: guesses sent all at once
    # would otherwise each read the count before any of them wrote it, and all be tried.
    async with conn.transaction():
        await lock_throttle(conn, keys)
        throttled = await is_throttled(conn, keys, since, max_failures)
        if not throttled:
            password_hash = await accounts.get_password_hash(conn, account.id) if account else None
            ok = passwords.verify_password(password_hash, password) and account is not None \
                and account.disabled_at is None
            await (delete_failures(conn, keys[:1]) if ok else insert_failures(conn, keys, now))
    if throttled:
        raise TooManyAttempts("Too many failed sign-ins. Wait a few minutes and try again.")
    if not ok or account is None:
        raise Invalid("The username or password is wrong.")
    if account.is_suspended:  # told only to whoever knows the password
        raise Forbidden("This account has been suspended by the moderators of this server.")
    return account


async def delete_expired(conn: asyncpg.Connection, now: datetime, window: timedelta) -> None:
    """Housekeeping: sessions past their end and failed sign-ins older than the throttle window."""
    await conn.execute("DELETE FROM web_sessions WHERE expires_at < $1", now)
    await conn.execute("DELETE FROM login_failures WHERE failed_at < $1", now - window)


@housekeeping.register("web_sessions")
async def housekeep(conn: asyncpg.Connection, now: datetime, settings: Settings) -> None:
    await delete_expired(conn, now, timedelta(seconds=settings.login_window_seconds))
