"""The organisation's audit log for its admins: each entry as a sentence ("Kees keurde het bericht van Anna goed")
at a time in the organisation's time zone, to the minute, with a link to the post, account or report; filter on the
page, export as CSV or JSON (those keep the stored form: UTC times, action names, details).

Owns: /orgs/{slug}/audit and the sentences of the audit actions. Never: SQL (server/audit.py owns the append-only
table).
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta, timezone
from typing import Any

from babel.dates import format_datetime, get_timezone
from starlette.responses import Response
from starlette.routing import Route

from server import accounts, audit, badges, organisations, posts
from server.accounts import Account
from server.audit import Entry
from server.db.pool import connection
from server.errors import Forbidden, Invalid, NotFound
from server.organisations import Organisation
from web.context import DISPLAY_TIMEZONE, PageContext, account_path, finish, render
from web.handlers import page

FIELDS = ("id", "at", "actor", "action", "subject_type", "subject_id", "detail")
# Organisations have no time zone setting of their own yet: every one is in the Netherlands.
ORGANISATION_TIMEZONE = DISPLAY_TIMEZONE

# What happened, as a sentence: %(actor)s did it, %(author)s wrote the post it concerns, %(subject)s is the account
# it concerns. Actions not listed are shown by their name.
SENTENCES = {
    "policy.setting": "%(actor)s changed the policy checks",
    "policy.checked": "The checks ran on a post by %(actor)s",
    "policy.held": "The checks held a post by %(actor)s for review",
    "policy.block": "The checks stopped a post by %(actor)s",
    "policy.hold": "The checks stopped a post by %(actor)s",
    "policy.warn": "The checks warned %(actor)s about a post",
    "policy.needs_confirmation": "The checks asked %(actor)s to confirm a post",
    "policy.checked_edit": "The checks ran on an edit by %(actor)s",
    "policy.checked_scheduled": "The checks ran on a post %(actor)s scheduled",
    "review.approved": "%(actor)s approved the post by %(author)s",
    "review.rejected": "%(actor)s rejected the post by %(author)s",
    "review.changes_requested": "%(actor)s asked %(author)s to change a post",
    "review.resubmitted": "%(actor)s changed a post that waits for review",
    "post.removed": "%(actor)s removed the post by %(author)s",
    "post.written_for_organisation": "%(actor)s wrote a post of the organisation's account",
    "webcare.opened": "A citizen started a webcare conversation",
    "webcare.message_in": "A citizen wrote in a webcare conversation",
    "webcare.claimed": "%(actor)s took on a webcare conversation",
    "webcare.released": "%(actor)s let go of a webcare conversation",
    "webcare.note": "%(actor)s wrote an internal note in a webcare conversation",
    "webcare.answered": "%(actor)s answered a webcare conversation",
    "webcare.status": "%(actor)s changed the status of a webcare conversation",
    "webcare.labels": "%(actor)s changed the labels of a webcare conversation",
    "webcare.hours_changed": "%(actor)s changed the webcare opening hours",
    "webcare.promise_changed": "%(actor)s changed the promised response time",
    "webcare.time_zone_changed": "%(actor)s changed the webcare time zone",
    "webcare.holidays_changed": "%(actor)s changed the webcare holidays",
    "webcare.saved_reply_added": "%(actor)s added a saved reply",
    "webcare.saved_reply_removed": "%(actor)s removed a saved reply",
    "webcare.webhook_added": "%(actor)s added a webcare webhook",
    "webcare.webhook_removed": "%(actor)s removed a webcare webhook",
    "webcare.token_created": "%(actor)s created an app token for the organisation's account",
    "webcare.token_revoked": "%(actor)s revoked an app token of the organisation's account",
    "organisation.tooi_code": "%(actor)s changed the organisation's TOOI code",
    "organisation.handle_domain": "%(actor)s set the organisation's handle domain",
    "organisation.handle_domain_active": "The handle domain passed its check and is active",
    "organisation.handle_domain_failing": "The handle domain failed its check",
    "archive.settings": "%(actor)s changed the archive settings",
    "archive.purged": "Posts whose retention period ended were removed from the archive",
    "archive.export_started": "%(actor)s started an archive export",
    "archive.export_finished": "An archive export %(actor)s started has finished",
    "archive.export_failed": "An archive export failed",
    "archive.export_downloaded": "%(actor)s downloaded an archive export",
    "woo.searched": "%(actor)s searched the record for a Woo request",
    "woo.exported": "%(actor)s made a redacted Woo export",
    "woo.settings_changed": "%(actor)s changed whether officials' names stay in Woo exports",
    "reply.hidden": "%(actor)s hid a reply",
    "reply.unhidden": "%(actor)s showed a hidden reply again",
    "account.created": "%(actor)s created the account of %(subject)s",
    "account.warned": "%(actor)s warned %(subject)s",
    "account.silenced": "%(actor)s limited the account of %(subject)s",
    "account.unsilenced": "%(actor)s lifted the limit on the account of %(subject)s",
    "account.suspended": "%(actor)s suspended the account of %(subject)s",
    "account.unsuspended": "%(actor)s lifted the suspension of the account of %(subject)s",
    "account.role_changed": "%(actor)s changed the role of %(subject)s",
    "account.offboarded": "%(actor)s offboarded %(subject)s",
    "invite.created": "%(actor)s made an invite",
    "organisation.created": "%(actor)s created the organisation",
    "organisation.verified": "%(actor)s verified the organisation's website",
    "organisation.voice_settings": "%(actor)s changed the wording of the official voice",
    "organisation.two_factor_required": "%(actor)s required two-step sign-in for the members",
    "organisation.two_factor_not_required": "%(actor)s made two-step sign-in optional for the members",
    "badge.issued": "%(actor)s issued a badge",
    "badge.approved": "%(actor)s approved a badge",
    "badge.changed": "%(actor)s changed a badge",
    "badge.renewed": "%(actor)s renewed a badge",
    "badge.revoked": "%(actor)s revoked a badge",
    "password.changed": "%(actor)s changed the password of %(subject)s",
    "password.reset": "The password of %(subject)s was reset",
    "password.reset_link_created": "%(actor)s made a password reset link for %(subject)s",
    "two_factor.enabled": "%(subject)s switched on two-step sign-in",
    "two_factor.disabled": "Two-step sign-in of %(subject)s was switched off",
    "two_factor.recovery_code_used": "%(subject)s signed in with a recovery code",
    "two_factor.recovery_codes_replaced": "%(subject)s made new recovery codes",
    "session.ended": "%(actor)s ended a session",
    "session.ended_others": "%(actor)s ended all other sessions",
    "app.revoked": "%(actor)s took an app's access away",
    "token.revoked": "%(actor)s revoked an access token",
}
LINK_TEXTS = {"post": "Open the post", "account": "Open the account", "report": "Open the report",
              "policy": "Open the policy checks", "conversation": "Open the conversation"}


def _day(raw: str, name: str) -> datetime | None:
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw).replace(tzinfo=timezone.utc)
    except ValueError:
        raise Invalid("%(name)s must be a date like 2026-11-29.", name=name) from None


@page(signed_in=True)
async def audit_page(ctx: PageContext) -> Response:
    assert ctx.viewer is not None
    query = ctx.request.query_params
    async with connection(ctx.deps.pool) as conn:
        org = await organisations.get_organisation_by_slug(conn, ctx.request.path_params["slug"])
        if org is None:
            raise NotFound("There is no organisation with that name here.")
        if not badges.may_manage(ctx.viewer, org.id):
            raise Forbidden("Only the organisation's admins may see its audit log.")
        since, until = _day(query.get("from", ""), "from"), _day(query.get("until", ""), "until")
        entries = await audit.list_for_organisation(conn, org.id, action_prefix=query.get("action", "").strip(),
                                                    since=since, until=until + timedelta(days=1) if until else None)
        export = query.get("format", "")
        shown = entries if export else entries[:500]
        post_ids = [int(e.subject_id) for e in shown if e.subject_type == "post" and e.subject_id.isdigit()]
        found_posts = await posts.list_posts(conn, post_ids) if not export else {}
        people = await accounts.list_accounts_by_ids(conn, list(
            {e.actor_account_id for e in shown if e.actor_account_id}
            | {int(e.subject_id) for e in shown if e.subject_type == "account" and e.subject_id.isdigit()}
            | {p.account_id for p in found_posts.values()}))
    rows = [{"id": e.id, "at": e.at.isoformat(), "actor": people[e.actor_account_id].username
             if e.actor_account_id in people else "cli", "action": e.action, "subject_type": e.subject_type,
             "subject_id": e.subject_id, "detail": e.detail} for e in shown]
    if export == "json":
        return finish(Response(json.dumps(rows, ensure_ascii=False, indent=1), media_type="application/json",
                               headers={"Content-Disposition": f'attachment; filename="audit-{org.slug}.json"'}), ctx)
    if export == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=FIELDS)
        writer.writeheader()
        for row in rows:
            writer.writerow({**row, "detail": json.dumps(row["detail"], ensure_ascii=False)})
        return finish(Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                               headers={"Content-Disposition": f'attachment; filename="audit-{org.slug}.csv"'}), ctx)
    lines = [_line(ctx, org, e, people, found_posts) for e in shown]
    return render(ctx, "audit.html", organisation=org, lines=lines, filters=dict(query),
                  zone=ORGANISATION_TIMEZONE)


def _line(ctx: PageContext, org: Organisation, entry: Entry, people: dict[int, Account],
          found_posts: dict[int, posts.Post]) -> dict[str, Any]:
    """One entry as the page shows it: local time to the minute, a sentence, and where to look."""
    actor = people.get(entry.actor_account_id) if entry.actor_account_id else None
    post = found_posts.get(int(entry.subject_id)) if entry.subject_type == "post" and entry.subject_id.isdigit() \
        else None
    author = people.get(post.account_id) if post else None
    subject = people.get(int(entry.subject_id)) if entry.subject_type == "account" and entry.subject_id.isdigit() \
        else None
    names = {"actor": actor.name if actor else ctx.gettext("An operator at the command line"),
             "author": author.name if author else str(entry.detail.get("author") or ctx.gettext("someone")),
             "subject": subject.name if subject else ctx.gettext("someone")}
    template = SENTENCES.get(entry.action)
    sentence = ctx.gettext(template, **names) if template else f"{names['actor']}: {entry.action}"
    link: tuple[str, str] | None = None
    if post is not None and author is not None and post.deleted_at is None and author.is_local:
        link = (f"/@{author.username}/{post.id}", LINK_TEXTS["post"])
    elif subject is not None:
        link = (account_path(subject), LINK_TEXTS["account"])
    elif entry.subject_type == "report" and ctx.viewer is not None and ctx.viewer.may_moderate:
        link = (f"/admin/reports/{entry.subject_id}", LINK_TEXTS["report"])
    elif entry.action == "policy.setting":
        link = (f"/orgs/{org.slug}/policy", LINK_TEXTS["policy"])
    elif entry.subject_type == "webcare_conversation" and entry.subject_id.isdigit():
        link = (f"/orgs/{org.slug}/webcare/{entry.subject_id}", LINK_TEXTS["conversation"])
    when = format_datetime(entry.at, "d MMM y HH:mm", tzinfo=get_timezone(ORGANISATION_TIMEZONE), locale=ctx.lang)
    return {"id": entry.id, "at": entry.at.isoformat(), "when": when,
            "sentence": sentence, "action": entry.action,
            "link": (link[0], ctx.gettext(link[1])) if link else None}


ROUTES = [Route("/orgs/{slug}/audit", audit_page, methods=["GET"])]
