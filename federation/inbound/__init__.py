"""Handlers for received activities, one module per family, registered by ActivityStreams type.

Each handler gets the activity (already verified: the signer owns its actor) and the sender's account, and
changes the domain model through server/ functions. Handlers are idempotent: a retried item changes nothing more.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from federation.context import Federation
from federation.inbound import flags, follows, notes, quotes, reactions, updates
from federation.inbound import pins
from federation.vocab import Activity
from server.accounts import Account

Handler = Callable[[Federation, Activity, Account], Awaitable[None]]

HANDLERS: dict[str, Handler] = {
    "Follow": follows.handle_follow,
    "Accept": follows.handle_accept,
    "Reject": follows.handle_reject,
    "Create": notes.handle_create,
    "Update": updates.handle_update,
    "Delete": updates.handle_delete,
    "Like": reactions.handle_like,
    "Announce": reactions.handle_announce,
    "Undo": reactions.handle_undo,
    "Block": follows.handle_block,
    "Flag": flags.handle_flag,
    "Move": updates.handle_move,
    "Add": pins.handle_add,
    "Remove": pins.handle_remove,
    "QuoteRequest": quotes.handle_quote_request,
}
