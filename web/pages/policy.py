"""The organisation admins' page for the policy checks: each check by its plain name with a one-line explanation,
its action in words, and a form field per parameter with an example; the settings as JSON only as an advanced
export and import.

Owns: /orgs/{slug}/policy (the form; `?format=json` the export; a POST with `import` the import), and reading the form fields into a check's options
from the parameters each check declares. Never: SQL (server/policy_settings.py), validating options or running a
check (moderation.policy).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from starlette.datastructures import FormData
from starlette.responses import Response
from starlette.routing import Route

import moderation.policy as policy
from server import badges, limits, organisations, policy_settings
from server.db.pool import connection, transaction
from server.errors import DomainError, Forbidden, Invalid, NotFound
from server.organisations import Organisation
from web.context import PageContext, finish, read_form, redirect, render
from web.handlers import page

ACTION_ORDER = ("off", "warn", "hold", "block")
ACTION_NAMES = {"off": "Off", "warn": "Warn the author", "hold": "Hold for a reviewer", "block": "Block the post"}
ACTION_HINTS = {"warn": "the author sees the finding and must confirm",
                "hold": "a reviewer of the organisation approves the post first",
                "block": "the post is not published"}
WEEKDAYS = ((1, "Monday"), (2, "Tuesday"), (3, "Wednesday"), (4, "Thursday"), (5, "Friday"), (6, "Saturday"),
            (7, "Sunday"))
EMPTY_TOPIC_ROWS = 1  # without JavaScript, a new topic goes in an empty row; after saving there is a new one
Chosen = dict[str, tuple[str, dict[str, Any]]]


async def _organisation(ctx: PageContext) -> Organisation:
    assert ctx.viewer is not None
    async with connection(ctx.deps.pool) as conn:
        org = await organisations.get_organisation_by_slug(conn, ctx.request.path_params["slug"])
    if org is None:
        raise NotFound("There is no organisation with that name here.")
    if not badges.may_manage(ctx.viewer, org.id):
        raise Forbidden("Only the organisation's admins may change its policy checks.")
    return org


def dom_id(check_id: str) -> str:
    """A check id as part of an HTML id that CSS selectors can name (no dots)."""
    return check_id.replace(".", "-")


def _lines(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "\n".join(str(v) for v in value)
    return "" if value is None else str(value)


def _topic_rows(value: Any) -> list[dict[str, Any]]:
    topics = [t for t in value if isinstance(t, Mapping)] if isinstance(value, (list, tuple)) else []
    rows = [{"terms": _lines(t.get("terms", ())), "from": str(t.get("from") or ""), "until": str(t.get("until") or ""),
             "personal_only": t.get("personal_only") in (True, "true", "yes", "1")} for t in topics]
    return rows + [{"terms": "", "from": "", "until": "", "personal_only": False}] * EMPTY_TOPIC_ROWS


def _field(parameter: policy.Parameter, options: Mapping[str, Any]) -> dict[str, Any]:
    """What the form shows of one parameter: the stored value in the shape of its field."""
    value = options.get(parameter.key)
    shown: Any
    if parameter.kind == "topics":
        shown = _topic_rows(value)
    elif parameter.kind == "weekdays":
        days = value.split(",") if isinstance(value, str) else value or ()
        shown = {int(d) for d in days if str(d).strip().isdigit()}
    elif parameter.kind == "lines":
        shown = _lines(value)
    else:
        shown = "" if value is None else str(value)
    return {"parameter": parameter, "value": shown}


def _rows(chosen: Chosen) -> list[dict[str, Any]]:
    rows = []
    for check in policy.CATALOGUE:
        action, options = chosen.get(check.id, ("off", {}))
        rows.append({"id": check.id, "dom": dom_id(check.id), "check": check, "action": action,
                     "actions": [a for a in ACTION_ORDER if a == "off" or a in check.actions],
                     "fields": [_field(p, options) for p in check.parameters]})
    return rows


def _option(form: FormData, check_id: str, parameter: policy.Parameter) -> Any:
    """One parameter from its form field(s); None when left empty, so the check's default applies."""
    name = f"{check_id}/{parameter.key}"
    if parameter.kind == "lines":
        items = [line.strip() for line in str(form.get(name, "")).splitlines() if line.strip()]
        return items or None
    if parameter.kind == "weekdays":
        days = sorted({int(d) for d in form.getlist(name) if str(d).isdigit() and len(str(d)) == 1})
        return days or None
    if parameter.kind == "topics":
        topics = []
        for index in range(200):
            prefix = f"{name}/{index}"
            if f"{prefix}/terms" not in form:
                break
            terms = [t.strip() for t in str(form.get(f"{prefix}/terms", "")).splitlines() if t.strip()]
            start, until = str(form.get(f"{prefix}/from", "")).strip(), str(form.get(f"{prefix}/until", "")).strip()
            if not terms and not start and not until:
                continue  # an empty row
            topic: dict[str, Any] = {"terms": terms}
            if start:
                topic["from"] = start
            if until:
                topic["until"] = until
            if form.get(f"{prefix}/personal_only") == "yes":
                topic["personal_only"] = True
            topics.append(topic)
        return topics or None
    text = str(form.get(name, "")).strip()
    if not text:
        return None
    return int(text) if parameter.kind == "number" and text.isdigit() and len(text) < 10 else text


