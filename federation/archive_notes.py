"""The ActivityStreams JSON of an archived version, for the archive export (server/archive_export.py).

Owns: `note_builder`, the Note of one version as this node sends it (`wire.note_to_json`), and for a received
(remote) post a Note rebuilt from what we stored of it (its original document is not kept after the inbox handled
it). It lives in federation/ because it builds our wire JSON; server/archive_export.py may not import federation/,
so the callers (the CLI and the worker's export job) hand it over as a parameter.
Never: reads the database, sends anything.
"""

from __future__ import annotations

from typing import Any

from federation import wire
from federation.vocab import AS_PUBLIC
from server import uris
from server import voice as voices
from server.archive_export import NoteInput, NoteJson
from server.config import Settings


def note_builder(settings: Settings) -> NoteJson:
    def build(item: NoteInput) -> dict[str, Any]:
        post, author = item.post, item.author
        if author.domain:
            note: dict[str, Any] = {
                "@context": "https://www.w3.org/ns/activitystreams", "id": post.uri, "type": "Note",
                "attributedTo": author.actor_uri, "url": post.url, "inReplyTo": item.in_reply_to_uri,
                "published": wire.iso(post.created_at), "summary": post.spoiler_text or None,
                "content": post.content_html, "to": [AS_PUBLIC] if post.visibility == "public" else []}
            if post.edited_at:
                note["updated"] = wire.iso(post.edited_at)
            return note
        org = item.organisation
        ctx = wire.NoteContext(
            author=author, in_reply_to_uri=item.in_reply_to_uri, mentioned=item.mentioned, tags=item.tags,
            attachments=item.attachments, voice_line=voices.line(post.voice, post.language, org),
            voice_organisation_uri=uris.actor(settings, org.slug.replace("-", "_")[:30]) if org else None)
        return wire.note_to_json(settings, post, ctx)
    return build
