"""Reporting an account or a post to this node's moderators, from a post, a profile or a notification.

Owns: /report (the form and its submission) and /report/sent. Never: SQL, or deciding what may be reported
(moderation/reports.py does).
"""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.responses import Response
from starlette.routing import Route

from moderation import reports
from server import accounts, timelines, visibility
from server.accounts import Account
from server.db.pool import connection, transaction
from server.errors import DomainError, Gone, Invalid, NotFound
from server.timelines import Page
from web.context import PageContext, read_form, redirect, render
from web.handlers import page

# What each category means, in the words Mastodon's report dialog uses.
CATEGORY_TEXT = {
    "spam": "Spam: unwanted advertising, misleading links, or repeated replies",
    "legal": "Illegal: you think it breaks the law of your or their country",
    "violation": "Breaks the rules of this server: abuse, threats, impersonation of an official",
    "other": "Something else",
}
SHOWN_POSTS = 20


def _number(raw: object) -> int | None:
    text = str(raw or "")
    return int(text) if text.isdigit() and len(text) <= 19 else None


async def _target(ctx: PageContext, raw: object) -> Account:
    account_id = _number(raw)
    async with connection(ctx.deps.pool) as conn:
        account = await accounts.get_account(conn, account_id) if account_id is not None else None
    if account is None or account.disabled_at is not None:
        raise NotFound("There is no account with that name here.")
    if account.is_suspended:
        raise Gone("This account has been suspended by the moderators of this server.")
    return account


async def _render_form(ctx: PageContext, target: Account, *, chosen: list[int], values: dict[str, str],
                       status: int = 200, error: str | None = None) -> Response:
    assert ctx.viewer is not None
    async with connection(ctx.deps.pool) as conn:
        ids = await timelines.account_ids(conn, ctx.viewer.id, target.id, Page(limit=SHOWN_POSTS),
                                          exclude_reblogs=True)
        # A chosen post older than the shown ones stays in the list, so the choice is never lost. The ids come
        # from the address or the form, so they pass the visibility rule (hydrate applies it) and must be the
        # reported account's own posts, like the listed ones.
        ids = [*[i for i in chosen if i not in ids], *ids]
        views = [v for v in await timelines.hydrate(conn, ids, ctx.viewer.id)
                 if v.post.account_id == target.id and v.post.reblog_of_id is None]
    return render(ctx, "report.html", status=status, target=target, views=views, chosen=set(chosen),
                  values=values, categories=CATEGORY_TEXT, error=error, max_comment=reports.MAX_COMMENT)


async def _author_of(ctx: PageContext, post_id: int | None) -> int | None:
    """The author of a post the viewer can see: /report?post_id=N needs no account id."""
    assert ctx.viewer is not None
    async with connection(ctx.deps.pool) as conn:
        post = await visibility.get_visible_post(conn, post_id, ctx.viewer.id) if post_id is not None else None
    return post.account_id if post is not None else None


@page(signed_in=True)
async def report_form(ctx: PageContext) -> Response:
    query = ctx.request.query_params
    post_id = _number(query.get("post_id"))
    target = await _target(ctx, query.get("account_id") or await _author_of(ctx, post_id))
    return await _render_form(ctx, target, chosen=[post_id] if post_id is not None else [],
                              values={"category": "", "comment": "", "forward": ""})


def _chosen(form: FormData) -> list[int]:
    return [n for n in (_number(v) for v in form.getlist("post_ids")) if n is not None]


@page(signed_in=True)
async def report_submit(ctx: PageContext) -> Response:
    assert ctx.viewer is not None
    form = await read_form(ctx)
    target = await _target(ctx, form.get("account_id"))
    values = {"category": str(form.get("category", ""))[:20], "comment": str(form.get("comment", ""))[:10_000],
              "forward": "on" if form.get("forward") else ""}
    chosen = _chosen(form)
    try:
        if not values["category"]:
            raise Invalid("Choose a category: spam, legal, violation or other.")
        async with transaction(ctx.deps.pool) as conn:
            await reports.file_report(conn, ctx.deps.settings, ctx.viewer, target, post_ids=chosen,
                                      category=values["category"], comment=values["comment"],
                                      forward=bool(values["forward"]), now=ctx.now)
    except DomainError as error:
        return await _render_form(ctx, target, chosen=chosen, values=values, status=error.http_status,
                                  error=error.translated(ctx.gettext))
    return redirect(ctx, f"/report/sent?account_id={target.id}")


@page(signed_in=True)
async def report_sent(ctx: PageContext) -> Response:
    target = await _target(ctx, ctx.request.query_params.get("account_id"))
    return render(ctx, "report_sent.html", target=target)


ROUTES = [
    Route("/report", report_form, methods=["GET"]),
    Route("/report", report_submit, methods=["POST"]),
    Route("/report/sent", report_sent, methods=["GET"]),
]
