"""Archive exports started on the web: a queue the worker runs, progress as it goes, the finished bag zipped for
download.

Owns: the archive_exports table (migration 0057) and its SQL, a `db/queue.py` queue with a 2-minute lease that the
running export renews as it reports progress (posts done / total, written every second); the zip of a finished bag
under `<data dir>/archive-exports/` and its SHA-256; the audit of `archive.export_started`, `export_finished`,
`export_failed` and `export_downloaded`; `may_archive`, the one rule for who may start, see and download exports
and search for Woo requests (an organisation's admins, its archivists, instance admins); removing finished files
after KEEP_FILES (housekeeping; the row stays). Never: writes a bag (server/archive_export.py does), builds
ActivityStreams JSON (the worker passes `note_json` in: server/ never imports federation/).

An export runs as a task beside the worker's loop, at most one per process, so deliveries go on meanwhile. A worker
that stops ends its lease (the task notices at its next progress and stops); another worker claims the row and the
export resumes where the bag stands (archive_export is resumable).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import shutil
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import asyncpg

from server import archive_export, audit, housekeeping
from server.accounts import Account
from server.config import Settings
from server.db import queue
from server.db.pool import connection, transaction
from server.deps import Deps
from server.errors import Invalid, NotFound
from server.ids import new_id

log = logging.getLogger("ambtenaar.archive")
QUEUE = queue.Queue("archive_exports", order_by="next_attempt_at", lease=timedelta(minutes=2), max_attempts=3)
VOICES = ("official", "all")
FOLDER = "archive-exports"
MAX_WAITING = 3  # unfinished exports per organisation at once
FLUSH_SECONDS = 1.0
KEEP_FILES = timedelta(days=30)
_COLUMNS = ("id, organisation_id, requested_by, period_start, period_end, voice, created_at, started_at, finished_at, "
            "posts_done, posts_total, file_name, file_bytes, file_sha256, state, attempts, last_error")
_RUNNING: dict[int, asyncio.Task[None]] = {}  # export id -> its task in this process (at most one)


def may_archive(account: Account, organisation_id: int) -> bool:
    """The organisation's admins and instance admins (`administers`), and the organisation's own archivists, local
    and in good standing."""
    return account.administers(organisation_id) or (
        account.is_local and account.is_active and account.org_role == "archivist"
        and account.organisation_id == organisation_id)


@dataclass(frozen=True)
class ArchiveExport:
    id: int
    organisation_id: int
    requested_by: int | None
    period_start: date
    period_end: date
    voice: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    posts_done: int
    posts_total: int | None
    file_name: str | None
    file_bytes: int | None
    file_sha256: str | None
    state: str
    attempts: int
    last_error: str | None

    @property
    def percent(self) -> int:
        if self.state == queue.DONE:
            return 100
        return min(99, self.posts_done * 100 // self.posts_total) if self.posts_total else 0

    def to_json(self) -> dict[str, object]:
        return {"id": str(self.id), "state": self.state, "posts_done": self.posts_done,
                "posts_total": self.posts_total, "percent": self.percent, "downloadable": bool(self.file_name)}


def folder(settings: Settings) -> Path:
    return Path(settings.data_dir) / FOLDER


async def start_export(conn: asyncpg.Connection, organisation_id: int, *, start: date, end: date, voice: str,
                       actor_id: int | None, now: datetime) -> ArchiveExport:
    """Queue an export of the posts created from `start` up to and including `end`; audited."""
    if voice not in VOICES:
        raise Invalid("The voice must be official or all.")
    if end < start:
        raise Invalid("The end of the period lies before its start.")
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('archive_exports', $1))", organisation_id)
    if await conn.fetchval("SELECT count(*) FROM archive_exports WHERE organisation_id = $1 AND state = 'pending'",
                           organisation_id) >= MAX_WAITING:
        raise Invalid("Three exports are waiting or running already: wait until one has finished.")
    row = await conn.fetchrow(
        f"INSERT INTO archive_exports (id, organisation_id, requested_by, period_start, period_end, voice, created_at, "
        f"next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING {_COLUMNS}",
        new_id(now), organisation_id, actor_id, start, end, voice, now)
    await audit.record(conn, actor_id=actor_id, action="archive.export_started", subject_type="organisation",
                       subject_id=organisation_id, detail={"export": str(row["id"]), "from": start.isoformat(),
                                                           "to": end.isoformat(), "voice": voice}, now=now)
    return ArchiveExport(**dict(row))


async def list_exports(conn: asyncpg.Connection, organisation_id: int, limit: int = 50) -> list[ArchiveExport]:
    rows = await conn.fetch(f"SELECT {_COLUMNS} FROM archive_exports WHERE organisation_id = $1 "
                            f"ORDER BY id DESC LIMIT $2", organisation_id, limit)
    return [ArchiveExport(**dict(r)) for r in rows]


async def get_export(conn: asyncpg.Connection, organisation_id: int, export_id: int) -> ArchiveExport:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM archive_exports WHERE id = $1 AND organisation_id = $2",
                              export_id, organisation_id)
    if row is None:
        raise NotFound("There is no such export.")
    return ArchiveExport(**dict(row))


async def open_download(conn: asyncpg.Connection, settings: Settings, job: ArchiveExport, *, actor_id: int | None,
                        now: datetime) -> Path:
    """The finished zip, its download audited."""
    path = folder(settings) / job.file_name if job.file_name else None
    if path is None or not path.is_file():
        raise NotFound("This export has no file to download (it is not finished, or its file was removed).")
    await audit.record(conn, actor_id=actor_id, action="archive.export_downloaded", subject_type="organisation",
                       subject_id=job.organisation_id, detail={"export": str(job.id), "file": job.file_name}, now=now)
    return path


class LeaseLost(Exception):
    """Another worker holds the export now: this run stops."""


class _Progress:
    """The export's `progress(done, total)`: kept in memory, written by `_flush` every second."""

    def __init__(self) -> None:
        self.done, self.total, self.lost = 0, 0, False

    def __call__(self, done: int, total: int) -> None:
        if self.lost:
            raise LeaseLost("the lease on this export went to another worker")
        self.done, self.total = done, total


