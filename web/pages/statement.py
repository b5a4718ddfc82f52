"""The accessibility statement: the public page and the form with which an instance admin fills it in.

Owns: /toegankelijkheid (the statement in the structure of the Dutch model statement, or a clear notice that the
node's admins have not filled it in yet) and /admin/statement (the form, instance admins only). Never: SQL (the
table is server/accessibility_statement.py's).
"""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from server import accessibility_statement
from server.db.pool import connection, transaction
from server.errors import Forbidden, Invalid
from web.context import PageContext, read_form, redirect, render
from web.handlers import page

FIELDS = ("organisation_name", "scope", "status", "known_issues", "contact_email", "contact_details", "audit_date",
          "audit_by", "audit_report_url")


def require_admin(ctx: PageContext) -> None:
    if ctx.viewer is None or not (ctx.viewer.is_admin and ctx.viewer.is_local and ctx.viewer.is_active):
        raise Forbidden("Only instance admins may see this page.")


@page()
async def public_statement(ctx: PageContext) -> Response:
    async with connection(ctx.deps.pool) as conn:
        statement = await accessibility_statement.get_statement(conn)
    return render(ctx, "statement.html", statement=statement, statuses=accessibility_statement.STATUSES)


def _values(statement: accessibility_statement.Statement | None) -> dict[str, str]:
    if statement is None:
        return {name: "" for name in FIELDS}
    return {name: "" if getattr(statement, name) is None else str(getattr(statement, name)) for name in FIELDS}


@page(signed_in=True)
async def statement_form(ctx: PageContext) -> Response:
    require_admin(ctx)
    async with connection(ctx.deps.pool) as conn:
        statement = await accessibility_statement.get_statement(conn)
    return render(ctx, "admin_statement.html", values=_values(statement), statuses=accessibility_statement.STATUSES,
                  saved=ctx.request.query_params.get("done") == "saved")


@page(signed_in=True)
async def statement_submit(ctx: PageContext) -> Response:
    require_admin(ctx)
    assert ctx.viewer is not None
    form = await read_form(ctx)
    values = {name: str(form.get(name, "")) for name in FIELDS}
    try:
        async with transaction(ctx.deps.pool) as conn:
            await accessibility_statement.upsert_statement(conn, values, by=ctx.viewer.id, now=ctx.now)
    except Invalid as error:
        return render(ctx, "admin_statement.html", status=422, values=values,
                      statuses=accessibility_statement.STATUSES, error=error.translated(ctx.gettext))
    return redirect(ctx, "/admin/statement?done=saved")


ROUTES = [
    Route("/toegankelijkheid", public_statement, methods=["GET"]),
    Route("/admin/statement", statement_form, methods=["GET"]),
    Route("/admin/statement", statement_submit, methods=["POST"]),
]
