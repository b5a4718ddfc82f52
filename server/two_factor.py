"""Two-factor sign-in: TOTP (authenticator apps), one-time recovery codes, who must use it, and sign-ins that wait
for their second factor or for enrolment.

Owns: the two_factor_secrets, recovery_codes, sign_in_challenges and two_factor_requirements tables; encrypting
the TOTP secret (AES-GCM under a key derived from the node's secret key, bound to the account id, never stored in
clear); checking codes (a time step is accepted once, so a seen code cannot be replayed); the throttle on codes.
Never: sets cookies or speaks HTTP (web/pages/auth.py and security_settings.py do).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg
import pyotp
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from server import audit, housekeeping, sessions
from server.accounts import Account
from server.config import Settings
from server.errors import Conflict, Forbidden, Invalid, TooManyAttempts
from server.tokens import new_token, token_hash

RULES = ("staff", "everyone", "none")  # --require-2fa-for
RECOVERY_CODES = 10
CHALLENGE_LIFETIME = timedelta(minutes=10)
PERIOD = 30  # seconds per TOTP step (RFC 6238's default, what every authenticator app uses)
_CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: codes are typed from paper


class SecretUnreadable(Exception):
    """A stored TOTP secret does not decrypt: the node's secret key changed, or the row was tampered with."""


def _derived_key(secret_key: str, purpose: bytes) -> bytes:
    return hashlib.sha256(b"ambtenaar-two-factor\0" + purpose + b"\0" + secret_key.encode()).digest()


def encrypt_secret(secret_key: str, account_id: int, secret: str) -> bytes:
    """Nonce and AES-GCM ciphertext; the account id is authenticated with it, so a row copied onto another
    account does not decrypt."""
    nonce = os.urandom(12)
    return nonce + AESGCM(_derived_key(secret_key, b"totp")).encrypt(nonce, secret.encode(), str(account_id).encode())


def decrypt_secret(secret_key: str, account_id: int, stored: bytes) -> str:
    try:
        plain = AESGCM(_derived_key(secret_key, b"totp")).decrypt(stored[:12], stored[12:], str(account_id).encode())
    except (InvalidTag, ValueError):
        raise SecretUnreadable("the two-factor secret does not decrypt with this node's secret key") from None
    return plain.decode()


def _recovery_hash(secret_key: str, code: str) -> bytes:
    # Keyed: ~49 bits per code is plenty against guessing online (throttled), not against a stolen table alone.
    return hmac.new(_derived_key(secret_key, b"recovery"), normalise_recovery_code(code).encode(),
                    hashlib.sha256).digest()


def normalise_recovery_code(code: str) -> str:
    return "".join(c for c in code.lower() if c.isalnum())


def new_recovery_code() -> str:
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step a six-digit code belongs to, allowing one step of clock drift either way; None if none."""
    code = "".join(code.split())
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, interval=PERIOD)
    current = int(now.timestamp()) // PERIOD
    found = None
    for step in (current - 1, current, current + 1):  # compare all three: the time taken says nothing
        if hmac.compare_digest(totp.generate_otp(step), code):
            found = step
    return found


def provisioning_uri(secret: str, account: Account, domain: str) -> str:
    """The otpauth:// address an authenticator app reads (as a link on a phone, or typed as the key)."""
    return pyotp.TOTP(secret, interval=PERIOD).provisioning_uri(name=f"{account.username}@{domain}",
                                                                 issuer_name=f"Ambtenaar Online {domain}")


@dataclass(frozen=True)
class Status:
    enabled: bool
    pending: bool  # enrolment begun, not confirmed
    codes_left: int


async def get_status(conn: asyncpg.Connection, account_id: int) -> Status:
    row = await conn.fetchrow(
        "SELECT (SELECT confirmed_at FROM two_factor_secrets WHERE account_id = $1) AS confirmed, "
        "EXISTS (SELECT 1 FROM two_factor_secrets WHERE account_id = $1) AS present, "
        "(SELECT count(*) FROM recovery_codes WHERE account_id = $1 AND used_at IS NULL) AS codes", account_id)
    enabled = row["confirmed"] is not None
    return Status(enabled=enabled, pending=bool(row["present"]) and not enabled, codes_left=int(row["codes"]))


