"""Writing, reading, editing and deleting posts, and liking and boosting them.

Owns: /compose, /@{username}/{id} and its edit/delete/like/boost actions. Never: SQL or federation.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from federation import resolver
from server import accounts, compose, posts, publishing, timelines, visibility
from server.db.pool import connection, transaction
from server.errors import DomainError, NotFound
from server.publishing import Draft
from web.context import PageContext, finish, read_form, redirect, render, safe_next
from web.handlers import page, path_int
from web.pages.user_controls import thread_marks

VISIBILITY_CHOICES = ("public", "unlisted", "private", "direct")


def composer_values(ctx: PageContext, form: FormData | None = None, reply_to: int | None = None) -> dict[str, object]:
    """What the composer shows: the author's defaults, or what they submitted."""
    assert ctx.viewer is not None
    if form is None:
        return {"text": "", "spoiler_text": "", "visibility": "public", "voice": ctx.viewer.default_voice,
                "in_reply_to_id": reply_to or ""}
    return {"text": str(form.get("text", "")), "spoiler_text": str(form.get("spoiler_text", "")),
            "visibility": str(form.get("visibility", "public")), "voice": str(form.get("voice", "")),
            "in_reply_to_id": str(form.get("in_reply_to_id", ""))}


def reply_voice(viewer: accounts.Account, target: timelines.PostView) -> str:
    """A reply to an official post of the replier's own organisation speaks for the organisation too, unless the
    replier switches; any other reply starts in the replier's default voice."""
    post = target.post
    if (post.voice == "official" and post.organisation_id is not None
            and post.organisation_id == viewer.organisation_id and "official" in viewer.allowed_voices):
        return "official"
    return viewer.default_voice


async def _reply_target(ctx: PageContext, raw: object) -> timelines.PostView | None:
    if not raw:
        return None
    text = str(raw)
    if not text.isdigit() or len(text) > 19:
        raise NotFound("The post you are replying to does not exist or is not visible to you.")
    viewer_id = ctx.viewer.id if ctx.viewer else None
    async with connection(ctx.deps.pool) as conn:
        post = await visibility.get_visible_post(conn, int(text), viewer_id)
        if post is None:
            raise NotFound("The post you are replying to does not exist or is not visible to you.")
        return (await timelines.hydrate(conn, [post.id], viewer_id))[0]


@page(signed_in=True)
async def compose_form(ctx: PageContext) -> Response:
    target = await _reply_target(ctx, ctx.request.query_params.get("in_reply_to"))
    values = composer_values(ctx, reply_to=target.post.id if target else None)
    if target:
        assert ctx.viewer is not None
        values["visibility"] = target.post.visibility
        values["voice"] = reply_voice(ctx.viewer, target)
        values["text"] = f"@{target.author.acct} " if target.author.id != ctx.viewer.id else ""
    return render(ctx, "compose.html", composer=values, reply_to=target)


@page(signed_in=True)
async def compose_submit(ctx: PageContext) -> Response:
    assert ctx.viewer is not None
    form = await read_form(ctx)
    values = composer_values(ctx, form)
    try:
        reply_to = await _reply_target(ctx, values["in_reply_to_id"])
        draft = Draft(text=str(values["text"]), spoiler_text=str(values["spoiler_text"]),
                      visibility=str(values["visibility"]), voice=str(values["voice"]) or None,
                      in_reply_to_id=reply_to.post.id if reply_to else None,
                      confirm_policy=form.get("confirm_policy") == "yes")
        post = await compose.compose_post(
            ctx.deps, ctx.viewer, draft,
            resolve_mentions=partial(resolver.resolve_mentions, ctx.request.app.state.federation))
    except publishing.PolicyStopped as stopped:
        # The refusal is in the audit log already (compose_post). Without JavaScript the page itself is the
        # confirmation step: the findings, and a box to tick.
        return render(ctx, "compose.html", status=stopped.http_status, composer=values, reply_to=None,
                      error=stopped.translated(ctx.gettext),
                      confirm=isinstance(stopped, publishing.PolicyNeedsConfirmation))
    except DomainError as error:
        return render(ctx, "compose.html", status=error.http_status, composer=values, reply_to=None,
                      error=error.translated(ctx.gettext))
    assert post is not None  # None only answers an Idempotency-Key, which the composer never sends
    return redirect(ctx, f"/@{ctx.viewer.username}/{post.id}")


