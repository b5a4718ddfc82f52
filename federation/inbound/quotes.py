"""QuoteRequest (FEP-044f) from other servers: someone quotes one of our posts and asks its author's consent.

Answered at once, by the author's quote policy (server/quotes.py, through server/post_rules.check_quote): an Accept
whose `result` is the QuoteAuthorization other servers fetch to check the quote, or a Reject. So a Mastodon 4.5 user
quoting one of our posts is never left "pending". A request for a post the sender may not see (held for review,
followers-only without following, or no post at all) is dropped unanswered, as a Like of it is: the answer would
tell them it exists.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from federation import delivery, quote_vocab, transport, vocab, wire
from federation.context import Federation
from federation.inbound.common import post_by_uri
from federation.inbound.notes import store_note
from federation.vocab import Activity
from server import accounts, ids, notifications, post_rules, quotes, uris
from server.accounts import Account
from server.db.pool import transaction
from server.errors import DomainError, NotFound
from server.posts import Post

log = logging.getLogger("ambtenaar.federation")


async def handle_quote_request(fed: Federation, activity: Activity, sender: Account) -> None:
    try:
        request = quote_vocab.parse_quote_request(activity.raw)
    except vocab.InvalidActivity as exc:
        log.info("ignored QuoteRequest", extra={"activity": activity.id, "reason": str(exc)})
        return
    sender_host = vocab.host_of(str(sender.actor_uri))
    if vocab.host_of(request.id) != sender_host:
        return  # a request only from its own server, as Mastodon checks
    settings = fed.deps.settings
    async with transaction(fed.deps.pool) as conn:
        quoted = await post_by_uri(conn, settings, request.object)
        author = await accounts.get_account(conn, quoted.account_id) if quoted else None
        if quoted is None or author is None or not author.is_local:
            return  # not one of our posts: not ours to answer
        try:
            await post_rules.check_quote(conn, sender, quoted.id)
            allowed = True
        except NotFound:
            return
        except DomainError:
            allowed = False
        earlier = await quotes.get_quote_of(conn, quoted.id, request.instrument)
    if earlier is not None and earlier.state != "accepted":
        allowed = False  # the author revoked this quote before: asking again does not undo that
    quoting = await _quoting_post(fed, request, sender, quoted.id) if allowed else None
    await _answer(fed, request, sender, author, quoted.id, quoting)


async def _quoting_post(fed: Federation, request: quote_vocab.QuoteRequest, sender: Account,
                        quoted_id: int) -> Post | None:
    """The quoting post, stored here so our post's page can show it; None when it is not the sender's own post
    quoting ours (Mastodon's sanity check). An embedded copy is trusted only from the sender's host."""
    doc: Mapping[str, Any] | None = request.instrument_doc
    if doc is None or vocab.host_of(request.instrument) != vocab.host_of(str(sender.actor_uri)):
        try:
            doc = await transport.fetch_object(fed, request.instrument)
        except transport.ResolveError as exc:
            log.info("quoting post not fetched", extra={"object": request.instrument, "reason": str(exc)})
            return None
    try:
        note = vocab.parse_note(doc)
    except vocab.InvalidActivity:
        return None
    if note.id != request.instrument or note.attributed_to != sender.actor_uri or not note.quote:
        return None
    async with transaction(fed.deps.pool) as conn:
        named = await post_by_uri(conn, fed.deps.settings, note.quote)
    if named is None or named.id != quoted_id:
        return None
    return await store_note(fed, note, sender, wanted=True)


async def _answer(fed: Federation, request: quote_vocab.QuoteRequest, sender: Account, author: Account,
                  quoted_id: int, quoting: Post | None) -> None:
    settings = fed.deps.settings
    now = fed.deps.now()
    author_uri = uris.actor(settings, author.username)
    raw = {"id": request.id, "actor": request.actor, "object": request.object, "instrument": request.instrument}
    async with transaction(fed.deps.pool) as conn:
        if quoting is None:
            answer = wire.quote_answer_to_json(settings, author_uri, raw,
                                               f"{author_uri}#rejects/quote_requests/{ids.new_id(now)}", None)
        else:
            quote = await quotes.insert_accepted(conn, quoted_post_id=quoted_id, quoting_post_id=quoting.id,
                                                 quoting_uri=request.instrument, account_id=sender.id,
                                                 request_uri=request.id, now=now)
            authorization = uris.quote_authorization(settings, author.username, quoted_id, quote.id)
            answer = wire.quote_answer_to_json(settings, author_uri, raw,
                                               f"{author_uri}#accepts/quote_requests/{quote.id}", authorization)
            # Mastodon 4.5's `quote` notification: the quoting post is attached.
            await notifications.insert_notification(conn, account_id=author.id, type="quote",
                                                    from_account_id=sender.id, post_id=quoting.id, now=now)
        await delivery.enqueue(conn, answer, signer_id=author.id, inboxes=[str(sender.inbox_uri)], now=now)
