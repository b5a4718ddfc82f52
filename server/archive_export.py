"""The archive export: an organisation's posts of a period as a BagIt bag (RFC 8493) with MDTO sidecars.

Owns: the layout of the bag and writing it, streamed and resumable. Never: SQL (server/archive_records.py reads),
the MDTO vocabulary (server/archive_mdto.py), ActivityStreams JSON (the caller passes `note_json`, built by the
composition root from federation/wire.py: server/ never imports federation/), or who may export (the caller checks).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import asyncpg

from server.accounts import Account
from server.config import Settings
from server.media import Attachment
from server.posts import Post

VOICES = ("all", "official")


@dataclass(frozen=True)
class NoteInput:
    """What a Note of one version needs: the post as it read then, and its context."""

    post: Post
    author: Account
    attachments: tuple[Attachment, ...]
    in_reply_to_uri: str | None
    mentioned: tuple[Account, ...]
    tags: tuple[str, ...]


# The ActivityStreams JSON of one version (server.cli.archive.note_builder wires federation/wire.py's note_to_json).
NoteJson = Callable[[NoteInput], dict[str, Any]]
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote: the bag's directory, how many posts, files and payload bytes, and whether it went on
    from an earlier, interrupted run."""

    path: Path
    posts: int
    files: int
    payload_bytes: int
    resumed: bool


async def export_bag(pool: asyncpg.Pool, organisation_id: int, *, settings: Settings, start: date, end: date,
                     out_dir: Path, note_json: NoteJson, voice: str = "all", progress: Progress | None = None,
                     now: Callable[[], datetime] | None = None) -> ExportResult:
    """Write (or finish) the bag of an organisation's posts created from `start` up to and including `end`.

    Streams: posts are read a page at a time and each file is written and hashed as it goes, so memory stays flat
    whatever the size. Resumable: files already written by an interrupted run into the same `out_dir` are kept and
    not written again; the manifests and bag-info.txt are written last. `progress(done, total)` is called per post.
    """
    raise NotImplementedError("being written (issue 16, helper C1)")
