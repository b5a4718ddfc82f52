"""Polls on the wire, as Mastodon sends them: a poll of ours as a `Question`, and our person's vote in another
server's poll as a `Create` of a `Note` that has only a `name` (the option) and `inReplyTo` (the Question).

Owns: those JSON shapes. Never: reads remote JSON (federation/vocab.py parses Questions and votes), the database
or the network.
"""

from __future__ import annotations

from typing import Any

from federation import wire
from server import uris
from server.accounts import Account
from server.config import Settings
from server.polls import Poll


def question_fields(poll: Poll) -> dict[str, Any]:
    """What turns our Note into a Question: `oneOf` (or `anyOf` for multiple choice) with each option's count as
    `replies.totalItems`, `endTime`, `closed` once it ended, and `votersCount` (toot:votersCount). Hidden totals
    stay off the wire until the end (Mastodon shows a missing count as 0); the number of voters is shown, as
    Mastodon's apps show it too."""
    shown = not poll.hide_totals or poll.closed_at is not None
    options = [{"type": "Note", "name": title,
                **({"replies": {"type": "Collection", "totalItems": count}} if shown else {})}
               for title, count in zip(poll.options, poll.votes)]
    fields: dict[str, Any] = {"type": "Question", "anyOf" if poll.multiple else "oneOf": options,
                              "votersCount": poll.voters_count or 0}
    if poll.expires_at is not None:
        fields["endTime"] = wire.iso(poll.expires_at)
    if poll.closed_at is not None:
        fields["closed"] = wire.iso(poll.closed_at)
    return fields


def vote_to_json(settings: Settings, voter: Account, vote_id: int, question_uri: str, poll_author_uri: str,
                 option: str) -> dict[str, Any]:
    """One choice of our person's vote, to the poll's author only (nobody else sees who voted what)."""
    actor = uris.actor(settings, voter.username)
    note_id = f"{actor}#votes/{vote_id}"
    note = {"id": note_id, "type": "Note", "name": option, "attributedTo": actor, "to": [poll_author_uri],
            "inReplyTo": question_uri}
    return {"@context": wire.context(settings), "id": f"{note_id}/activity", "type": "Create", "actor": actor,
            "to": [poll_author_uri], "object": note}
