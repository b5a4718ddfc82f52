"""A person's own security steps: changing the password, an admin's one-time reset link, ending sessions and
revoking apps; each audited in the caller's transaction.

Owns: the password_resets table (reset links stored only as SHA-256 hashes, 24 hours, spent once), the throttle
on checking the current password. Never: hashes passwords itself (server/passwords.py), sets cookies or mails.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg

from server import accounts, audit, housekeeping, oauth, passwords, sessions, two_factor
from server.accounts import Account
from server.config import Settings
from server.errors import Invalid, NotFound, TooManyAttempts
from server.tokens import new_token, token_hash

RESET_LIFETIME = timedelta(hours=24)


async def check_current_password(conn: asyncpg.Connection, account: Account, password: str, *,
                                 client_address: str, now: datetime, max_failures: int, window: timedelta) -> None:
    """The current password, before a step that needs it; wrong ones count against the same per-account and
    per-address sign-in counters, so this page is no way around the sign-in throttle.

    Call it outside a transaction: a refused attempt must still be counted."""
    keys = [f"account:{account.id}", f"addr:{client_address}"]
    async with conn.transaction():
        await sessions.lock_throttle(conn, keys)
        throttled = await sessions.is_throttled(conn, keys, now - window, max_failures)
        ok = False
        if not throttled:
            ok = passwords.verify_password(await accounts.get_password_hash(conn, account.id), password)
            if not ok:
                await sessions.insert_failures(conn, keys, now)
    if throttled:
        raise TooManyAttempts("Too many failed sign-ins. Wait a few minutes and try again.")
    if not ok:
        raise Invalid("Your current password is not right.")


async def change_password(conn: asyncpg.Connection, account: Account, new_password: str, *, keep_session: str,
                          now: datetime) -> int:
    """Set a new password (after `check_current_password`) and sign out every other session; how many ended."""
    await accounts.update_password_hash(conn, account.id, passwords.hash_password(new_password))
    ended = await sessions.delete_sessions_of(conn, [account.id], keep_token=keep_session)
    await two_factor.delete_account_challenges(conn, account.id)
    await conn.execute("DELETE FROM password_resets WHERE account_id = $1", account.id)
    await audit.record(conn, actor_id=account.id, action="password.changed", subject_type="account",
                       subject_id=account.id, detail={"sessions_ended": ended}, now=now)
    return ended


async def insert_reset_link(conn: asyncpg.Connection, account: Account, *, actor_id: int | None,
                            now: datetime) -> str:
    """A one-time reset token for an account (valid 24 hours); earlier unused links of the account stop working.
    The operator hands the link over themselves: nothing is mailed."""
    if not account.is_local or account.is_organisation:
        raise Invalid("Only people of this node have a password to reset.")
    await conn.execute("DELETE FROM password_resets WHERE account_id = $1", account.id)
    token = new_token()
    await conn.execute("INSERT INTO password_resets (token_hash, account_id, created_at, expires_at) "
                       "VALUES ($1, $2, $3, $4)", token_hash(token), account.id, now, now + RESET_LIFETIME)
    await audit.record(conn, actor_id=actor_id, action="password.reset_link_created", subject_type="account",
                       subject_id=account.id, detail={"valid_hours": int(RESET_LIFETIME.total_seconds() // 3600)},
                       now=now)
    return token


async def get_reset_account(conn: asyncpg.Connection, token: str, now: datetime) -> Account:
    account_id = await conn.fetchval("SELECT account_id FROM password_resets WHERE token_hash = $1 "
                                     "AND used_at IS NULL AND expires_at > $2", token_hash(token), now)
    account = await accounts.get_account(conn, account_id) if account_id else None
    if account is None or not account.is_active:
        raise NotFound("This link to set a new password is not valid: it was used, it has expired (after 24 hours), "
                       "or it never existed. Ask your administrator for a new one.")
    return account


async def reset_password(conn: asyncpg.Connection, token: str, new_password: str, now: datetime) -> Account:
    """Spend a reset link: the new password, every session and half-done sign-in of the account ended. Two-factor
    sign-in stays on: the link alone does not get past it."""
    account = await get_reset_account(conn, token, now)
    password_hash = passwords.hash_password(new_password)  # refuses a weak one before the link is spent
    spent = await conn.fetchval("UPDATE password_resets SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL "
                                "AND expires_at > $2 RETURNING account_id", token_hash(token), now)
    if spent is None:
        raise NotFound("This link to set a new password is not valid: it was used, it has expired (after 24 hours), "
                       "or it never existed. Ask your administrator for a new one.")
    await accounts.update_password_hash(conn, account.id, password_hash)
    ended = await sessions.delete_sessions_of(conn, [account.id])
    await two_factor.delete_account_challenges(conn, account.id)
    await audit.record(conn, actor_id=account.id, action="password.reset", subject_type="account",
                       subject_id=account.id, detail={"sessions_ended": ended}, now=now)
    return account


async def end_session(conn: asyncpg.Connection, account: Account, session_id: int, now: datetime) -> None:
    if not await sessions.delete_session_by_id(conn, account.id, session_id):
        raise NotFound("That session has ended already.")
    await audit.record(conn, actor_id=account.id, action="session.ended", subject_type="account",
                       subject_id=account.id, detail={"session": session_id}, now=now)


async def end_other_sessions(conn: asyncpg.Connection, account: Account, keep_session: str, now: datetime) -> int:
    ended = await sessions.delete_sessions_of(conn, [account.id], keep_token=keep_session)
    await audit.record(conn, actor_id=account.id, action="session.ended_others", subject_type="account",
                       subject_id=account.id, detail={"sessions_ended": ended}, now=now)
    return ended


async def revoke_app(conn: asyncpg.Connection, account: Account, app_id: int, now: datetime) -> None:
    revoked = await oauth.revoke_app_tokens(conn, account_id=account.id, app_id=app_id, now=now)
    await audit.record(conn, actor_id=account.id, action="app.revoked", subject_type="account",
                       subject_id=account.id, detail={"app": app_id, "tokens": revoked}, now=now)


async def revoke_token(conn: asyncpg.Connection, account: Account, token_id: int, now: datetime) -> None:
    """One access token of one's own (an app may hold several); audited as apps are."""
    await oauth.revoke_token(conn, account_id=account.id, token_id=token_id, now=now)
    await audit.record(conn, actor_id=account.id, action="token.revoked", subject_type="account",
                       subject_id=account.id, detail={"token": token_id}, now=now)


@housekeeping.register("password_resets")
async def housekeep(conn: asyncpg.Connection, now: datetime, settings: Settings) -> None:
    """Reset links past their 24 hours, used or not (the audit log keeps that they were made and used)."""
    await conn.execute("DELETE FROM password_resets WHERE expires_at < $1", now)
