"""Access tokens of an organisation's own account, made by its webcare team for a webcare tool or case system.

Owns: the webcare_tokens table (migration 0053): which organisation and which member made each such token; the
rule for making, listing and revoking them (the one webcare rule, `webcare.check_team`: its webcare members, its
organisation admins and instance admins), each audited (`webcare.token_created`, `webcare.token_revoked`: who,
which scopes, the token's id, never the token). A post through such a token is a post of the organisation's
account written by the token's maker: `writer_of` gives the API that person, who goes into `posts.written_by_id`
through `compose.compose_post(written_by=...)`, so four eyes and the audit log know the writer; when the maker
has left the team, posting through the token is refused (publishing checks the writer against the rule).
Never: the tokens themselves (server/oauth.py stores them, hashed; the plain token is returned once), HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from server import accounts, audit, oauth, scopes, webcare
from server.accounts import Account
from server.errors import Invalid, NotFound

MAX_NAME_CHARS = 200


@dataclass(frozen=True)
class OrganisationToken:
    id: int
    name: str | None  # the app name shown with it
    scopes: tuple[str, ...]
    created_at: datetime
    last_used_at: datetime | None
    created_by: Account | None  # None: made another way (e.g. `ambtenaar token create` for the account)


async def create_organisation_token(conn: asyncpg.Connection, person: Account, organisation_id: int, *,
                                    scopes: str, name: str, now: datetime) -> str:
    """A new token for the organisation's account; the plain token, shown once (only its hash is kept)."""
    webcare.check_team(person, organisation_id)
    requested = _scopes(scopes)
    name = " ".join(name.split())
    if not name or len(name) > MAX_NAME_CHARS:
        raise Invalid("Give the token a name of 1 to 200 characters (the tool it is for).")
    org_account = await webcare.organisation_account(conn, organisation_id)
    app = await oauth.get_or_insert_named_app(conn, name)
    issued = await oauth.insert_token(conn, app_id=app.id, account_id=org_account.id, scopes=" ".join(requested),
                                      now=now, with_refresh=False)
    await conn.execute("INSERT INTO webcare_tokens (token_id, organisation_id, created_by, created_at) "
                       "VALUES ($1, $2, $3, $4)", issued.token.id, organisation_id, person.id, now)
    await audit.record(conn, actor_id=person.id, action="webcare.token_created", subject_type="organisation",
                       subject_id=organisation_id, detail={"token_id": str(issued.token.id), "name": name,
                                                           "scopes": list(requested),
                                                           "account": org_account.username}, now=now)
    return issued.access_token


def _scopes(text: str) -> tuple[str, ...]:
    requested = scopes.parse_scopes(text, default="")
    if not requested:
        raise Invalid("Choose at least one scope, e.g. read write.")
    if "webcare" in requested:
        raise Invalid("The organisation's own account is not on its webcare team: its tokens cannot have the "
                      "webcare scope (give that to a member's token).")
    return requested


async def list_organisation_tokens(conn: asyncpg.Connection, person: Account,
                                   organisation_id: int) -> list[OrganisationToken]:
    """Every active token of the organisation's account, newest first, with who made it where we know."""
    webcare.check_team(person, organisation_id)
    org_account = await webcare.organisation_account(conn, organisation_id)
    tokens = await oauth.list_tokens(conn, org_account.id)
    makers = {r["token_id"]: r["created_by"] for r in await conn.fetch(
        "SELECT token_id, created_by FROM webcare_tokens WHERE token_id = ANY($1)", [t.id for t in tokens])}
    people = await accounts.list_accounts_by_ids(conn, list(set(makers.values())))
    return [OrganisationToken(id=t.id, name=t.app_name, scopes=t.scopes, created_at=t.created_at,
                              last_used_at=t.last_used_at, created_by=people.get(makers.get(t.id, -1)))
            for t in tokens]


async def revoke_organisation_token(conn: asyncpg.Connection, person: Account, organisation_id: int, token_id: int,
                                    now: datetime) -> None:
    """Any active token of the organisation's account stops working (also one a teammate made)."""
    webcare.check_team(person, organisation_id)
    org_account = await webcare.organisation_account(conn, organisation_id)
    try:
        await oauth.revoke_token(conn, account_id=org_account.id, token_id=token_id, now=now)
    except NotFound:
        raise NotFound("The organisation's account has no active token with that id.") from None
    await audit.record(conn, actor_id=person.id, action="webcare.token_revoked", subject_type="organisation",
                       subject_id=organisation_id, detail={"token_id": str(token_id),
                                                           "account": org_account.username}, now=now)


async def writer_of(conn: asyncpg.Connection, token_id: int) -> Account | None:
    """The member who made this token of an organisation's account, or None for any other token."""
    maker = await conn.fetchval("SELECT created_by FROM webcare_tokens WHERE token_id = $1", token_id)
    return await accounts.get_account(conn, maker) if maker is not None else None


async def revoke_made_by(conn: asyncpg.Connection, person_id: int, now: datetime) -> int:
    """Offboarding (server/offboarding.py): the organisation account's tokens this person made stop working; how
    many. The tokens' rows stay, so the audit log and `writer_of` still name their maker."""
    token_ids = [r["token_id"] for r in await conn.fetch("SELECT token_id FROM webcare_tokens WHERE created_by = $1",
                                                         person_id)]
    return await oauth.revoke_tokens_by_ids(conn, token_ids, now) if token_ids else 0