async def _post_and_author(ctx: PageContext) -> tuple[timelines.PostView, accounts.Account]:
    post_id = path_int(ctx, "post_id")
    viewer_id = ctx.viewer.id if ctx.viewer else None
    async with connection(ctx.deps.pool) as conn:
        author = await accounts.get_account_by_username(conn, ctx.request.path_params["username"])
        post = await visibility.get_visible_post(conn, post_id, viewer_id)
        if author is None or post is None or post.account_id != author.id or post.reblog_of_id is not None:
            raise NotFound("That post does not exist or is not visible to you.")
        view = (await timelines.hydrate(conn, [post.id], viewer_id))[0]
    return view, author


@page()
async def post_page(ctx: PageContext) -> Response:
    view, author = await _post_and_author(ctx)
    viewer_id = ctx.viewer.id if ctx.viewer else None
    async with connection(ctx.deps.pool) as conn:
        ancestors, descendants = await timelines.context_ids(conn, viewer_id, view.post.id)
        before = await timelines.hydrate(conn, ancestors, viewer_id)
        after = await timelines.hydrate(conn, descendants, viewer_id)
        history = await posts.list_post_edits(conn, view.post.id)
        marks = await thread_marks(conn, viewer_id, view.post.id, descendants)
    composer = None
    if ctx.viewer is not None and view.post.state == "published":  # nobody answers a post that waits for review
        composer = {**composer_values(ctx, reply_to=view.post.id), "voice": reply_voice(ctx.viewer, view)}
    return render(ctx, "post.html", view=view, author=author, ancestors=before, descendants=after, history=history,
                  composer=composer, **marks)


@page(signed_in=True)
async def edit_form(ctx: PageContext) -> Response:
    view, author = await _post_and_author(ctx)
    if ctx.viewer is None or author.id != ctx.viewer.id:
        raise NotFound("That post does not exist or is not visible to you.")
    return render(ctx, "edit.html", view=view, text=view.post.source_text, spoiler_text=view.post.spoiler_text)


@page(signed_in=True)
async def edit_submit(ctx: PageContext) -> Response:
    assert ctx.viewer is not None
    view, _ = await _post_and_author(ctx)
    form = await read_form(ctx)
    body, spoiler = str(form.get("text", "")), str(form.get("spoiler_text", ""))
    try:
        async with transaction(ctx.deps.pool) as conn:
            await publishing.edit_post(conn, ctx.deps.settings, ctx.viewer, view.post.id, body=body,
                                       spoiler_text=spoiler, now=ctx.now)
    except DomainError as error:
        return render(ctx, "edit.html", status=error.http_status, view=view, text=body, spoiler_text=spoiler,
                      error=error.translated(ctx.gettext))
    return redirect(ctx, f"/@{ctx.viewer.username}/{view.post.id}")


@page(signed_in=True)
async def delete_submit(ctx: PageContext) -> Response:
    assert ctx.viewer is not None
    view, _ = await _post_and_author(ctx)
    await read_form(ctx)
    async with transaction(ctx.deps.pool) as conn:
        await publishing.delete_post(conn, ctx.viewer, view.post.id, ctx.now)
    return redirect(ctx, f"/@{ctx.viewer.username}")


