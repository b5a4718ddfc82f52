"""The webcare API: webcare tools and case systems work an organisation's conversations with citizens.

Owns: /api/v1/ambtenaar/webcare/* (ours, not Mastodon's): list, read, claim, release, status, labels, internal
notes and answering, each behind the scope `webcare` (never implied by read or write). The person acting is the
token's account, who must be on the organisation's team (the one webcare rule, `webcare.check_team`): 403 for
`?org=` of another team, 404 for another team's conversation. The conversation's posts are shown as the
organisation's account sees them (`timelines.hydrate` with the organisation's account as viewer); the history,
internal notes included, is for the team only and never in the Mastodon API.
Never: SQL, or a step of its own (server/webcare.py and server/webcare_answers.py decide and record).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import asyncpg
from starlette.responses import Response
from starlette.routing import Route

from federation import resolver
from server import accounts, organisations, publishing, webcare, webcare_answers, webcare_clock, webcare_settings
from server.accounts import Account
from server.db.pool import connection, transaction
from server.i18n import translations
from server.webcare import Conversation, Event
from web.api.entities import iso, render_accounts, render_status_ids
from web.api.http import ApiCall, ApiError, api, json_response, link_header, not_found

BASE = "/api/v1/ambtenaar/webcare/conversations"
MAX_LIMIT = 40
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)


# ------------------------------------------------------------------ the list's cursor

def cursor_of(conversation: Conversation) -> int:
    """The list's cursor, as Mastodon's max_id and min_id carry it: microseconds of the latest activity followed by
    the id in 19 digits (all digits, so apps that read ids as numbers page it as well)."""
    micros = (conversation.last_activity_at - _EPOCH) // _MICRO
    return int(f"{micros}{conversation.id:019d}")


def _read_cursor(call: ApiCall, name: str) -> tuple[datetime, int] | None:
    text = call.params.str(name)
    if not text:
        return None
    if not text.isdigit() or len(text) <= 19 or len(text) > 40:
        raise ApiError(422, f"Validation failed: {name} must be a cursor from this list's Link header")
    return _EPOCH + int(text[:-19]) * _MICRO, int(text[-19:])


# ------------------------------------------------------------------ entities

def person_json(account: Account | None) -> dict[str, Any] | None:
    if account is None:
        return None
    return {"id": str(account.id), "username": account.username, "display_name": account.display_name or account.username}


async def _people(conn: asyncpg.Connection, ids: set[int | None]) -> dict[int, Account]:
    return await accounts.list_accounts_by_ids(conn, [i for i in ids if i is not None])


async def render_conversations(conn: asyncpg.Connection, call: ApiCall,
                               found: list[Conversation]) -> list[dict[str, Any]]:
    """The conversation entity: who, what state, whose, the clock (null when nobody waits), the citizen."""
    people = await _people(conn, {c.assignee_id for c in found} | {c.citizen_account_id for c in found})
    citizens = {int(a["id"]): a for a in await render_accounts(
        conn, call.deps.settings, [people[c.citizen_account_id] for c in found if c.citizen_account_id in people])}
    slugs: dict[int, str] = {}
    hours: dict[int, webcare_clock.OpeningHours] = {}
    for organisation_id in {c.organisation_id for c in found}:
        org = await organisations.get_organisation(conn, organisation_id)
        slugs[organisation_id] = org.slug if org else ""
        hours[organisation_id] = await webcare_settings.get_hours(conn, organisation_id)
    now = call.deps.now()
    result = []
    for c in found:
        clock = webcare_clock.read_clock(c.waiting_since, now, hours[c.organisation_id]) if c.waiting_since else None
        result.append({
            "id": str(c.id), "organisation": slugs[c.organisation_id], "status": c.status,
            "assignee": person_json(people.get(c.assignee_id)) if c.assignee_id else None, "labels": c.labels,
            "visibility": c.visibility, "created_at": iso(c.created_at), "last_activity_at": iso(c.last_activity_at),
            "waiting_since": iso(c.waiting_since), "first_response_at": iso(c.first_response_at),
            "clock": {"colour": clock.colour, "seconds_left": int(clock.left.total_seconds())} if clock else None,
            "citizen": citizens.get(c.citizen_account_id)})
    return result


def event_json(event: Event, people: dict[int, Account]) -> dict[str, Any]:
    detail = dict(event.detail)
    if event.kind in ("claimed", "released") and detail.get("from") is not None:
        detail["from"] = person_json(people.get(int(detail["from"])))
    return {"id": str(event.id), "kind": event.kind, "created_at": iso(event.created_at),
            "actor": person_json(people.get(event.actor_id)) if event.actor_id else None,
            "status_id": str(event.post_id) if event.post_id else None, "detail": detail}


async def _detail(conn: asyncpg.Connection, call: ApiCall, conversation: Conversation) -> dict[str, Any]:
    """One conversation with its messages (Mastodon Statuses as the organisation's account sees them) and its
    history (notes included: this is the team's API)."""
    [entity] = await render_conversations(conn, call, [conversation])
    org_account = await webcare.organisation_account(conn, conversation.organisation_id)
    messages = await webcare.list_messages(conn, conversation.id)
    events = await webcare.list_events(conn, conversation.id)
    statuses = {int(s["id"]): s for s in await render_status_ids(
        conn, call.deps.settings, [m.post_id for m in messages], org_account.id)}
    people = await _people(conn, {m.written_by_id for m in messages} | {e.actor_id for e in events}
                           | {int(e.detail["from"]) for e in events if str(e.detail.get("from", "")).isdigit()})
    rendered = []
    for message in messages:
        status = statuses.get(message.post_id)
        if status is None:  # deleted since, or no longer visible to the organisation's account
            continue
        writer = people.get(message.written_by_id) if message.written_by_id else None
        if writer is None and message.direction == "out" and int(status["account"]["id"]) != org_account.id:
            writer = await accounts.get_account(conn, int(status["account"]["id"]))  # a member's official post
        rendered.append({"status": status, "direction": message.direction, "created_at": iso(message.created_at),
                         "written_by": person_json(writer) if message.direction == "out" else None})
    return entity | {"messages": rendered, "history": [event_json(e, people) for e in events],
                     "last_event_id": str(events[-1].id) if events else None,
                     "held_answer_ids": [str(i) for i in await webcare.held_answers(conn, conversation.id)]}


# ------------------------------------------------------------------ reading

async def _assignee(conn: asyncpg.Connection, person: Account, text: str | None) -> tuple[int | None, bool]:
    """`assignee`: me, none (nobody's), an account id or a username; (assignee id, unassigned only)."""
    if not text:
        return None, False
    if text == "none":
        return None, True
    if text == "me":
        return person.id, False
    account = await accounts.get_account(conn, int(text)) if text.isdigit() and len(text) <= 19 \
        else await accounts.get_account_by_username(conn, text.lstrip("@"))
    if account is None:
        raise ApiError(422, "Validation failed: assignee must be me, none, or an account of this server")
    return account.id, False


@api(scope="webcare")
async def list_conversations(call: ApiCall) -> Response:
    person = call.need_account()
    slug = call.params.str("org")
    if not slug:
        raise ApiError(422, "Validation failed: org (the organisation's slug) is required")
    status = call.params.str("status") or None
    if status is not None and status not in webcare.STATUSES:
        raise ApiError(422, "Validation failed: status must be open, waiting or done")
    limit = call.params.int("limit", 20, minimum=1, maximum=MAX_LIMIT) or 20
    before, after = _read_cursor(call, "max_id"), _read_cursor(call, "min_id") or _read_cursor(call, "since_id")
    async with connection(call.deps.pool) as conn:
        org = await organisations.get_organisation_by_slug(conn, slug)
        if org is None:
            raise ApiError(404, "There is no organisation with that slug")
        webcare.check_team(person, org.id)
        assignee_id, unassigned = await _assignee(conn, person, call.params.str("assignee"))
        found = await webcare.list_conversations(
            conn, org.id, status=status, assignee_id=assignee_id, unassigned=unassigned,
            label=(call.params.str("label") or "").strip().lower() or None, order="activity", before=before,
            after=after, limit=limit)
        rendered = await render_conversations(conn, call, found)
    headers = link_header(call.request, cursor_of(found[0]), cursor_of(found[-1]), len(found) >= limit) if found else {}
    return json_response(rendered, headers=headers)


@api(scope="webcare")
async def show(call: ApiCall) -> Response:
    person = call.need_account()
    async with connection(call.deps.pool) as conn:
        conversation = await webcare.get_conversation(conn, person, call.path_id())
        return json_response(await _detail(conn, call, conversation))


# ------------------------------------------------------------------ the team's steps

async def _conversation_answer(call: ApiCall, conversation_id: int) -> Response:
    async with connection(call.deps.pool) as conn:
        conversation = await webcare.get_conversation(conn, call.need_account(), conversation_id)
        [entity] = await render_conversations(conn, call, [conversation])
    return json_response(entity)


@api(scope="webcare")
async def claim(call: ApiCall) -> Response:
    async with transaction(call.deps.pool) as conn:
        conversation = await webcare.claim(conn, call.need_account(), call.path_id(), call.deps.now())
    return await _conversation_answer(call, conversation.id)


@api(scope="webcare")
async def release(call: ApiCall) -> Response:
    async with transaction(call.deps.pool) as conn:
        conversation = await webcare.release(conn, call.need_account(), call.path_id(), call.deps.now())
    return await _conversation_answer(call, conversation.id)


@api(scope="webcare")
async def set_status(call: ApiCall) -> Response:
    status = call.params.str("status")
    if status not in webcare.STATUSES:
        raise ApiError(422, "Validation failed: status must be open, waiting or done")
    async with transaction(call.deps.pool) as conn:
        conversation = await webcare.set_status(conn, call.need_account(), call.path_id(), status, call.deps.now())
    return await _conversation_answer(call, conversation.id)


@api(scope="webcare")
async def set_labels(call: ApiCall) -> Response:
    if "labels" not in call.params.values:
        raise ApiError(422, "Validation failed: labels is required (labels[] or comma-separated; empty clears them)")
    labels = [part for item in call.params.list("labels") for part in str(item or "").split(",")]
    async with transaction(call.deps.pool) as conn:
        conversation = await webcare.set_labels(conn, call.need_account(), call.path_id(), labels, call.deps.now())
    return await _conversation_answer(call, conversation.id)


@api(scope="webcare")
async def add_note(call: ApiCall) -> Response:
    person = call.need_account()
    async with transaction(call.deps.pool) as conn:
        event = await webcare.add_note(conn, person, call.path_id(), call.params.str("text") or "", call.deps.now())
    return json_response(event_json(event, {person.id: person}))


@api(scope="webcare")
async def answer(call: ApiCall) -> Response:
    """The organisation's answer: its Status; 422 with the findings when its checks stop or hold it, as
    POST /api/v1/statuses answers; 409 when a teammate claimed or answered since `seen_event_id`."""
    person = call.need_account()
    seen = call.params.str("seen_event_id")
    if seen is not None and (not seen.isdigit() or len(seen) > 19):
        raise ApiError(422, "Validation failed: seen_event_id must be the id of an event of the conversation")
    visibility = call.params.str("visibility") or None
    if visibility is not None and visibility not in ("public", "direct"):
        raise ApiError(422, "Validation failed: visibility must be public or direct")
    request = webcare_answers.AnswerRequest(
        text=call.params.str("text") or "", visibility=visibility, seen_event_id=int(seen) if seen else None,
        confirm_policy=call.params.bool("confirm_policy"), language=call.params.str("language") or None)
    gettext = translations(call.lang).gettext
    try:
        post = await webcare_answers.answer(
            call.deps, person, call.path_id(), request,
            resolve_mentions=partial(resolver.resolve_mentions, call.request.app.state.federation))
    except publishing.PolicyStopped as stopped:
        return json_response({"error": stopped.translated(gettext), "policy": stopped.verdict.to_json()}, 422)
    if post is None:
        raise not_found()
    if post.state == "held":
        return json_response({"error": gettext(
            "Held for review: your post is saved and will be published when a reviewer of your organisation "
            "approves it."), "policy": {"outcome": "hold", "status_id": str(post.id),
                                        "findings": post.policy_findings or []}}, 422)
    async with connection(call.deps.pool) as conn:
        rendered = await render_status_ids(conn, call.deps.settings, [post.id], post.account_id)
    if not rendered:
        raise not_found()
    return json_response(rendered[0])


ROUTES = [
    Route(BASE, list_conversations, methods=["GET"]),
    Route(BASE + "/{id}", show, methods=["GET"]),
    Route(BASE + "/{id}/claim", claim, methods=["POST"]),
    Route(BASE + "/{id}/release", release, methods=["POST"]),
    Route(BASE + "/{id}/status", set_status, methods=["POST"]),
    Route(BASE + "/{id}/labels", set_labels, methods=["POST"]),
    Route(BASE + "/{id}/notes", add_note, methods=["POST"]),
    Route(BASE + "/{id}/answer", answer, methods=["POST"]),
]
