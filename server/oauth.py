"""OAuth2 apps, authorization codes and access tokens, as Mastodon clients expect them.

Owns: the oauth_apps, oauth_codes and oauth_tokens tables. Secrets are stored only as SHA-256 hashes.
Never: speaks HTTP (web/api/oauth.py does).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import asyncpg

from server import housekeeping, streams
from server.errors import Forbidden, Invalid, NotFound
from server.ids import new_id
from server.tokens import new_token, token_hash

OOB_REDIRECT = "urn:ietf:wg:oauth:2.0:oob"
CODE_LIFETIME = timedelta(minutes=10)


@dataclass(frozen=True)
class App:
    id: int
    name: str
    website: str
    redirect_uris: list[str]
    scopes: str
    client_id: str
    created_at: datetime


@dataclass(frozen=True)
class NewApp:
    app: App
    client_secret: str


@dataclass(frozen=True)
class AccessToken:
    id: int
    app_id: int | None
    account_id: int | None
    scopes: tuple[str, ...]
    created_at: datetime
    last_used_at: datetime | None
    app_name: str | None


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    refresh_token: str | None
    token: AccessToken


_APP_COLUMNS = "id, name, website, redirect_uris, scopes, client_id, created_at"


def validate_redirect_uris(uris: list[str]) -> None:
    if not uris:
        raise Invalid("redirect_uris must name at least one URI.")
    for uri in uris:
        if uri == OOB_REDIRECT:
            continue
        parts = urlsplit(uri)
        if not parts.scheme or parts.fragment or (parts.scheme in ("http", "https") and not parts.netloc):
            raise Invalid("redirect_uris must be absolute URIs without a fragment, or %(oob)s.", oob=OOB_REDIRECT)
        if parts.scheme.lower() in ("javascript", "data", "vbscript", "file"):
            raise Invalid("redirect_uris may not use the %(scheme)s scheme.", scheme=parts.scheme)


def is_http_link(website: str) -> bool:
    """Whether a website may be a link: an absolute http(s) address with a host and no space or control
    character. The authorize page asks this of stored rows too, which may predate validate_website."""
    parts = urlsplit(website)
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc) \
        and not any(c.isspace() or unicodedata.category(c)[0] == "C" for c in website)


def validate_website(website: str) -> str:
    """An app's website is shown as a link on the authorize page: an absolute http(s) address, or nothing."""
    website = website.strip()
    if website and (not is_http_link(website) or len(website) > 2000):
        raise Invalid("website must be an absolute http or https address.")
    return website


async def insert_app(conn: asyncpg.Connection, *, name: str, website: str, redirect_uris: list[str],
                     scopes: str) -> NewApp:
    if not name.strip() or len(name) > 200:
        raise Invalid("client_name must be 1 to 200 characters.")
    validate_redirect_uris(redirect_uris)
    website = validate_website(website)
    client_id, secret = new_token(), new_token()
    row = await conn.fetchrow(
        f"INSERT INTO oauth_apps (id, name, website, redirect_uris, scopes, client_id, client_secret_hash) "
        f"VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {_APP_COLUMNS}",
        new_id(), name.strip(), website, redirect_uris, scopes, client_id, token_hash(secret))
    return NewApp(App(**dict(row)), secret)


async def get_app_by_client_id(conn: asyncpg.Connection, client_id: str) -> App | None:
    row = await conn.fetchrow(f"SELECT {_APP_COLUMNS} FROM oauth_apps WHERE client_id = $1", client_id)
    return App(**dict(row)) if row else None


async def authenticate_app(conn: asyncpg.Connection, client_id: str, client_secret: str) -> App:
    row = await conn.fetchrow(f"SELECT {_APP_COLUMNS}, client_secret_hash FROM oauth_apps WHERE client_id = $1",
                              client_id)
    if row is None or not hmac.compare_digest(bytes(row["client_secret_hash"]), token_hash(client_secret)):
        raise Forbidden("Client authentication failed: unknown client_id or wrong client_secret.")
    values = dict(row)
    values.pop("client_secret_hash")
    return App(**values)


# RFC 7636: a verifier is 43 to 128 unreserved characters; an S256 challenge is 32 bytes in unpadded base64url.
_VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")
_S256_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")


