"""The webcare team's pages: the inbox of an organisation and one conversation with its history and forms.

Owns: /orgs/{slug}/webcare (the inbox), /orgs/{slug}/webcare/{id} (the thread, the history, claim, release, status,
labels, internal notes and the answer form), its `/state` JSON that webcare.js polls, and /webcare (the nav link).
The team reads a conversation's posts as the organisation's account sees them (`timelines.hydrate` with that
account as viewer), after `webcare.check_team`: the visibility rule with the organisation as the viewer.
Never: SQL, or deciding who may work the inbox (server/webcare.py `may_work`/`check_team`, the one webcare rule).
Settings: web/pages/webcare_settings.py; reports: web/pages/webcare_reports.py.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

import asyncpg
import nh3
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from federation import resolver
from server import accounts, organisations, profiles, publishing, timelines, uris, webcare, webcare_answers, \
    webcare_settings
from server.accounts import Account
from server.db.pool import connection, transaction
from server.errors import Conflict, DomainError, Forbidden, NotFound
from server.webcare_clock import ClockReading, OpeningHours, format_duration, read_clock
from web.context import PageContext, finish, read_form, redirect, render
from web.handlers import page, path_int

ASSIGNEE_FILTERS = ("all", "mine", "none")
CLOCK_WORDS = {"green": "On time", "orange": "Almost late", "red": "Late"}
NOTICES = {"claimed": "You are handling this conversation now.", "released": "The conversation is free again.",
           "status": "The status has been changed.", "labels": "The labels have been saved.",
           "note": "Your internal note has been added.", "answered": "Your answer has been published.",
           "held": "Your answer is waiting for review (four eyes)."}
STATUS_NAMES = {"open": "To answer", "waiting": "Waiting for citizen", "done": "Done"}


async def team_organisation(ctx: PageContext) -> organisations.Organisation:
    """The organisation of the address, for someone on its webcare team (403 for anyone else)."""
    async with connection(ctx.deps.pool) as conn:
        org = await organisations.get_organisation_by_slug(conn, ctx.request.path_params["slug"])
    if org is None:
        raise NotFound("There is no organisation with that name here.")
    webcare.check_team(ctx.viewer, org.id)
    return org


def clock_of(ctx: PageContext, waiting_since: datetime | None, hours: OpeningHours) -> dict[str, str] | None:
    """The clock of a conversation waiting for an answer: time left as text, a colour and a word (never colour
    alone); None when nothing waits."""
    if waiting_since is None:
        return None
    reading: ClockReading = read_clock(waiting_since, ctx.now, hours)
    left = format_duration(reading.left, ctx.lang)
    text = ctx.gettext("%(time)s left", time=left) if reading.left.total_seconds() >= 0 \
        else ctx.gettext("%(time)s over time", time=format_duration(-reading.left, ctx.lang))
    return {"colour": reading.colour, "word": ctx.gettext(CLOCK_WORDS[reading.colour]), "text": text}


def first_line(view: timelines.PostView | None) -> str:
    """The first line of a message as plain text (the page escapes it): the text as typed here, or another
    server's HTML with its tags taken off."""
    if view is None:
        return ""
    post = view.post
    text = post.source_text if view.author.is_local and post.source_text else \
        html.unescape(nh3.clean(re.sub(r"(?i)<br\s*/?>|</p>", "\n", post.content_html), tags=set()))
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:200]
    return ""


async def _names(conn: asyncpg.Connection, ids: set[int | None]) -> dict[int, Account]:
    found: dict[int, Account] = {}
    for account_id in ids:
        if account_id is not None:
            account = await accounts.get_account(conn, account_id)
            if account is not None:
                found[account_id] = account
    return found


def assignee_text(ctx: PageContext, assignee: Account | None) -> str:
    if assignee is None:
        return ctx.gettext("Nobody")
    if ctx.viewer is not None and assignee.id == ctx.viewer.id:
        return ctx.gettext("You are handling this")
    return ctx.gettext("%(name)s is handling this", name=assignee.name)


async def organisation_voice(ctx: PageContext) -> str | None:
    """The composer's "Post as <organisation account>" choice: its name for someone on the team, else None."""
    viewer = ctx.viewer
    if viewer is None or viewer.organisation_id is None or not webcare.may_work(viewer, viewer.organisation_id):
        return None
    async with connection(ctx.deps.pool) as conn:
        account = await accounts.get_organisation_account(conn, viewer.organisation_id)
    return account.name if account is not None and account.is_active else None


# ------------------------------------------------------------------ the inbox

@dataclass(frozen=True)
class InboxRow:
    conversation: webcare.Conversation
    citizen: Account | None
    latest: str
    assignee: Account | None
    clock: dict[str, str] | None


