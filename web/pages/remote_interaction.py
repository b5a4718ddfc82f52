"""Following and answering from another server ("remote interaction"), both ways.

Owns: /interact (a visitor types their own handle, @naam@mastodon.social; the node asks that server for its
subscribe template and sends the visitor there with our actor or post; the handle is remembered in a cookie that
only pre-fills the field next time) and /authorize_interaction?uri= (what other servers' "follow from your own
server" sends our own users to: a remote account opens on its profile here, a post on its page).
Never: SQL or follows itself (the profile's own follow button does that), or any redirect to a place we did not
look up: only a template the visitor's own server gave, with our own URI in it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import quote, urlsplit

from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from federation import resolver, transport
from federation.context import Federation
from federation.webfinger import parse_handle, subscribe_template
from server import accounts, posts, uris, visibility
from server.headers import CSP
from server.accounts import Account
from server.db.pool import connection
from server.errors import Forbidden, Invalid, NotFound
from web.context import PageContext, finish, read_form, redirect, render
from web.handlers import page

HANDLE_COOKIE = "ao_remote_handle"
MAX_URI = 2000


async def _target(ctx: PageContext, account: str, post: str) -> tuple[str, str, str]:
    """(our URI, what it is, its name) for an account or a public post of this node's pages."""
    settings = ctx.deps.settings
    async with connection(ctx.deps.pool) as conn:
        if post.isdigit() and len(post) < 20:
            found = await visibility.get_visible_post(conn, int(post), None)
            author = await accounts.get_account(conn, found.account_id) if found else None
            if found is not None and author is not None and found.visibility in ("public", "unlisted"):
                uri = found.uri or uris.status(settings, author.username, found.id)
                return uri, "post", author.name
        elif account:
            person = await accounts.get_account_by_username(conn, account)
            if person is not None and person.is_local and person.is_active and not person.is_suspended:
                return uris.actor(settings, person.username), "account", person.name
    raise NotFound("There is nothing here to follow or answer.")


def _params(ctx: PageContext, form: dict[str, str] | None = None) -> tuple[str, str]:
    source = form if form is not None else ctx.request.query_params
    return str(source.get("account", ""))[:100], str(source.get("post", ""))[:20]


async def _form(ctx: PageContext, account: str, post: str, *, handle: str | None = None, problem: str | None = None,
                status: int = 200) -> Response:
    uri, kind, name = await _target(ctx, account, post)
    if handle is None:
        handle = ctx.request.cookies.get(HANDLE_COOKIE, "")[:200]
    response = render(ctx, "remote_interaction.html", status=status, account=account, post=post, kind=kind,
                      name=name, uri=uri, handle=handle, problem=problem)
    # The form's answer is a 303 to the visitor's own server, and browsers hold a redirect after a form to the
    # form page's `form-action`: this page alone lets it go to another server (plain http only in test mode).
    elsewhere = "https:" + (" http:" if ctx.deps.settings.allow_private_addresses else "")
    response.headers["Content-Security-Policy"] = CSP.replace("form-action 'self'", f"form-action 'self' {elsewhere}")
    return response


@page()
async def interact_form(ctx: PageContext) -> Response:
    return await _form(ctx, *_params(ctx))