def _reaction(action: str) -> Callable[[Request], Awaitable[Response]]:
    """One handler per reaction; they differ only in the publishing function they call."""
    @page(signed_in=True)
    async def handler(ctx: PageContext) -> Response:
        assert ctx.viewer is not None
        post_id = path_int(ctx, "post_id")
        form = await read_form(ctx)
        async with transaction(ctx.deps.pool) as conn:
            operation = getattr(publishing, action)
            await operation(conn, ctx.viewer, post_id, ctx.now)
        fallback = f"/posts/{post_id}"
        return redirect(ctx, safe_next(str(form.get("next", "")), fallback) + f"#post-{post_id}")
    handler.__name__ = action
    return handler


@page(signed_in=True)
async def compose_preview(ctx: PageContext) -> Response:
    """The composer's script asks this as one types: the findings in the visitor's language, nothing stored."""
    assert ctx.viewer is not None
    form = await read_form(ctx)
    draft = Draft(text=str(form.get("text", "")), spoiler_text=str(form.get("spoiler_text", "")),
                  visibility=str(form.get("visibility", "public")), voice=str(form.get("voice", "")) or None)
    try:
        async with connection(ctx.deps.pool) as conn:
            verdict = await publishing.preview_policy(conn, ctx.viewer, draft, ctx.now)
    except DomainError as error:
        return finish(JSONResponse({"error": error.translated(ctx.gettext)}, status_code=error.http_status), ctx)
    findings = [{"action": f.action, "message": f.message_nl if ctx.lang == "nl" else f.message_en}
                for f in (verdict.findings if verdict else ())]
    return finish(JSONResponse({"outcome": verdict.outcome if verdict else "pass", "findings": findings}), ctx)


@page()
async def any_post_page(ctx: PageContext) -> Response:
    """A post by its id alone: remote posts live here; local ones move to their canonical address."""
    post_id = path_int(ctx, "post_id")
    viewer_id = ctx.viewer.id if ctx.viewer else None
    async with connection(ctx.deps.pool) as conn:
        post = await visibility.get_visible_post(conn, post_id, viewer_id)
        if post is None or post.reblog_of_id is not None:
            raise NotFound("That post does not exist or is not visible to you.")
        view = (await timelines.hydrate(conn, [post.id], viewer_id))[0]
        if view.author.is_local:
            return redirect(ctx, f"/@{view.author.username}/{post.id}")
        ancestors, descendants = await timelines.context_ids(conn, viewer_id, post.id)
        before = await timelines.hydrate(conn, ancestors, viewer_id)
        after = await timelines.hydrate(conn, descendants, viewer_id)
        history = await posts.list_post_edits(conn, post.id)
        marks = await thread_marks(conn, viewer_id, post.id, descendants)
    return render(ctx, "post.html", view=view, author=view.author, ancestors=before, descendants=after,
                  history=history, composer=composer_values(ctx, reply_to=post.id) if ctx.viewer else None, **marks)


ROUTES = [
    Route("/posts/{post_id}", any_post_page, methods=["GET"]),
    *[Route(f"/posts/{{post_id}}/{name}", _reaction(action), methods=["POST"])
      for name, action in (("like", "favourite"), ("unlike", "unfavourite"), ("boost", "boost"),
                           ("unboost", "unboost"))],
    Route("/compose", compose_form, methods=["GET"]),
    Route("/compose", compose_submit, methods=["POST"]),
    Route("/compose/preview", compose_preview, methods=["POST"]),
    Route("/@{username}/{post_id}", post_page, methods=["GET"]),
    Route("/@{username}/{post_id}/edit", edit_form, methods=["GET"]),
    Route("/@{username}/{post_id}/edit", edit_submit, methods=["POST"]),
    Route("/@{username}/{post_id}/delete", delete_submit, methods=["POST"]),
    *[Route(f"/@{{username}}/{{post_id}}/{name}", _reaction(action), methods=["POST"])
      for name, action in (("like", "favourite"), ("unlike", "unfavourite"), ("boost", "boost"),
                           ("unboost", "unboost"))],
]