async def exists_organisation_requirement(conn: asyncpg.Connection, organisation_id: int | None) -> bool:
    if organisation_id is None:
        return False
    return bool(await conn.fetchval("SELECT EXISTS (SELECT 1 FROM two_factor_requirements WHERE organisation_id = $1)",
                                    organisation_id))


async def is_required(conn: asyncpg.Connection, account: Account, node_rule: str) -> bool:
    """Whether this person must sign in with a second factor: the node's rule (--require-2fa-for) or their
    organisation's."""
    if node_rule == "everyone" or (node_rule == "staff" and (account.is_admin or account.is_moderator)):
        return True
    return await exists_organisation_requirement(conn, account.organisation_id)


async def setup_needed(conn: asyncpg.Connection, account: Account, node_rule: str) -> bool:
    """Whether this signed-in person must use a second factor and has none confirmed (a session from before the
    node's rule or their organisation's was tightened)."""
    return await is_required(conn, account, node_rule) and not (await get_status(conn, account.id)).enabled


async def begin_enrolment(conn: asyncpg.Connection, secret_key: str, account: Account, now: datetime) -> str:
    """The secret for the authenticator app: the one begun before if enrolment is under way, else a new one."""
    row = await conn.fetchrow("SELECT secret_enc, confirmed_at FROM two_factor_secrets WHERE account_id = $1",
                              account.id)
    if row is not None and row["confirmed_at"] is not None:
        raise Conflict("Two-factor sign-in is already on for this account.")
    if row is not None:
        try:
            return decrypt_secret(secret_key, account.id, bytes(row["secret_enc"]))
        except SecretUnreadable:
            pass  # begun under another secret key: start again
    secret = pyotp.random_base32(32)  # 160 bits, as RFC 4226 recommends
    await conn.execute(
        "INSERT INTO two_factor_secrets (account_id, secret_enc, created_at) VALUES ($1, $2, $3) "
        "ON CONFLICT (account_id) DO UPDATE SET secret_enc = EXCLUDED.secret_enc, created_at = EXCLUDED.created_at, "
        "confirmed_at = NULL, last_step = NULL", account.id, encrypt_secret(secret_key, account.id, secret), now)
    return secret


async def _insert_recovery_codes(conn: asyncpg.Connection, secret_key: str, account_id: int,
                                 now: datetime) -> list[str]:
    await conn.execute("DELETE FROM recovery_codes WHERE account_id = $1", account_id)
    codes = [new_recovery_code() for _ in range(RECOVERY_CODES)]
    await conn.executemany("INSERT INTO recovery_codes (account_id, code_hash, created_at) VALUES ($1, $2, $3)",
                           [(account_id, _recovery_hash(secret_key, c), now) for c in codes])
    return codes


async def confirm_enrolment(conn: asyncpg.Connection, secret_key: str, account: Account, code: str,
                            now: datetime) -> list[str]:
    """Switch two-factor sign-in on once the person proved their app shows the right codes; the ten recovery
    codes, shown once. Run in the caller's transaction, after `check_throttle`."""
    row = await conn.fetchrow("SELECT secret_enc, confirmed_at FROM two_factor_secrets WHERE account_id = $1 "
                              "FOR UPDATE", account.id)
    if row is None or row["confirmed_at"] is not None:
        raise Conflict("Start setting up two-factor sign-in again: this step has expired.")
    step = matching_step(decrypt_secret(secret_key, account.id, bytes(row["secret_enc"])), code, now)
    if step is None:
        raise Invalid("That code is not right. Check the time on your phone and type the code it shows now.")
    await conn.execute("UPDATE two_factor_secrets SET confirmed_at = $2, last_step = $3 WHERE account_id = $1",
                       account.id, now, step)
    codes = await _insert_recovery_codes(conn, secret_key, account.id, now)
    await audit.record(conn, actor_id=account.id, action="two_factor.enabled", subject_type="account",
                       subject_id=account.id, detail={"method": "totp", "recovery_codes": len(codes)}, now=now)
    return codes


async def regenerate_recovery_codes(conn: asyncpg.Connection, secret_key: str, account: Account,
                                    now: datetime) -> list[str]:
    if not (await get_status(conn, account.id)).enabled:
        raise Conflict("Two-factor sign-in is not on for this account.")
    codes = await _insert_recovery_codes(conn, secret_key, account.id, now)
    await audit.record(conn, actor_id=account.id, action="two_factor.recovery_codes_replaced", subject_type="account",
                       subject_id=account.id, detail={"recovery_codes": len(codes)}, now=now)
    return codes


