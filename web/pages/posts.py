"""Writing, reading, editing and deleting posts, and liking and boosting them.

Owns: /compose, /@{username}/{id} and its edit/delete/like/boost actions. Never: SQL or federation.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from federation import resolver
from server import accounts, compose, media, posts, publishing, read_cache, timelines, visibility, webcare_answers
from server.db.pool import connection, transaction
from server.errors import DomainError, Invalid, NotFound
from server.publishing import Draft
from web.context import PageContext, finish, read_form, redirect, render, safe_next
from web.handlers import page, path_int
from web.page_cache import cached_page, view_tags
from web.pages import scheduled, share
from web.pages.webcare import organisation_voice
from web.pages.polls import poll_values, read_poll_form
from web.pages.user_controls import thread_marks
from web.pages.quotes import list_quote_views

VISIBILITY_CHOICES = ("public", "unlisted", "private", "direct")
MAX_IMAGES = 4


@dataclass(frozen=True)
class ImageSlot:
    """One of the form's four image places: an image stored already (posted, or uploaded by an earlier try of the
    same form, so that a refusal never makes the author choose the file again), or a place for a new file."""

    number: int
    description: str = ""
    attachment: media.Attachment | None = None


@dataclass(frozen=True)
class SubmittedImage:
    """What the form says of one image place."""

    media_id: int | None
    upload: UploadFile | None
    description: str
    remove: bool


def image_slots(stored: Sequence[tuple[media.Attachment, str]]) -> list[ImageSlot]:
    """The images to show with their (possibly edited) descriptions, then empty places up to four."""
    slots = [ImageSlot(n, description, attachment) for n, (attachment, description) in enumerate(stored[:MAX_IMAGES], 1)]
    return slots + [ImageSlot(n) for n in range(len(slots) + 1, MAX_IMAGES + 1)]


def submitted_images(form: FormData) -> list[SubmittedImage]:
    """The image places of a submitted composer or edit form: `media_id_N` (stored), `image_N` (a new file, left
    empty when none was chosen), `description_N` (alt text) and `remove_N`, for N from 1 to 4."""
    images = []
    for n in range(1, MAX_IMAGES + 1):
        raw_id = str(form.get(f"media_id_{n}", ""))
        upload = form.get(f"image_{n}")
        chosen = upload if isinstance(upload, UploadFile) and (upload.filename or upload.size) else None
        if raw_id and (not raw_id.isdigit() or len(raw_id) > 19):
            raise NotFound("Record not found")
        images.append(SubmittedImage(int(raw_id) if raw_id else None, chosen, str(form.get(f"description_{n}", "")),
                                     form.get(f"remove_{n}") == "yes"))
    return images


async def _store_uploads(ctx: PageContext, images: Sequence[SubmittedImage],
                         post_id: int | None) -> tuple[list[tuple[media.Attachment, str]], str | None]:
    """Store the newly chosen files as the viewer's uploads, each in its own transaction, so that an unreadable
    file does not lose the others; then the images the form keeps, with the descriptions typed. Returns them and
    the first refusal's message, if any.

    A stored image from the form must be the viewer's, and either an upload not posted yet or (`post_id`, when
    editing) one of that post's images: anything else is refused, so that this form can never change an image
    outside the edit path."""
    assert ctx.viewer is not None
    kept: list[tuple[media.Attachment, str]] = []
    problem = None
    for image in images:
        if image.remove:
            continue
        if image.upload is not None:
            data = await image.upload.read(media.MAX_BYTES + 1)
            try:
                async with transaction(ctx.deps.pool) as conn:
                    stored = await media.insert_attachment(conn, settings=ctx.deps.settings,
                                                           account_id=ctx.viewer.id, data=data,
                                                           description=image.description, focus=None, now=ctx.now)
            except DomainError as error:
                problem = problem or f"{image.upload.filename}: {error.translated(ctx.gettext)}"
                continue
            kept.append((stored, image.description))
        elif image.media_id is not None:
            async with connection(ctx.deps.pool) as conn:
                found = await media.get_attachment(conn, image.media_id)
            if found is None or found.account_id != ctx.viewer.id or found.remote_url \
                    or found.post_id not in (None, post_id):
                raise NotFound("Record not found")
            kept.append((found, image.description))
    if len(kept) > MAX_IMAGES:
        raise Invalid("A post can have at most 4 images.")
    return kept, problem


def composer_values(ctx: PageContext, form: FormData | None = None, reply_to: int | None = None) -> dict[str, object]:
    """What the composer shows: the author's defaults, or what they submitted."""
    assert ctx.viewer is not None
    later = {"scheduled_at": str(form.get("scheduled_at", "")) if form else "", "earliest": scheduled.earliest(ctx)}
    if form is None:
        return {"text": "", "spoiler_text": "", "visibility": "public", "voice": ctx.viewer.default_voice,
                "in_reply_to_id": reply_to or "", "images": image_slots([]), "poll": poll_values(form), **later}
    return {"text": str(form.get("text", "")), "spoiler_text": str(form.get("spoiler_text", "")),
            "visibility": str(form.get("visibility", "public")), "voice": str(form.get("voice", "")),
            "in_reply_to_id": str(form.get("in_reply_to_id", "")), "images": image_slots([]), "poll": poll_values(form), **later}


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
    values["org_account_name"] = await organisation_voice(ctx)
    return render(ctx, "compose.html", composer=values, reply_to=target)


