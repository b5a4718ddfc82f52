"""What a person keeps about other accounts, in the client API: endorsements ("feature on profile"), private
notes, and familiar followers.

Owns: /api/v1/accounts/:id/pin, /unpin, /note, /api/v1/endorsements and /api/v1/accounts/familiar_followers.
Answers with Relationship entities (web/api/accounts.py builds them, `endorsed` and `note` included). Never: SQL.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server import accounts, endorsements, follows
from server.accounts import Account
from server.db.pool import connection, transaction
from web.api.accounts import relationship_answer, target_account
from web.api.entities import render_accounts
from web.api.http import ApiCall, ApiError, api, json_response, link_header


Change = Callable[[asyncpg.Connection, ApiCall, Account, Account], Awaitable[None]]


def _on_account(change: Change, name: str) -> Callable[[Request], Awaitable[Response]]:
    """An endpoint that changes what the viewer keeps about the account in the path; answers the Relationship."""
    @api(scope="write:accounts")
    async def handler(call: ApiCall) -> Response:
        viewer = call.need_account()
        target = await target_account(call)
        async with transaction(call.deps.pool) as conn:
            await change(conn, call, viewer, target)
        return await relationship_answer(call, target.id)
    handler.__name__ = name
    return handler


async def _endorse(conn: asyncpg.Connection, call: ApiCall, viewer: Account, target: Account) -> None:
    await endorsements.endorse(conn, viewer, target, call.deps.now())


async def _unendorse(conn: asyncpg.Connection, call: ApiCall, viewer: Account, target: Account) -> None:
    await endorsements.delete_endorsement(conn, viewer.id, target.id)


async def _note(conn: asyncpg.Connection, call: ApiCall, viewer: Account, target: Account) -> None:
    await endorsements.upsert_note(conn, viewer.id, target.id, call.params.str("comment") or "", call.deps.now())


@api(scope="read:accounts")
async def endorsed(call: ApiCall) -> Response:
    viewer = call.need_account()
    limit = call.params.int("limit", 40, minimum=1, maximum=80) or 40
    async with connection(call.deps.pool) as conn:
        rows = await endorsements.list_endorsed_ids(conn, viewer.id, max_id=call.params.id("max_id"),
                                                    since_id=call.params.id("since_id"), limit=limit)
        found = await accounts.list_accounts_by_ids(conn, [target for _, target in rows])
        people = [found[t] for _, t in rows if t in found and found[t].is_active]
        rendered = await render_accounts(conn, call.deps.settings, people)
    return json_response(rendered, headers=link_header(call.request, rows[0][0] if rows else None,
                                                       rows[-1][0] if rows else None, len(rows) >= limit))


@api(scope="read:follows")
async def familiar_followers(call: ApiCall) -> Response:
    """For each id: accounts the viewer follows that follow it too (Mastodon answers every id asked, with an
    empty list when there are none)."""
    viewer = call.need_account()
    ids = call.ids()
    if not ids:
        raise ApiError(422, "Validation failed: id[] names the accounts to ask about")
    async with connection(call.deps.pool) as conn:
        familiar = await follows.list_familiar_followers(conn, viewer.id, ids)
        found = await accounts.list_accounts_by_ids(conn, list({i for v in familiar.values() for i in v}))
        active = [a for a in found.values() if a.is_active]
        rendered = {int(e["id"]): e for e in await render_accounts(conn, call.deps.settings, active)}
    return json_response([{"id": str(i), "accounts": [rendered[a] for a in familiar.get(i, []) if a in rendered]}
                          for i in ids])


ROUTES = [
    Route("/api/v1/accounts/familiar_followers", familiar_followers, methods=["GET"]),
    Route("/api/v1/endorsements", endorsed, methods=["GET"]),
    Route("/api/v1/accounts/{id}/pin", _on_account(_endorse, "endorse"), methods=["POST"]),
    Route("/api/v1/accounts/{id}/unpin", _on_account(_unendorse, "unendorse"), methods=["POST"]),
    Route("/api/v1/accounts/{id}/note", _on_account(_note, "note"), methods=["POST"]),
]