@page(signed_in=True)
async def inbox(ctx: PageContext) -> Response:
    assert ctx.viewer is not None
    org = await team_organisation(ctx)
    query = ctx.request.query_params
    status = query.get("status", "open")
    status = status if status in webcare.STATUSES else "open"
    assignee = query.get("assignee", "all")
    label = query.get("label", "").strip().lower() or None
    async with connection(ctx.deps.pool) as conn:
        org_account = await webcare.organisation_account(conn, org.id)
        members = [m for m in await accounts.list_organisation_members(conn, org.id) if webcare.may_work(m, org.id)]
        assignee_id = ctx.viewer.id if assignee == "mine" else int(assignee) if assignee.isdigit() \
            and len(assignee) < 19 else None
        found = await webcare.list_conversations(conn, org.id, status=status, assignee_id=assignee_id,
                                                 unassigned=assignee == "none", label=label, order="waiting",
                                                 limit=100)
        latest: dict[int, int] = {}
        for conversation in found:
            incoming = [m.post_id for m in await webcare.list_messages(conn, conversation.id) if m.direction == "in"]
            if incoming:
                latest[conversation.id] = incoming[-1]
        views = {v.post.id: v for v in await timelines.hydrate(conn, list(latest.values()), org_account.id)}
        people = await _names(conn, {c.citizen_account_id for c in found} | {c.assignee_id for c in found})
        counts = await webcare.count_by_status(conn, org.id)
        labels = await webcare.list_labels(conn, org.id)
        hours = await webcare_settings.get_hours(conn, org.id)
    rows = [InboxRow(c, people.get(c.citizen_account_id), first_line(views.get(latest.get(c.id, 0))),
                     people.get(c.assignee_id) if c.assignee_id else None, clock_of(ctx, c.waiting_since, hours))
            for c in found]
    return render(ctx, "webcare/inbox.html", organisation=org, org_account=org_account, rows=rows, counts=counts,
                  labels=labels, members=members, current=status, assignee=assignee, label=label or "",
                  status_names=STATUS_NAMES, assignee_text=partial(assignee_text, ctx),
                  may_administer=ctx.viewer.administers(org.id))


@page(signed_in=True)
async def my_inbox(ctx: PageContext) -> Response:
    """The nav's link: the inbox of the viewer's own organisation."""
    assert ctx.viewer is not None
    if ctx.viewer.organisation_id is None or not webcare.may_work(ctx.viewer, ctx.viewer.organisation_id):
        raise Forbidden("Only the organisation's webcare team and its admins may do this.")
    async with connection(ctx.deps.pool) as conn:
        org = await organisations.get_organisation(conn, ctx.viewer.organisation_id)
    if org is None:
        raise NotFound("There is no organisation with that name here.")
    return redirect(ctx, f"/orgs/{org.slug}/webcare")


# ------------------------------------------------------------------ one conversation

async def _conversation(ctx: PageContext, conn: asyncpg.Connection,
                        org: organisations.Organisation) -> webcare.Conversation:
    conversation = await webcare.get_conversation(conn, ctx.viewer, path_int(ctx, "conversation_id"))
    if conversation.organisation_id != org.id:
        raise NotFound("There is no conversation with that id.")
    return conversation


def answer_values(form: Any = None, conversation: webcare.Conversation | None = None) -> dict[str, str]:
    """What the answer form shows: empty with the thread's visibility, or what was typed."""
    if form is None:
        return {"text": "", "visibility": conversation.visibility if conversation else "public"}
    visibility = str(form.get("visibility", ""))
    return {"text": str(form.get("text", ""))[:20000],
            "visibility": visibility if visibility in ("public", "direct") else "public"}