def pkce_s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def check_code_challenge(challenge: str, method: str) -> None:
    """S256 only, as the server metadata says. A challenge without a method is refused rather than guessed: RFC 7636
    reads it as plain, which we do not take (Mastodon refuses it too)."""
    if method and method != "S256":
        raise Invalid("Only the S256 code_challenge_method is supported.")
    if challenge and not method:
        raise Invalid("A code_challenge needs code_challenge_method=S256.")
    if challenge and not _S256_CHALLENGE.fullmatch(challenge):
        raise Invalid("code_challenge must be an S256 hash: 43 characters of unpadded base64url.")


async def insert_code(conn: asyncpg.Connection, *, app: App, account_id: int, scopes: str, redirect_uri: str,
                      code_challenge: str | None, now: datetime) -> str:
    code = new_token()
    await conn.execute(
        "INSERT INTO oauth_codes (code_hash, app_id, account_id, scopes, redirect_uri, code_challenge, created_at, "
        "expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        token_hash(code), app.id, account_id, scopes, redirect_uri, code_challenge, now, now + CODE_LIFETIME)
    return code


@dataclass(frozen=True)
class SpentCode:
    app_id: int
    account_id: int
    scopes: str
    redirect_uri: str
    code_challenge: str | None


async def spend_code(conn: asyncpg.Connection, code: str, now: datetime) -> SpentCode | None:
    """Mark a code used. Callers commit this before checking it, so that a code survives no failed exchange."""
    row = await conn.fetchrow(
        "UPDATE oauth_codes SET used_at = $2 WHERE code_hash = $1 AND used_at IS NULL AND expires_at > $2 "
        "RETURNING app_id, account_id, scopes, redirect_uri, code_challenge", token_hash(code), now)
    return SpentCode(**dict(row)) if row else None


def secret_required(grant: str, spent: SpentCode | None) -> bool:
    """Whether the client must authenticate with its secret. Every app has one (RFC 6749 section 2.1:
    confidential), so every grant needs it, except a code issued with a PKCE challenge: there the verifier, which
    check_spent_code demands, proves the client instead (RFC 7636). Such a client refreshes with its secret too.
    (An unknown or spent code is refused by check_spent_code either way.)"""
    if grant != "authorization_code":
        return True
    return spent is not None and not spent.code_challenge


def check_spent_code(spent: SpentCode | None, *, app: App, redirect_uri: str, code_verifier: str | None) -> None:
    """Every mismatch is the same refusal (RFC 6749 section 5.2), except a PKCE mismatch, which says so. The
    redirect_uri must be the one the code was issued for (the caller makes sure one was sent)."""
    if spent is None or spent.app_id != app.id or redirect_uri != spent.redirect_uri:
        raise Invalid("The authorization code is invalid, expired, already used, or was issued to another client.")
    if spent.code_challenge:
        if not code_verifier or not _VERIFIER.fullmatch(code_verifier) \
                or not hmac.compare_digest(pkce_s256(code_verifier), spent.code_challenge):
            raise Invalid("The PKCE code_verifier does not match the code_challenge.")
    elif code_verifier:
        # OAuth 2.1 (and RFC 9700): a verifier for a code issued without a challenge is refused, so that PKCE
        # cannot be stripped from the authorization request by whoever holds the code.
        raise Invalid("A code_verifier was sent, but the code was issued without a code_challenge.")


_TOKEN_SELECT = ("SELECT t.id, t.app_id, t.account_id, t.scopes, t.created_at, t.last_used_at, a.name AS app_name "
                 "FROM oauth_tokens t LEFT JOIN oauth_apps a ON a.id = t.app_id")


def _token(row: asyncpg.Record | dict[str, object]) -> AccessToken:
    values = dict(row)
    values["scopes"] = tuple(values["scopes"].split())
    return AccessToken(**values)


async def insert_token(conn: asyncpg.Connection, *, app_id: int | None, account_id: int | None, scopes: str,
                       now: datetime, with_refresh: bool = True) -> IssuedToken:
    access, refresh = new_token(), new_token() if with_refresh else None
    token_id = new_id(now)
    await conn.execute(
        "INSERT INTO oauth_tokens (id, token_hash, refresh_hash, app_id, account_id, scopes, created_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7)",
        token_id, token_hash(access), token_hash(refresh) if refresh else None, app_id, account_id, scopes, now)
    row = await conn.fetchrow(f"{_TOKEN_SELECT} WHERE t.id = $1", token_id)
    return IssuedToken(access, refresh, _token(row))


async def get_active_token(conn: asyncpg.Connection, access_token: str, now: datetime) -> AccessToken | None:
    """The token behind a bearer string; records its use at most once a minute to keep writes rare."""
    row = await conn.fetchrow(f"{_TOKEN_SELECT} WHERE t.token_hash = $1 AND t.revoked_at IS NULL",
                              token_hash(access_token))
    if row is None:
        return None
    if row["last_used_at"] is None or now - row["last_used_at"] > timedelta(minutes=1):
        await conn.execute("UPDATE oauth_tokens SET last_used_at = $2 WHERE id = $1", row["id"], now)
    return _token(row)


async def refresh_token(conn: asyncpg.Connection, *, app: App, refresh: str, scopes: str | None,
                        now: datetime) -> IssuedToken:
    """Swap a refresh token for a new pair; the old access token stops working (rotation)."""
    row = await conn.fetchrow(
        "UPDATE oauth_tokens SET revoked_at = $3 WHERE refresh_hash = $1 AND app_id = $2 AND revoked_at IS NULL "
        "RETURNING account_id, scopes", token_hash(refresh), app.id, now)
    if row is None:
        raise Invalid("The refresh token is invalid or was already used.")
    await _announce(conn, [row])
    granted = str(row["scopes"])
    if scopes and not set(scopes.split()) <= set(granted.split()):
        raise Invalid("A refreshed token cannot have more scopes than the original.")
    return await insert_token(conn, app_id=app.id, account_id=row["account_id"], scopes=scopes or granted, now=now)


async def revoke_by_secret(conn: asyncpg.Connection, *, app: App, token: str, now: datetime) -> None:
    """RFC 7009: revoking an unknown token is not an error."""
    await _announce(conn, await conn.fetch(
        "UPDATE oauth_tokens SET revoked_at = $3 WHERE (token_hash = $1 OR refresh_hash = $1) "
        "AND app_id = $2 AND revoked_at IS NULL RETURNING account_id", token_hash(token), app.id, now))


async def _announce(conn: asyncpg.Connection, revoked: list[asyncpg.Record]) -> None:
    """Streams opened with a revoked token close at once, in every process (server/streams.py)."""
    await streams.publish_access_changed(conn, [r["account_id"] for r in revoked if r["account_id"] is not None])


async def revoke_token(conn: asyncpg.Connection, *, account_id: int, token_id: int, now: datetime) -> None:
    revoked = await conn.fetch("UPDATE oauth_tokens SET revoked_at = $3 WHERE id = $1 AND account_id = $2 "
                               "AND revoked_at IS NULL RETURNING account_id", token_id, account_id, now)
    if not revoked:
        raise NotFound("There is no active token with that id for this account.")
    await _announce(conn, revoked)


async def revoke_tokens_by_ids(conn: asyncpg.Connection, token_ids: list[int], now: datetime) -> int:
    """Revoke these tokens where still active; how many were."""
    revoked = await conn.fetch("UPDATE oauth_tokens SET revoked_at = $2 WHERE id = ANY($1::bigint[]) "
                               "AND revoked_at IS NULL RETURNING account_id", token_ids, now)
    await _announce(conn, revoked)
    return len(revoked)


async def list_tokens(conn: asyncpg.Connection, account_id: int) -> list[AccessToken]:
    rows = await conn.fetch(f"{_TOKEN_SELECT} WHERE t.account_id = $1 AND t.revoked_at IS NULL ORDER BY t.id DESC",
                            account_id)
    return [_token(r) for r in rows]


async def get_or_insert_named_app(conn: asyncpg.Connection, name: str) -> App:
    """An app for tokens made by an admin (CLI) rather than through the OAuth flow; one row per name."""
    row = await conn.fetchrow(f"SELECT {_APP_COLUMNS} FROM oauth_apps WHERE name = $1 AND "
                              f"redirect_uris = ARRAY[$2]::text[] ORDER BY id LIMIT 1", name, OOB_REDIRECT)
    if row:
        return App(**dict(row))
    return (await insert_app(conn, name=name, website="", redirect_uris=[OOB_REDIRECT],
                             scopes="read write follow push profile")).app


async def revoke_token_by_id(conn: asyncpg.Connection, token_id: int, now: datetime) -> None:
    revoked = await conn.fetch("UPDATE oauth_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL "
                               "RETURNING account_id", token_id, now)
    if not revoked:
        raise NotFound("There is no active token with id %(id)s.", id=token_id)
    await _announce(conn, revoked)


async def list_all_tokens(conn: asyncpg.Connection) -> list[tuple[AccessToken, str | None]]:
    rows = await conn.fetch(f"SELECT q.*, acc.username FROM ({_TOKEN_SELECT} WHERE t.revoked_at IS NULL) q "
                            f"LEFT JOIN accounts acc ON acc.id = q.account_id ORDER BY q.id")
    result = []
    for r in rows:
        values = dict(r)
        username = values.pop("username")
        result.append((_token(values), username))
    return result


@housekeeping.register("oauth_codes")
async def delete_expired_codes(conn: asyncpg.Connection, now: datetime, settings: object = None) -> None:
    await conn.execute("DELETE FROM oauth_codes WHERE expires_at < $1", now - timedelta(days=1))


@dataclass(frozen=True)
class AuthorizedApp:
    """An app with access to one person's account: its active tokens taken together."""
    id: int
    name: str
    website: str
    scopes: tuple[str, ...]
    tokens: int
    first_authorized_at: datetime
    last_used_at: datetime | None


async def list_authorized_apps(conn: asyncpg.Connection, account_id: int) -> list[AuthorizedApp]:
    rows = await conn.fetch(
        "SELECT a.id, a.name, a.website, string_agg(t.scopes, ' ') AS scopes, count(*) AS tokens, "
        "min(t.created_at) AS first_authorized_at, max(t.last_used_at) AS last_used_at "
        "FROM oauth_tokens t JOIN oauth_apps a ON a.id = t.app_id WHERE t.account_id = $1 AND t.revoked_at IS NULL "
        "GROUP BY a.id, a.name, a.website ORDER BY min(t.created_at) DESC", account_id)
    return [AuthorizedApp(id=r["id"], name=r["name"], website=r["website"],
                          scopes=tuple(dict.fromkeys(str(r["scopes"]).split())), tokens=int(r["tokens"]),
                          first_authorized_at=r["first_authorized_at"], last_used_at=r["last_used_at"]) for r in rows]


async def revoke_app_tokens(conn: asyncpg.Connection, *, account_id: int, app_id: int, now: datetime) -> int:
    """Take an app's access to one account away: every token it holds for the account (and their refresh tokens)
    stops working, and its unspent codes for the account go; how many tokens were revoked."""
    revoked = await conn.fetch("UPDATE oauth_tokens SET revoked_at = $3 WHERE account_id = $1 AND app_id = $2 "
                               "AND revoked_at IS NULL RETURNING account_id", account_id, app_id, now)
    await conn.execute("UPDATE oauth_codes SET used_at = $3 WHERE account_id = $1 AND app_id = $2 AND used_at IS NULL",
                       account_id, app_id, now)
    if not revoked:
        raise NotFound("That app has no access to your account.")
    await _announce(conn, revoked)
    return len(revoked)


async def revoke_all_tokens(conn: asyncpg.Connection, *, account_id: int, now: datetime) -> int:
    """Every app's access to one account ends (offboarding): its tokens and unspent codes; how many tokens."""
    revoked = await conn.fetch("UPDATE oauth_tokens SET revoked_at = $2 WHERE account_id = $1 AND revoked_at IS NULL "
                               "RETURNING account_id", account_id, now)
    await conn.execute("UPDATE oauth_codes SET used_at = $2 WHERE account_id = $1 AND used_at IS NULL", account_id, now)
    await _announce(conn, revoked)
    return len(revoked)


async def list_unrevoked(conn: asyncpg.Connection, token_ids: list[int]) -> set[int]:
    """Which of these tokens are not revoked (the streaming API checks the tokens of its open streams again)."""
    rows = await conn.fetch("SELECT id FROM oauth_tokens WHERE id = ANY($1::bigint[]) AND revoked_at IS NULL",
                            token_ids)
    return {int(r["id"]) for r in rows}