def chosen_from_form(form: FormData) -> Chosen:
    chosen: Chosen = {}
    for check in policy.CATALOGUE:
        options = {p.key: value for p in check.parameters if (value := _option(form, check.id, p)) is not None}
        chosen[check.id] = (str(form.get(f"action-{check.id}", "off")), options)
    return chosen


async def _show(ctx: PageContext, org: Organisation, chosen: Chosen, *, status: int = 200,
                error: str | None = None, document: str | None = None, wrong: str | None = None) -> Response:
    async with connection(ctx.deps.pool) as conn:
        stored = policy_settings.settings_document(await policy_settings.list_settings(conn, org.id))
    return render(ctx, "policy.html", status=status, organisation=org, rows=_rows(chosen), error=error,
                  saved=ctx.request.query_params.get("saved"), action_names=ACTION_NAMES, action_hints=ACTION_HINTS,
                  weekdays=WEEKDAYS, wrong=wrong, document=document if document is not None
                  else json.dumps(stored, ensure_ascii=False, indent=2))


@page(signed_in=True)
async def policy_page(ctx: PageContext) -> Response:
    org = await _organisation(ctx)
    async with connection(ctx.deps.pool) as conn:
        rows = await policy_settings.list_settings(conn, org.id)
    if ctx.request.query_params.get("format") == "json":
        body = json.dumps(policy_settings.settings_document(rows), ensure_ascii=False, indent=2)
        return finish(Response(body, media_type="application/json", headers={
            "Content-Disposition": f'attachment; filename="policy-{org.slug}.json"'}), ctx)
    return await _show(ctx, org, {r.check_id: (r.action, r.options) for r in rows})


@page(signed_in=True)
async def policy_save(ctx: PageContext) -> Response:
    form = await read_form(ctx)
    org = await _organisation(ctx)
    if form.get("import"):
        return await _import(ctx, org, form)
    chosen = chosen_from_form(form)
    try:
        async with transaction(ctx.deps.pool) as conn:
            await policy_settings.change_settings(conn, org.id, chosen, actor=ctx.viewer, now=ctx.now)
    except DomainError as error:
        return await _show(ctx, org, chosen, status=error.http_status, error=_named(ctx, error),
                           wrong=_wrong_check(error))
    return redirect(ctx, f"/orgs/{org.slug}/policy?saved=1")


def _wrong_check(error: DomainError) -> str | None:
    """The check a refusal is about: moderation.policy starts its reasons with the check's id."""
    reason = str(error.values.get("reason", "")) if error.values else ""
    return next((check.id for check in policy.CATALOGUE if reason.startswith(f"{check.id}")), None)


def _named(ctx: PageContext, error: DomainError) -> str:
    """The refusal with the check's plain name in the page's language instead of its id."""
    text = error.translated(ctx.gettext)
    wrong = _wrong_check(error)
    return text.replace(f"{wrong}", ctx.gettext(policy.CHECKS[wrong].name), 1) if wrong else text


async def _import(ctx: PageContext, org: Organisation, form: FormData) -> Response:
    """The advanced import: a JSON document as the export gives it; checks it does not name are switched off."""
    raw = str(form.get("settings", "")).strip()
    try:
        try:
            document = limits.loads(raw) if raw else {}
        except ValueError:
            raise Invalid("The settings are not valid JSON.") from None
        async with transaction(ctx.deps.pool) as conn:
            await policy_settings.change_settings(conn, org.id, policy_settings.changes_from_document(document),
                                                  actor=ctx.viewer, now=ctx.now)
    except DomainError as error:
        async with connection(ctx.deps.pool) as conn:
            rows = await policy_settings.list_settings(conn, org.id)
        return await _show(ctx, org, {r.check_id: (r.action, r.options) for r in rows}, status=error.http_status,
                           error=error.translated(ctx.gettext), document=raw)
    return redirect(ctx, f"/orgs/{org.slug}/policy?saved=1")


ROUTES = [Route("/orgs/{slug}/policy", policy_page, methods=["GET"]),
          Route("/orgs/{slug}/policy", policy_save, methods=["POST"])]