@page()
async def interact_submit(ctx: PageContext) -> Response:
    raw = await read_form(ctx)
    form = {name: str(raw.get(name, "")) for name in ("account", "post", "handle")}
    account, post = _params(ctx, form)
    uri, _kind, _name = await _target(ctx, account, post)
    typed = form["handle"].strip()[:200]
    handle = parse_handle(typed)
    if handle is None or not all(c.isalnum() or c in "._-:" for c in handle[1]) \
            or not all(c.isalnum() or c in "._-" for c in handle[0]):
        return await _form(ctx, account, post, handle=typed, status=422, problem=ctx.gettext(
            "That is not a handle. Type your own handle, like @name@mastodon.social."))
    if handle[1] == ctx.deps.settings.domain:
        return await _form(ctx, account, post, handle=typed, status=422, problem=ctx.gettext(
            "That account is on this server: sign in here instead."))
    try:
        template = await subscribe_template(ctx.request.app.state.federation, *handle)
    except transport.Blocked:
        return await _form(ctx, account, post, handle=typed, status=403, problem=ctx.gettext(
            "This server does not federate with %(host)s.", host=handle[1]))
    except transport.ResolveError:
        return await _form(ctx, account, post, handle=typed, status=422, problem=ctx.gettext(
            "%(handle)s could not be found. Check the handle and try again.", handle=f"@{handle[0]}@{handle[1]}"))
    if template is None:
        return await _form(ctx, account, post, handle=typed, status=422, problem=ctx.gettext(
            "%(host)s does not say where to follow or answer from. Search for %(uri)s on your own server instead.",
            host=handle[1], uri=uri))
    ctx.extra_cookies[HANDLE_COOKIE] = f"@{handle[0]}@{handle[1]}"
    return finish(RedirectResponse(template.replace("{uri}", quote(uri, safe="")), status_code=303), ctx)


def _local_path(ctx: PageContext, uri: str) -> str | None:
    """Our own page for one of our URIs (actor, profile, status, post page), "" for ours but neither, or None."""
    local = uris.parse_local(ctx.deps.settings, uri)
    if local is None:
        return None
    kind, username, post_id = local
    if kind == "account":
        return f"/@{username}"
    return f"/@{username}/{post_id}" if kind == "post" else ""


def _account_page(account: Account) -> str:
    return f"/@{account.username}" if account.is_local else f"/accounts/{account.id}"


@page(signed_in=True)
async def authorize_interaction(ctx: PageContext) -> Response:
    """Where another server's "follow from your own server" sends someone of ours: the account or post, here."""
    uri = ctx.request.query_params.get("uri", "").strip()
    if uri.lower().startswith("acct:") or (uri and "://" not in uri):
        handle = parse_handle(uri)
        if handle is None or len(uri) > MAX_URI:
            raise Invalid("That is not an address of an account or a post.")
        if handle[1] == ctx.deps.settings.domain:
            return redirect(ctx, f"/@{handle[0]}")
        return redirect(ctx, _account_page(await _remote(ctx, lambda fed: resolver.resolve_handle(fed, *handle))))
    parts = urlsplit(uri)
    if len(uri) > MAX_URI or parts.scheme not in ("http", "https") or not parts.hostname or parts.username:
        raise Invalid("That is not an address of an account or a post.")
    local = _local_path(ctx, uri)
    if local is not None:
        if not local:
            raise NotFound("There is no account or post at that address here.")
        return redirect(ctx, local)
    async with connection(ctx.deps.pool) as conn:
        known = await posts.get_post_by_uri(conn, uri)
        if known is None:
            person = await accounts.get_account_by_actor_uri(conn, uri)
            if person is not None:
                return redirect(ctx, _account_page(person))
    if known is not None:
        return redirect(ctx, f"/posts/{known.id}")
    fed = ctx.request.app.state.federation
    try:
        return redirect(ctx, _account_page(await resolver.fetch_actor(fed, uri)))
    except transport.Blocked:
        raise Forbidden("This server does not federate with that server.") from None
    except transport.ResolveError:
        pass
    found = await resolver.fetch_post(fed, uri)
    if found is None:
        raise NotFound("No account or post was found at that address.")
    return redirect(ctx, f"/posts/{found.id}")


async def _remote(ctx: PageContext, lookup: Callable[[Federation], Awaitable[Account]]) -> Account:
    try:
        return await lookup(ctx.request.app.state.federation)
    except transport.Blocked:
        raise Forbidden("This server does not federate with that server.") from None
    except transport.ResolveError:
        raise NotFound("No account or post was found at that address.") from None


ROUTES = [
    Route("/interact", interact_form, methods=["GET"]),
    Route("/interact", interact_submit, methods=["POST"]),
    Route("/authorize_interaction", authorize_interaction, methods=["GET"]),
]