async def disable(conn: asyncpg.Connection, account: Account, *, node_rule: str, now: datetime,
                  actor_id: int | None) -> None:
    """Switch it off (the person themselves, not while it is required of them; or the operator at the command
    line, `actor_id` None, for someone who lost both their phone and their codes)."""
    if actor_id is not None and await is_required(conn, account, node_rule):
        raise Forbidden("Two-factor sign-in is required for your account, so it cannot be switched off.")
    status = await conn.execute("DELETE FROM two_factor_secrets WHERE account_id = $1", account.id)
    await conn.execute("DELETE FROM recovery_codes WHERE account_id = $1", account.id)
    if status.endswith(" 1"):
        await audit.record(conn, actor_id=actor_id, action="two_factor.disabled", subject_type="account",
                           subject_id=account.id, detail={}, now=now)


def _throttle_keys(account_id: int, client_address: str) -> list[str]:
    return [f"2fa:account:{account_id}", f"2fa:addr:{client_address}"]


async def check_throttle(conn: asyncpg.Connection, account_id: int, client_address: str, *, now: datetime,
                         max_failures: int, window: timedelta) -> None:
    if await sessions.is_throttled(conn, _throttle_keys(account_id, client_address), now - window, max_failures):
        raise TooManyAttempts("Too many wrong codes. Wait a few minutes and try again.")


async def record_failure(conn: asyncpg.Connection, account_id: int, client_address: str, now: datetime) -> None:
    """Count a wrong code; call it outside the step's transaction, so the count survives the refusal."""
    await sessions.insert_failures(conn, _throttle_keys(account_id, client_address), now)


async def verify_second_factor(conn: asyncpg.Connection, secret_key: str, account: Account, code: str, *,
                               client_address: str, now: datetime, max_failures: int, window: timedelta) -> str:
    """Check a TOTP code or a recovery code at sign-in; "totp" or "recovery". Each accepted code is spent: a TOTP
    time step once, a recovery code once. Wrong codes are counted per account and per address like passwords.

    Call it outside a transaction: a refused code must still be counted."""
    keys = _throttle_keys(account.id, client_address)
    method: str | None = None
    throttled = False
    async with conn.transaction():
        await sessions.lock_throttle(conn, keys)  # guesses sent at once must not all read the count first
        try:
            await check_throttle(conn, account.id, client_address, now=now, max_failures=max_failures,
                                 window=window)
        except TooManyAttempts:
            throttled = True
        if not throttled:
            method = await _spend_code(conn, secret_key, account, code, now)
            if method is None:
                await sessions.insert_failures(conn, keys, now)
            else:
                await sessions.delete_failures(conn, keys[:1])
                if method == "recovery":
                    left = await conn.fetchval("SELECT count(*) FROM recovery_codes WHERE account_id = $1 "
                                               "AND used_at IS NULL", account.id)
                    await audit.record(conn, actor_id=account.id, action="two_factor.recovery_code_used",
                                       subject_type="account", subject_id=account.id,
                                       detail={"codes_left": int(left)}, now=now)
    if throttled:
        raise TooManyAttempts("Too many wrong codes. Wait a few minutes and try again.")
    if method is None:
        raise Invalid("That code is not right, or it was used already. Type the code your app shows now, or one "
                      "of your recovery codes.")
    return method


async def _spend_code(conn: asyncpg.Connection, secret_key: str, account: Account, code: str,
                      now: datetime) -> str | None:
    row = await conn.fetchrow("SELECT secret_enc FROM two_factor_secrets WHERE account_id = $1 "
                              "AND confirmed_at IS NOT NULL", account.id)
    if row is None:
        return None
    step = matching_step(decrypt_secret(secret_key, account.id, bytes(row["secret_enc"])), code, now)
    if step is not None:
        # Only a later step than the last one accepted: a code seen over a shoulder or in a log is worth nothing.
        accepted = await conn.fetchval(
            "UPDATE two_factor_secrets SET last_step = $2 WHERE account_id = $1 "
            "AND (last_step IS NULL OR last_step < $2) RETURNING account_id", account.id, step)
        return "totp" if accepted else None
    if len(normalise_recovery_code(code)) != 10:
        return None
    spent = await conn.fetchval(
        "UPDATE recovery_codes SET used_at = $3 WHERE account_id = $1 AND code_hash = $2 AND used_at IS NULL "
        "RETURNING id", account.id, _recovery_hash(secret_key, code), now)
    return "recovery" if spent else None


