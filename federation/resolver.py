"""Looking up a remote account for a person who waits on the answer: the edges' one name for it.

Owns: the lookups web/pages and web/api make (an actor URI or `user@host` from search, the mentions of a post
being written, a post's URI someone opened here, a post or profile page URL pasted into search): the actor through federation/actors.py and, for search, its claimed badge checked at once
(federation/remote_badges.py), so the answer a person sees carries the verdict. Never: used by the inbox or the
worker (they call federation/actors.py and leave badges to the queue); stores anything itself.
"""

from __future__ import annotations

from federation import actors, remote_badges, transport, vocab
from federation.context import Federation
from federation.inbound import notes
from federation.transport import Blocked, ResolveError
from server.accounts import Account
from server.posts import Post

__all__ = ["Blocked", "ResolveError", "fetch_actor", "fetch_post", "resolve_handle", "resolve_mentions",
           "resolve_url"]

resolve_mentions = actors.resolve_mentions


async def fetch_actor(fed: Federation, actor_uri: str) -> Account:
    """The account behind an actor URI someone searched for, with its badge checked."""
    return await remote_badges.check_now(fed, await actors.fetch_actor(fed, actor_uri))


async def resolve_handle(fed: Federation, username: str, host: str) -> Account:
    """The account behind `user@host` someone searched for, with its badge checked."""
    return await remote_badges.check_now(fed, await actors.resolve_handle(fed, username, host))


async def fetch_post(fed: Federation, post_uri: str) -> Post | None:
    """The post behind a URI someone opened here, fetched and stored as the inbox would store it (its author's
    server must answer for it); None when nothing usable is there. Whether the reader may see it is the page's
    rule, as for any stored post."""
    return await notes.fetch_and_store(fed, post_uri)


async def resolve_url(fed: Federation, url: str) -> Account | Post:
    """What a URL pasted into search names on its own server, the way Mastodon resolves it: the document the URL
    answers to the ActivityPub Accept header (or its page's `rel=alternate` link), else the actor its server's
    WebFinger gives for the URL. Blocked for a server we do not federate with; ResolveError when nothing is
    there."""
    try:
        doc = await transport.fetch_page_document(fed, url)
    except Blocked:
        raise
    except ResolveError as first:
        try:
            actor_uri = await transport.webfinger_by_url(fed, url)
        except ResolveError:
            raise first from None
        if actor_uri is None:
            raise first from None
        return await fetch_actor(fed, actor_uri)
    kind, doc_id = vocab.document_kind(doc), vocab.document_id(doc)
    if kind == "actor" and doc_id:
        return await fetch_actor(fed, doc_id)
    if kind == "post" and doc_id:
        post = await fetch_post(fed, doc_id)
        if post is not None:
            return post
    raise ResolveError(f"{url} is neither an account nor a post")