@page(signed_in=True)
async def compose_submit(ctx: PageContext) -> Response:
    assert ctx.viewer is not None
    form = await read_form(ctx)
    values = composer_values(ctx, form)
    values["org_account_name"] = await organisation_voice(ctx)
    values["as_organisation"] = form.get("as_organisation") == "yes" and bool(values["org_account_name"])
    try:
        reply_to = await _reply_target(ctx, values["in_reply_to_id"])
        kept, problem = await _store_uploads(ctx, submitted_images(form), post_id=None)
        values["images"] = image_slots(kept)
        if problem:
            raise Invalid(problem)
        # The descriptions as typed now, on uploads not posted yet, before the organisation's checks read them.
        async with transaction(ctx.deps.pool) as conn:
            for attachment, description in kept:
                await media.update_attachment(conn, ctx.viewer.id, attachment.id, description=description, focus=None)
        draft = Draft(text=str(values["text"]), spoiler_text=str(values["spoiler_text"]),
                      visibility=str(values["visibility"]), voice=str(values["voice"]) or None,
                      in_reply_to_id=reply_to.post.id if reply_to else None,
                      media_ids=tuple(attachment.id for attachment, _ in kept),
                      confirm_policy=form.get("confirm_policy") == "yes", poll=read_poll_form(form))
        scheduled_at = scheduled.local_time(str(values["scheduled_at"]))
        if scheduled_at is not None and values["as_organisation"]:
            raise Invalid("A post as the organisation cannot be scheduled: leave the time empty.")
        if scheduled_at is not None:  # a post for later: web/pages/scheduled.py
            return await scheduled.schedule_from_composer(ctx, draft, scheduled_at)
        resolve = partial(resolver.resolve_mentions, ctx.request.app.state.federation)
        if values["as_organisation"] and ctx.viewer.organisation_id is not None:  # webcare: the official account
            post = await webcare_answers.post_as_organisation(ctx.deps, ctx.viewer, ctx.viewer.organisation_id,
                                                              draft, resolve_mentions=resolve)
            assert post is not None
            return redirect(ctx, f"/posts/{post.id}")
        post = await compose.compose_post(ctx.deps, ctx.viewer, draft, resolve_mentions=resolve)
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
    return await cached_page(ctx, _post_page)


