"""Answering a webcare conversation as the organisation: the compose sequence, as the organisation's account.

Owns: the steps of an answer: the one webcare rule, the reply target (the citizen's latest message), the
visibility (as the thread was: public, or direct for a direct or followers-only start), the citizen's @handle in
front so the answer reaches them, the official voice, and the warning when a teammate claimed or answered since
the writer's page was shown. The post itself goes through `compose.compose_post` and `publishing.create_post`, so
the organisation's policy checks (personal data, four eyes, ...) judge it as any post, and the writer is kept in
`posts.written_by_id` and the audit log, not on the wire.
Never: SQL (server/webcare.py), HTTP, rendering.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import asyncpg

from server import accounts, compose, webcare
from server.accounts import Account
from server.compose import MentionResolver
from server.db.pool import connection
from server.deps import Deps
from server.errors import Conflict, Invalid
from server.posts import Post
from server.publishing import Draft
from server.webcare import Event


class TeammateActed(Conflict):
    """Someone else claimed or answered this conversation since the writer's page was shown."""

    def __init__(self, events: list[Event], names: list[str]) -> None:
        self.events = events
        self.names = names
        super().__init__("%(names)s answered or took this conversation while you were writing. Read the thread "
                         "again, then send anyway if your answer is still needed.", names=", ".join(names))


@dataclass(frozen=True)
class AnswerRequest:
    text: str
    visibility: str | None = None  # public or direct; None: as the thread was
    seen_event_id: int | None = None  # the latest history event the writer saw; None: no check
    confirm_policy: bool = False
    language: str | None = None


async def _no_lookup(_text: str) -> None:
    """The citizen is known here already; other @handles typed in an answer stay as the composer leaves them."""


def with_handle(body: str, citizen: Account, domain: str) -> str:
    """The answer starts with the citizen's @handle unless it names them already, as a reply on Mastodon does."""
    handle = f"@{citizen.username}" if citizen.is_local else f"@{citizen.username}@{citizen.domain}"
    lowered = body.lower()
    if handle.lower() in lowered or (citizen.is_local and f"@{citizen.username}@{domain}".lower() in lowered):
        return body
    return f"{handle} {body}"


async def answer(deps: Deps, person: Account, conversation_id: int, request: AnswerRequest, *,
                 resolve_mentions: MentionResolver | None = None) -> Post | None:
    """Answer as the organisation; the post (held when four eyes apply) or the refusal with its findings."""
    if not request.text.strip():
        raise Invalid("An answer needs some text.")
    async with connection(deps.pool) as conn:
        conversation = await webcare.get_conversation(conn, person, conversation_id)
        if request.seen_event_id is not None:
            others = await webcare.others_since(conn, conversation, person, request.seen_event_id)
            if others:
                names = await _names(conn, [e.actor_id for e in others])
                raise TeammateActed(others, names)
        org_account = await webcare.organisation_account(conn, conversation.organisation_id)
        citizen = await accounts.get_account(conn, conversation.citizen_account_id)
        target = await webcare.reply_target(conn, conversation)
    if citizen is None:
        raise Conflict("The citizen's account is gone: there is nobody to answer.")
    visibility = request.visibility or conversation.visibility
    if visibility not in ("public", "direct"):
        raise Invalid("An answer is public or direct.")
    draft = Draft(text=with_handle(request.text.strip(), citizen, deps.settings.domain), visibility=visibility,
                  voice="official", in_reply_to_id=target, language=request.language,
                  confirm_policy=request.confirm_policy)

    async def file_it(conn: asyncpg.Connection, post: Post) -> None:
        await webcare.record_answer(conn, person, conversation, post, deps.now())

    return await compose.compose_post(deps, org_account, draft, resolve_mentions=resolve_mentions or _no_lookup,
                                      written_by=person, then=file_it)


async def post_as_organisation(deps: Deps, person: Account, organisation_id: int, draft: Draft, *,
                               resolve_mentions: MentionResolver, idempotency_key: str = "") -> Post | None:
    """Any post from the organisation's account by one of its people, without its password: official voice,
    through the organisation's checks, the writer kept internally."""
    webcare.check_team(person, organisation_id)
    async with connection(deps.pool) as conn:
        org_account = await webcare.organisation_account(conn, organisation_id)
    return await compose.compose_post(deps, org_account, replace(draft, voice="official"),
                                      resolve_mentions=resolve_mentions, idempotency_key=idempotency_key,
                                      written_by=person)


async def _names(conn: asyncpg.Connection, account_ids: list[int | None]) -> list[str]:
    names: list[str] = []
    for account_id in dict.fromkeys(i for i in account_ids if i is not None):
        account = await accounts.get_account(conn, account_id)
        if account is not None:
            names.append(account.name)
    return names or ["A teammate"]