async def show_conversation(ctx: PageContext, org: organisations.Organisation, *, status: int = 200,
                            error: str | None = None, answer: dict[str, str] | None = None,
                            teammates: list[str] | None = None, confirm: bool = False,
                            take_over: Account | None = None, seen_event_id: int | None = None) -> Response:
    assert ctx.viewer is not None
    async with connection(ctx.deps.pool) as conn:
        conversation = await _conversation(ctx, conn, org)
        org_account = await webcare.organisation_account(conn, org.id)
        messages = await webcare.list_messages(conn, conversation.id)
        held = await webcare.held_answers(conn, conversation.id)
        ids = sorted({m.post_id for m in messages} | set(held))
        views = await timelines.hydrate(conn, ids, org_account.id)
        events = await webcare.list_events(conn, conversation.id)
        citizen = await accounts.get_account(conn, conversation.citizen_account_id)
        citizen_profile = await profiles.get_profile(conn, citizen.id) if citizen else None
        earlier = await webcare.earlier_with(conn, conversation)
        replies = await webcare_settings.list_saved_replies(conn, org.id)
        latest_event = await webcare.latest_event_id(conn, conversation.id)
        hours = await webcare_settings.get_hours(conn, org.id)
        writers = {m.post_id: m.written_by_id for m in messages}
        people = await _names(conn, {conversation.assignee_id} | set(writers.values())
                              | {e.actor_id for e in events}
                              | {e.detail.get("from") for e in events if isinstance(e.detail.get("from"), int)})
    for view in views:  # a held answer has no message row yet: its writer is in posts.written_by_id
        writers.setdefault(view.post.id, view.post.written_by_id)
    avatar = _avatar(ctx, citizen, citizen_profile)
    name, handle = (citizen.name, f"@{citizen.acct}") if citizen else ("", "")
    filled = [{"id": f"{r.id}:{language}", "title": r.title, "language": language,
               "text": webcare_settings.fill_placeholders(body, name=name, handle=handle)}
              for r in replies for language, body in (("nl", r.body_nl), ("en", r.body_en)) if body]
    notice = NOTICES.get(ctx.request.query_params.get("done", ""))
    assignee = people.get(conversation.assignee_id) if conversation.assignee_id else None
    return render(ctx, "webcare/conversation.html", status=status, organisation=org, org_account=org_account,
                  conversation=conversation, views=views, writers=writers, held=set(held), events=events,
                  people=people, citizen=citizen, avatar_url=avatar, earlier=earlier, saved_replies=filled,
                  seen_event_id=seen_event_id if seen_event_id is not None else latest_event,
                  latest_event_id=latest_event, assignee=assignee, assignee_text=assignee_text(ctx, assignee),
                  clock=clock_of(ctx, conversation.waiting_since, hours), status_names=STATUS_NAMES,
                  answer=answer or answer_values(conversation=conversation), error=error, teammates=teammates,
                  confirm=confirm, take_over=take_over, notice=ctx.gettext(notice) if notice else None)


def _avatar(ctx: PageContext, citizen: Account | None, profile: profiles.Profile | None) -> str | None:
    """The citizen's avatar as profile pages show it: our own file, or another server's through the media proxy."""
    if citizen is None or profile is None:
        return None
    if citizen.is_local:
        return profiles.image_url(ctx.deps.settings, profile, "avatar")
    return uris.proxied_media(ctx.deps.settings, citizen.avatar_url) if citizen.avatar_url else None


@page(signed_in=True)
async def conversation_page(ctx: PageContext) -> Response:
    return await show_conversation(ctx, await team_organisation(ctx))


@page(signed_in=True)
async def conversation_state(ctx: PageContext) -> Response:
    """What the open page polls: status, who handles it, the latest history line, and whether teammates claimed
    or answered since `since` (the history id the page was rendered with)."""
    try:
        org = await team_organisation(ctx)
        since = ctx.request.query_params.get("since", "")
        async with connection(ctx.deps.pool) as conn:
            conversation = await _conversation(ctx, conn, org)
            assert ctx.viewer is not None
            others = await webcare.others_since(conn, conversation, ctx.viewer, int(since)) \
                if since.isdigit() and len(since) < 19 else []
            people = await _names(conn, {conversation.assignee_id} | {e.actor_id for e in others})
            latest = await webcare.latest_event_id(conn, conversation.id)
    except DomainError as error:
        return finish(JSONResponse({"error": error.translated(ctx.gettext)}, status_code=error.http_status), ctx)
    assignee = people.get(conversation.assignee_id) if conversation.assignee_id else None
    names = list(dict.fromkeys(people[e.actor_id].name for e in others if e.actor_id in people))
    return finish(JSONResponse({
        "status": conversation.status, "status_name": ctx.gettext(STATUS_NAMES[conversation.status]),
        "assignee": {"id": str(assignee.id), "name": assignee.name} if assignee else None,
        "assignee_text": assignee_text(ctx, assignee), "latest_event_id": str(latest),
        "others_acted": bool(others), "others": names,
        "warning": ctx.gettext("%(names)s answered or took this conversation while you were writing.",
                               names=", ".join(names)) if names else ""}), ctx)