async def _post_page(ctx: PageContext) -> tuple[Response, set[str]]:
    """The page, and the tags of what it shows (web/page_cache.py)."""
    view, author = await _post_and_author(ctx)
    viewer_id = ctx.viewer.id if ctx.viewer else None
    async with connection(ctx.deps.pool) as conn:
        ancestors, descendants = await timelines.context_ids(conn, viewer_id, view.post.id)
        before = await timelines.hydrate(conn, ancestors, viewer_id)
        after = await timelines.hydrate(conn, descendants, viewer_id)
        history = await posts.list_post_edits(conn, view.post.id)
        marks = await thread_marks(conn, viewer_id, view.post.id, descendants)
        quoted_by = await list_quote_views(conn, view.post.id, viewer_id)
    composer = None
    if ctx.viewer is not None and view.post.state == "published":  # nobody answers a post that waits for review
        composer = {**composer_values(ctx, reply_to=view.post.id), "voice": reply_voice(ctx.viewer, view)}
    tags = view_tags([view, *before, *after, *quoted_by]) | {read_cache.account_tag(author.id)}
    return render(ctx, "post.html", view=view, author=author, ancestors=before, descendants=after, history=history,
                  composer=composer, share=share.post_meta(ctx, view), quoted_by=quoted_by, **marks), tags


@page(signed_in=True)
async def edit_form(ctx: PageContext) -> Response:
    view, author = await _post_and_author(ctx)
    if ctx.viewer is None or author.id != ctx.viewer.id:
        raise NotFound("That post does not exist or is not visible to you.")
    return render(ctx, "edit.html", view=view, text=view.post.source_text, spoiler_text=view.post.spoiler_text,
                  images=image_slots([(a, a.description) for a in view.attachments]))


@page(signed_in=True)
async def edit_submit(ctx: PageContext) -> Response:
    """New words, new alt text, images taken off or added: one edit through publishing.edit_post, so that only the
    author may, the organisation's checks see the images as they will be, and other servers get an Update."""
    assert ctx.viewer is not None
    view, _ = await _post_and_author(ctx)
    form = await read_form(ctx)
    body, spoiler = str(form.get("text", "")), str(form.get("spoiler_text", ""))
    images = image_slots([(a, a.description) for a in view.attachments])
    try:
        kept, problem = await _store_uploads(ctx, submitted_images(form), post_id=view.post.id)
        images = image_slots(kept)
        if problem:
            raise Invalid(problem)
        # The form is the post's whole list of images; a form without image places at all (an older page, a
        # script) changes only the words, so that it never takes images off by leaving them out.
        with_images = any(key.startswith(("media_id_", "image_", "description_")) for key in form.keys())
        async with transaction(ctx.deps.pool) as conn:
            await publishing.edit_post(conn, ctx.deps.settings, ctx.viewer, view.post.id, body=body,
                                       spoiler_text=spoiler, now=ctx.now,
                                       confirm_policy=form.get("confirm_policy") == "yes",
                                       media_ids=[attachment.id for attachment, _ in kept] if with_images else None,
                                       media_changes=[media.MediaChange(attachment.id, description)
                                                      for attachment, description in kept])
    except DomainError as error:
        return render(ctx, "edit.html", status=error.http_status, view=view, text=body, spoiler_text=spoiler,
                      images=images, error=error.translated(ctx.gettext),
                      confirm=isinstance(error, publishing.PolicyNeedsConfirmation))
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
    # The image places as composer.js sends them: a stored image's id, or the name of a chosen file (not the file).
    stored, unsent = [], []
    for n in range(1, MAX_IMAGES + 1):
        raw_id, description = str(form.get(f"media_id_{n}", "")), str(form.get(f"description_{n}", ""))
        if raw_id.isdigit() and len(raw_id) <= 19 and form.get(f"remove_{n}") != "yes":
            stored.append(int(raw_id))
        elif str(form.get(f"image_{n}", "")):
            unsent.append(description)
    draft = Draft(text=str(form.get("text", "")), spoiler_text=str(form.get("spoiler_text", "")),
                  visibility=str(form.get("visibility", "public")), voice=str(form.get("voice", "")) or None,
                  media_ids=tuple(stored), unsent_image_descriptions=tuple(unsent), poll=read_poll_form(form))
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
