"""The reviewers' queue: held posts of the organisation, approved (published now) or rejected with a reason.

Owns: /review and its decisions. Never: SQL, or publishing itself (server.publishing releases a post).
"""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from server import posts, publishing, timelines, visibility
from server.db.pool import connection, transaction
from server.errors import DomainError, Forbidden, Invalid
from web.context import PageContext, read_form, redirect, render
from web.handlers import page, path_int


def _require_reviewer(ctx: PageContext) -> None:
    viewer = ctx.viewer
    if viewer is None or not (viewer.is_admin or viewer.org_role in ("reviewer", "org_admin")):
        raise Forbidden("Only reviewers and organisation admins may see this page.")


async def _queue(ctx: PageContext, *, status: int = 200, error: str | None = None) -> Response:
    assert ctx.viewer is not None
    async with connection(ctx.deps.pool) as conn:
        ids = await posts.list_held(conn, ctx.viewer.organisation_id) if ctx.viewer.organisation_id else []
        views = [v for v in await timelines.hydrate(conn, ids, ctx.viewer.id)
                 if visibility.may_review(ctx.viewer, v.author)]
        # Each decision names the version shown here, so an edit made meanwhile makes it fail (409).
        versions = {v.post.id: await publishing.review_version(conn, v.post) for v in views}
    return render(ctx, "review.html", status=status, views=views, versions=versions, error=error)


@page(signed_in=True)
async def queue(ctx: PageContext) -> Response:
    _require_reviewer(ctx)
    return await _queue(ctx)


def _decision(kind: str):  # type: ignore[no-untyped-def]
    @page(signed_in=True)
    async def handler(ctx: PageContext) -> Response:
        form = await read_form(ctx)
        _require_reviewer(ctx)
        assert ctx.viewer is not None
        post_id = path_int(ctx, "post_id")
        reason = str(form.get("reason", ""))[:1000]
        version = str(form.get("version", ""))[:64]
        try:
            if not version:
                raise Invalid("The form does not say which version of the post you read; open the queue again.")
            async with transaction(ctx.deps.pool) as conn:
                if kind == "approve":
                    await publishing.approve_held(conn, ctx.viewer, post_id, ctx.now, version=version)
                else:
                    await publishing.reject_held(conn, ctx.viewer, post_id, reason, ctx.now, version=version,
                                                 changes_requested=kind == "changes")
        except DomainError as error:
            return await _queue(ctx, status=error.http_status, error=error.translated(ctx.gettext))
        return redirect(ctx, "/review")
    handler.__name__ = f"review_{kind}"
    return handler


ROUTES = [
    Route("/review", queue, methods=["GET"]),
    *[Route(f"/review/{{post_id}}/{kind}", _decision(kind), methods=["POST"]) for kind in ("approve", "reject",
                                                                                          "changes")],
]