def _step(name: str):  # type: ignore[no-untyped-def]
    """One POST handler per team step on a conversation; each goes back to the page with a notice."""
    @page(signed_in=True)
    async def handler(ctx: PageContext) -> Response:
        assert ctx.viewer is not None
        form = await read_form(ctx)
        org = await team_organisation(ctx)
        conversation_id = path_int(ctx, "conversation_id")
        try:
            async with transaction(ctx.deps.pool) as conn:
                await _conversation(ctx, conn, org)
                if name == "claim":
                    await webcare.claim(conn, ctx.viewer, conversation_id, ctx.now,
                                        take_over=form.get("take_over") == "yes")
                elif name == "release":
                    await webcare.release(conn, ctx.viewer, conversation_id, ctx.now)
                elif name == "status":
                    await webcare.set_status(conn, ctx.viewer, conversation_id, str(form.get("status", "")), ctx.now)
                elif name == "labels":
                    await webcare.set_labels(conn, ctx.viewer, conversation_id,
                                             str(form.get("labels", ""))[:2000].split(","), ctx.now)
                else:
                    await webcare.add_note(conn, ctx.viewer, conversation_id, str(form.get("text", ""))[:20000],
                                           ctx.now)
        except Conflict as error:
            if name != "claim":
                raise
            async with connection(ctx.deps.pool) as conn:
                current = await webcare.get_conversation(conn, ctx.viewer, conversation_id)
                holder = await accounts.get_account(conn, current.assignee_id) if current.assignee_id else None
            return await show_conversation(ctx, org, status=error.http_status, take_over=holder)
        except DomainError as error:
            return await show_conversation(ctx, org, status=error.http_status, error=error.translated(ctx.gettext))
        done = {"claim": "claimed", "release": "released"}.get(name, name)
        return redirect(ctx, f"/orgs/{org.slug}/webcare/{conversation_id}?done={done}")
    handler.__name__ = f"webcare_{name}"
    return handler


@page(signed_in=True)
async def answer(ctx: PageContext) -> Response:
    """Answer as the organisation. "Use" of a saved reply only fills the form (without JavaScript); a teammate who
    acted meanwhile, the organisation's checks and four eyes each show the page again with the text kept."""
    assert ctx.viewer is not None
    form = await read_form(ctx)
    org = await team_organisation(ctx)
    values = answer_values(form)
    seen_raw = str(form.get("seen_event_id", ""))
    seen = int(seen_raw) if seen_raw.isdigit() and len(seen_raw) < 19 else None
    if form.get("use_reply"):
        chosen = await _saved_reply_text(ctx, org, str(form.get("saved_reply", "")))
        values["text"] = (values["text"].rstrip() + "\n\n" + chosen).strip() if chosen else values["text"]
        return await show_conversation(ctx, org, answer=values, seen_event_id=seen)
    request = webcare_answers.AnswerRequest(
        text=values["text"], visibility=values["visibility"],
        seen_event_id=None if form.get("send_anyway") == "yes" else seen,
        confirm_policy=form.get("confirm_policy") == "yes", language=ctx.lang)
    conversation_id = path_int(ctx, "conversation_id")
    try:
        async with connection(ctx.deps.pool) as conn:
            await _conversation(ctx, conn, org)
        post = await webcare_answers.answer(ctx.deps, ctx.viewer, conversation_id, request,
                                            resolve_mentions=partial(resolver.resolve_mentions,
                                                                     ctx.request.app.state.federation))
    except webcare_answers.TeammateActed as acted:
        return await show_conversation(ctx, org, status=acted.http_status, answer=values, teammates=acted.names,
                                       seen_event_id=seen)
    except publishing.PolicyStopped as stopped:
        return await show_conversation(ctx, org, status=stopped.http_status, answer=values, seen_event_id=seen,
                                       error=stopped.translated(ctx.gettext),
                                       confirm=isinstance(stopped, publishing.PolicyNeedsConfirmation))
    except DomainError as error:
        return await show_conversation(ctx, org, status=error.http_status, answer=values, seen_event_id=seen,
                                       error=error.translated(ctx.gettext))
    done = "held" if post is not None and post.state == "held" else "answered"
    return redirect(ctx, f"/orgs/{org.slug}/webcare/{conversation_id}?done={done}")


async def _saved_reply_text(ctx: PageContext, org: organisations.Organisation, choice: str) -> str:
    """A saved reply (`id:language`) filled in for the conversation's citizen."""
    reply_id, _, language = choice.partition(":")
    if not reply_id.isdigit() or len(reply_id) > 18:
        return ""
    async with connection(ctx.deps.pool) as conn:
        conversation = await _conversation(ctx, conn, org)
        reply = await webcare_settings.get_saved_reply(conn, org.id, int(reply_id))
        citizen = await accounts.get_account(conn, conversation.citizen_account_id)
    body = reply.body_en if language == "en" and reply.body_en else reply.body_nl or reply.body_en
    if citizen is None:
        return body
    return webcare_settings.fill_placeholders(body, name=citizen.name, handle=f"@{citizen.acct}")


ROUTES = [
    Route("/webcare", my_inbox, methods=["GET"]),
    Route("/orgs/{slug}/webcare", inbox, methods=["GET"]),
    Route("/orgs/{slug}/webcare/{conversation_id}", conversation_page, methods=["GET"]),
    Route("/orgs/{slug}/webcare/{conversation_id}/state", conversation_state, methods=["GET"]),
    Route("/orgs/{slug}/webcare/{conversation_id}/answer", answer, methods=["POST"]),
    *[Route(f"/orgs/{{slug}}/webcare/{{conversation_id}}/{name}", _step(name), methods=["POST"])
      for name in ("claim", "release", "status", "labels", "note")],
]