# Organisations' requirement.

def check_may_set_requirement(actor: Account, organisation_id: int) -> None:
    """An active instance admin, or an active admin of this organisation."""
    if not actor.administers(organisation_id):
        raise Forbidden("Only an admin of this organisation can change this.")


async def set_organisation_requirement(conn: asyncpg.Connection, actor: Account, organisation_id: int,
                                       required: bool, now: datetime, keep_session: str = "") -> int:
    """An organisation admin (or an instance admin) requires two-factor sign-in of the organisation's members,
    or stops requiring it. Switching it on signs out members who have not set it up (but the session the admin
    acts from, `keep_session`), so that their next sign-in leads them to set it up; how many were signed out is
    returned and audited."""
    check_may_set_requirement(actor, organisation_id)
    ended = 0
    if required:
        inserted = await conn.fetchval(
            "INSERT INTO two_factor_requirements (organisation_id, required_at, required_by) VALUES ($1, $2, $3) "
            "ON CONFLICT (organisation_id) DO NOTHING RETURNING organisation_id", organisation_id, now, actor.id)
        if inserted is None:
            return 0
        without = await conn.fetch(
            "SELECT a.id FROM accounts a WHERE a.organisation_id = $1 AND NOT EXISTS (SELECT 1 FROM "
            "two_factor_secrets t WHERE t.account_id = a.id AND t.confirmed_at IS NOT NULL)", organisation_id)
        ended = await sessions.delete_sessions_of(conn, [r["id"] for r in without], keep_token=keep_session)
    else:
        status = await conn.execute("DELETE FROM two_factor_requirements WHERE organisation_id = $1",
                                    organisation_id)
        if not status.endswith(" 1"):
            return 0
    await audit.record(conn, actor_id=actor.id, action="organisation.two_factor_required" if required
                       else "organisation.two_factor_not_required", subject_type="organisation",
                       subject_id=organisation_id, detail={"sessions_ended": ended} if required else {}, now=now)
    return ended


# Sign-ins half done: the password was right, the second factor (or enrolment) is still to come. They are not
# sessions: nothing but the two-factor pages reads them, so such a visitor is signed in nowhere.

@dataclass(frozen=True)
class Challenge:
    account_id: int
    stage: str  # second_factor | enrol
    next_path: str
    expires_at: datetime


async def insert_challenge(conn: asyncpg.Connection, account_id: int, stage: str, next_path: str,
                           now: datetime) -> str:
    token = new_token()
    await conn.execute("INSERT INTO sign_in_challenges (token_hash, account_id, stage, next_path, created_at, "
                       "expires_at) VALUES ($1, $2, $3, $4, $5, $6)", token_hash(token), account_id, stage,
                       next_path, now, now + CHALLENGE_LIFETIME)
    return token


async def get_challenge(conn: asyncpg.Connection, token: str, now: datetime) -> Challenge | None:
    row = await conn.fetchrow("SELECT c.account_id, c.stage, c.next_path, c.expires_at FROM sign_in_challenges c "
                              "JOIN accounts a ON a.id = c.account_id WHERE c.token_hash = $1 AND c.expires_at > $2 "
                              "AND a.disabled_at IS NULL AND a.suspended_at IS NULL", token_hash(token), now)
    return Challenge(**dict(row)) if row else None


async def delete_challenge(conn: asyncpg.Connection, token: str) -> bool:
    """Spend a challenge; False when it was spent already (two tabs finishing the same sign-in)."""
    status = await conn.execute("DELETE FROM sign_in_challenges WHERE token_hash = $1", token_hash(token))
    return status.endswith(" 1")


async def delete_account_challenges(conn: asyncpg.Connection, account_id: int) -> None:
    await conn.execute("DELETE FROM sign_in_challenges WHERE account_id = $1", account_id)


@housekeeping.register("sign_in_challenges")
async def housekeep(conn: asyncpg.Connection, now: datetime, settings: Settings) -> None:
    """Sign-ins that were never finished, and set-ups begun a day ago and never confirmed."""
    await conn.execute("DELETE FROM sign_in_challenges WHERE expires_at < $1", now)
    await conn.execute("DELETE FROM two_factor_secrets WHERE confirmed_at IS NULL AND created_at < $1",
                       now - timedelta(days=1))