async def _flush(deps: Deps, job_id: int, worker: int, progress: _Progress) -> None:
    while True:
        await asyncio.sleep(FLUSH_SECONDS)
        async with connection(deps.pool) as conn:
            status = await conn.execute(
                "UPDATE archive_exports SET posts_done = $3, posts_total = $4, locked_until = $5 "
                "WHERE id = $1 AND locked_by = $2 AND state = 'pending'", job_id, worker, progress.done,
                progress.total, deps.now() + (QUEUE.lease or timedelta()))
        if status == "UPDATE 0":
            progress.lost = True
            return


def _zip(bag: Path, target: Path) -> tuple[int, str]:
    """The bag as one zip (its top folder the bag's name, as e-depots take BagIt zips); size and SHA-256."""
    part = target.with_name(target.name + ".part")
    with zipfile.ZipFile(part, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
        for path in sorted(bag.rglob("*")):
            if path.is_file():
                zf.write(path, Path(bag.name) / path.relative_to(bag))
    digest = hashlib.sha256()
    with part.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    os.replace(part, target)
    return target.stat().st_size, digest.hexdigest()


async def _run(deps: Deps, job: ArchiveExport, worker: int, note_json: archive_export.NoteJson) -> None:
    work = folder(deps.settings) / str(job.id)
    progress = _Progress()
    flusher = asyncio.create_task(_flush(deps, job.id, worker, progress))
    try:
        result = await archive_export.export_bag(
            deps.pool, job.organisation_id, settings=deps.settings, start=job.period_start, end=job.period_end,
            out_dir=work / "bag", note_json=note_json, voice=job.voice, progress=progress, now=deps.now)
        name = f"archief-{job.organisation_id}-{job.period_start:%Y%m%d}-{job.period_end:%Y%m%d}-{job.id}.zip"
        size, sha256 = await asyncio.to_thread(_zip, result.path, folder(deps.settings) / name)
        async with transaction(deps.pool) as conn:
            await queue.done(conn, QUEUE, [job.id], values={
                "finished_at": deps.now(), "file_name": name, "file_bytes": size, "file_sha256": sha256,
                "posts_done": result.posts, "posts_total": result.posts})
            await audit.record(conn, actor_id=job.requested_by, action="archive.export_finished",
                               subject_type="organisation", subject_id=job.organisation_id,
                               detail={"export": str(job.id), "posts": result.posts, "files": result.files,
                                       "bytes": size, "sha256": sha256}, now=deps.now())
        await asyncio.to_thread(shutil.rmtree, work, True)
    except LeaseLost:
        log.info("archive export handed over", extra={"export": job.id})
    except Exception as exc:  # retried (the bag resumes), given up after the last attempt; CancelledError passes
        error = queue.error_text(exc)
        log.warning("archive export failed", extra={"export": job.id, "attempt": job.attempts, "error": error},
                    exc_info=True)
        async with transaction(deps.pool) as conn:
            if await queue.retry(conn, QUEUE, job.id, job.attempts, error, deps.now()):
                await audit.record(conn, actor_id=job.requested_by, action="archive.export_failed",
                                   subject_type="organisation", subject_id=job.organisation_id,
                                   detail={"export": str(job.id), "error": error}, now=deps.now())
    finally:
        flusher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await flusher


async def run_due(deps: Deps, *, worker: int | None, note_json: archive_export.NoteJson) -> int:
    """A worker step: claim a due export when none runs in this process and start it beside the loop; how many
    were claimed."""
    for job_id, task in list(_RUNNING.items()):
        if task.done():
            del _RUNNING[job_id]
    if _RUNNING or worker is None:
        return 0
    async with transaction(deps.pool) as conn:
        rows = await queue.claim(conn, QUEUE, deps.now(), 1, ("id",), worker=worker)
        if not rows:
            return 0
        row = await conn.fetchrow(f"UPDATE archive_exports SET started_at = coalesce(started_at, $2) WHERE id = $1 "
                                  f"RETURNING {_COLUMNS}", rows[0]["id"], deps.now())
    job = ArchiveExport(**dict(row))
    _RUNNING[job.id] = asyncio.create_task(_run(deps, job, worker, note_json), name=f"archive export {job.id}")
    return 1


@housekeeping.register("archive export files")
async def delete_old_files(conn: asyncpg.Connection, now: datetime, settings: Settings) -> None:
    """Finished exports' zips go after KEEP_FILES (they hold personal data); the row stays, for the record."""
    rows = await conn.fetch("SELECT id, file_name FROM archive_exports WHERE file_name IS NOT NULL "
                            "AND finished_at < $1", now - KEEP_FILES)
    for row in rows:
        (folder(settings) / row["file_name"]).unlink(missing_ok=True)
        await conn.execute("UPDATE archive_exports SET file_name = NULL WHERE id = $1", row["id"])
