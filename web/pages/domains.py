"""Domain policies for moderators, and the public list of limited servers.

Owns: /admin/domains (the policies, the federation mode and the allowlist, with their forms; CSV import by
upload and export as a download) for admins and moderators, /about/domains (the public list, as Mastodon shows
it on its about page; its JSON twin /api/v1/instance/domain_blocks is in web/api/instance.py). Never: SQL, or what
a policy does (moderation/domain_blocks.py decides and audits).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import quote, urlencode

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from moderation import account_actions, domain_blocks, domain_lists
from server import accounts, audit
from server.accounts import Account
from server.db.pool import connection, transaction
from server.errors import DomainError, Invalid
from web.context import PageContext, finish, read_form, redirect, render
from web.handlers import page

SEVERITY_NAMES = {"suspend": "Suspended", "silence": "Limited", "reject-media": "Media rejected",
                  "noop": "Reports rejected"}
AUDIT_NAMES = {"domain.blocked": "Policy added", "domain.updated": "Policy changed",
               "domain.unblocked": "Policy removed", "domain.allowed": "Added to the allowlist",
               "domain.disallowed": "Taken off the allowlist", "domain.mode": "Federation mode changed"}
NOTICES = {
    "blocked": "The policy for %(domain)s is in place.",
    "unblocked": "%(domain)s no longer has a policy.",
    "allowed": "%(domain)s is on the allowlist.",
    "disallowed": "%(domain)s is no longer on the allowlist.",
    "mode": "The federation mode is changed.",
    "imported": "%(count)s domain policies imported; %(skipped)s domains already had one.",
}


def _moderator(ctx: PageContext) -> Account:
    return account_actions.require_moderator(ctx.viewer)


def _notice(ctx: PageContext) -> str | None:
    params = ctx.request.query_params
    template = NOTICES.get(params.get("done", ""))
    if template is None:
        return None
    return ctx.gettext(template, domain=params.get("domain", "")[:300], count=params.get("count", "0")[:9],
                       skipped=params.get("skipped", "0")[:9])


async def _render(ctx: PageContext, *, status: int = 200, error: str | None = None) -> Response:
    async with connection(ctx.deps.pool) as conn:
        mode = await domain_blocks.get_mode(conn)
        policies = await domain_blocks.list_policies(conn)
        allowed = await domain_blocks.list_allowed(conn)
        entries = await audit.list_entries(conn, subject_type="domain", limit=30)
        people = await accounts.list_accounts_by_ids(
            conn, list({e.actor_account_id for e in entries if e.actor_account_id}))
    return render(ctx, "admin_domains.html", status=status, mode=mode, policies=policies, allowed=allowed,
                  entries=entries, people=people, severity_names=SEVERITY_NAMES, audit_names=AUDIT_NAMES,
                  severities=domain_blocks.SEVERITY_CHOICES, error=error, notice=None if error else _notice(ctx))


def _done(ctx: PageContext, done: str, **values: str) -> Response:
    return redirect(ctx, "/admin/domains?" + urlencode({"done": done, **values}))


Action = Callable[[PageContext, Account, dict[str, str]], Awaitable[Response]]


def _action(work: Action, name: str) -> Callable[[Request], Awaitable[Response]]:
    """A form that changes policies: CSRF-checked, moderators only, one transaction; a refusal is shown on the
    page with nothing changed."""

    @page(signed_in=True)
    async def handler(ctx: PageContext) -> Response:
        form = await read_form(ctx)
        moderator = _moderator(ctx)
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        try:
            return await work(ctx, moderator, fields)
        except DomainError as error:
            return await _render(ctx, status=error.http_status, error=error.translated(ctx.gettext))

    handler.__name__ = name
    return handler


async def _block(ctx: PageContext, moderator: Account, form: dict[str, str]) -> Response:
    terms = domain_blocks.terms_for(form.get("severity", ""), reject_media=form.get("reject_media") == "on",
                                    reject_reports=form.get("reject_reports") == "on",
                                    obfuscate=form.get("obfuscate") == "on",
                                    private_comment=form.get("reason", ""),
                                    public_comment=form.get("public_comment", ""))
    async with transaction(ctx.deps.pool) as conn:
        change = await domain_blocks.block(conn, form.get("domain", "")[:300], terms,
                                           own_domain=ctx.deps.settings.domain, actor=moderator, now=ctx.now,
                                           destroy_records=form.get("destroy_records") == "on")
    return _done(ctx, "blocked", domain=change.domain)


async def _unblock(ctx: PageContext, moderator: Account, form: dict[str, str]) -> Response:
    async with transaction(ctx.deps.pool) as conn:
        change = await domain_blocks.unblock(conn, form.get("domain", "")[:300], actor=moderator, now=ctx.now)
    return _done(ctx, "unblocked", domain=change.domain)


async def _allow(ctx: PageContext, moderator: Account, form: dict[str, str]) -> Response:
    domain = domain_blocks.normalise_domain(form.get("domain", "")[:300])
    async with transaction(ctx.deps.pool) as conn:
        await domain_blocks.allow(conn, domain, own_domain=ctx.deps.settings.domain, actor=moderator,
                                  now=ctx.now)
    return _done(ctx, "allowed", domain=domain)


async def _disallow(ctx: PageContext, moderator: Account, form: dict[str, str]) -> Response:
    async with transaction(ctx.deps.pool) as conn:
        domain = await domain_blocks.disallow(conn, form.get("domain", "")[:300], actor=moderator, now=ctx.now)
    return _done(ctx, "disallowed", domain=domain)


async def _mode(ctx: PageContext, moderator: Account, form: dict[str, str]) -> Response:
    async with transaction(ctx.deps.pool) as conn:
        await domain_blocks.set_mode(conn, form.get("mode", ""), actor=moderator, now=ctx.now)
    return _done(ctx, "mode")


@page(signed_in=True)
async def import_csv(ctx: PageContext) -> Response:
    form = await read_form(ctx)
    moderator = _moderator(ctx)
    upload = form.get("file")
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise Invalid("Choose a CSV file to import.")
        data = await upload.read(domain_lists.MAX_CSV_BYTES + 1)
        async with transaction(ctx.deps.pool) as conn:
            done = await domain_lists.import_csv(conn, data, own_domain=ctx.deps.settings.domain,
                                                  actor=moderator, now=ctx.now,
                                                  source=upload.filename.rsplit("/", 1)[-1],
                                                  default_severity=str(form.get("severity", "suspend")))
    except DomainError as error:
        return await _render(ctx, status=error.http_status, error=error.translated(ctx.gettext))
    return _done(ctx, "imported", count=str(len(done.added)), skipped=str(len(done.skipped)))


@page(signed_in=True)
async def export_csv(ctx: PageContext) -> Response:
    _moderator(ctx)
    async with connection(ctx.deps.pool) as conn:
        text = domain_lists.to_csv(await domain_blocks.list_policies(conn))
    filename = f"domain_blocks-{ctx.deps.settings.domain.replace(':', '_')}.csv"
    response = Response(text, media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"})
    return finish(response, ctx)


@page(signed_in=True)
async def domains_page(ctx: PageContext) -> Response:
    _moderator(ctx)
    return await _render(ctx)


@page()
async def public_page(ctx: PageContext) -> Response:
    async with connection(ctx.deps.pool) as conn:
        found = domain_blocks.public_list(await domain_blocks.list_policies(conn))
        mode = await domain_blocks.get_mode(conn)
    return render(ctx, "about_domains.html", blocks=found, mode=mode, severity_names=SEVERITY_NAMES)


ROUTES = [
    Route("/admin/domains", domains_page, methods=["GET"]),
    Route("/admin/domains/block", _action(_block, "block"), methods=["POST"]),
    Route("/admin/domains/unblock", _action(_unblock, "unblock"), methods=["POST"]),
    Route("/admin/domains/allow", _action(_allow, "allow"), methods=["POST"]),
    Route("/admin/domains/disallow", _action(_disallow, "disallow"), methods=["POST"]),
    Route("/admin/domains/mode", _action(_mode, "mode"), methods=["POST"]),
    Route("/admin/domains/import", import_csv, methods=["POST"]),
    Route("/admin/domains/export", export_csv, methods=["GET"]),
    Route("/about/domains", public_page, methods=["GET"]),
]
