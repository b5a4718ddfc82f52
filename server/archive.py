"""The archive's rules per organisation: how long a deleted record is kept (retention), the selectielijst values the
export writes, and purging what has outlived its period.

Owns: the archive_settings table and its SQL; ISO 8601 durations; the retention purge (a housekeeping job, and
`purge_expired` for `ambtenaar archive purge`), audited per organisation as `archive.purged`. A record is kept until
its creation plus the period of its kind (official voice, an official's personal voice, received from citizens),
and at least until it is deleted: nothing live is ever purged. Never: reads the records themselves
(archive_records.py), writes the export (archive_export.py), or decides who may change the settings beyond the
organisation's admins (`organisations._require_admin`'s rule).
"""

from __future__ import annotations

import calendar
import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import asyncpg

from server import (accounts, archive_records, audit, housekeeping, media, media_store, notifications, organisations,
                    posts, reactions)
from server.config import Settings
from server.errors import Forbidden, Invalid
from server.organisations import Organisation

log = logging.getLogger("ambtenaar.archive")
_DURATION = re.compile(r"^P(?!$)(?:(\d{1,4})Y)?(?:(\d{1,4})M)?(?:(\d{1,4})W)?(?:(\d{1,5})D)?$")
DEFAULTS = {"official": "P10Y", "personal": "P0D", "received": "P10Y"}
KINDS = ("official", "personal", "received")


@dataclass(frozen=True)
class Duration:
    """An ISO 8601 duration of whole years, months, weeks and days (what a selectielijst's bewaartermijn is)."""

    years: int = 0
    months: int = 0
    days: int = 0

    @property
    def iso(self) -> str:
        parts = (f"{self.years}Y" if self.years else "") + (f"{self.months}M" if self.months else "")
        parts += f"{self.days}D" if self.days or not parts else ""
        return "P" + parts

    def add_to(self, moment: date) -> date:
        months = moment.month - 1 + self.months + 12 * self.years
        year, month = moment.year + months // 12, months % 12 + 1
        day = min(moment.day, calendar.monthrange(year, month)[1])
        return moment.replace(year=year, month=month, day=day) + timedelta(days=self.days)

    def before(self, moment: datetime) -> datetime:
        """`moment` minus this duration (the creation time before which a deleted record has expired)."""
        months = moment.month - 1 - self.months - 12 * self.years
        year, month = moment.year + months // 12, months % 12 + 1
        day = min(moment.day, calendar.monthrange(year, month)[1])
        return moment.replace(year=year, month=month, day=day) - timedelta(days=self.days)


def parse_duration(text: str) -> Duration:
    """P10Y, P18M, P6W, P30D, P1Y6M, P0D; time parts (PT1H) are refused: retention is counted in days."""
    match = _DURATION.match(text.strip().upper())
    if not match:
        raise Invalid("%(value)s is not a retention period: write an ISO 8601 duration in years, months, weeks or "
                      "days, such as P10Y, P6M or P0D.", value=text[:40])
    years, months, weeks, days = (int(g or 0) for g in match.groups())
    return Duration(years, months, weeks * 7 + days)


@dataclass(frozen=True)
class ArchiveSettings:
    organisation_id: int
    official: Duration
    personal: Duration
    received: Duration
    waardering: str = "V"  # MDTO Waarderingen: B, V or N
    category_label: str | None = None  # informatiecategorie from the organisation's selectielijst
    category_code: str | None = None
    selectielijst: str | None = None

    def retention(self, kind: str) -> Duration:
        return {"official": self.official, "personal": self.personal, "received": self.received}[kind]


def default_settings(organisation_id: int) -> ArchiveSettings:
    return ArchiveSettings(organisation_id, *(parse_duration(DEFAULTS[k]) for k in KINDS))


async def get_settings(conn: asyncpg.Connection, organisation_id: int) -> ArchiveSettings:
    """The organisation's settings, or the defaults (official and received P10Y, personal P0D, waardering V)."""
    row = await conn.fetchrow("SELECT official_retention, personal_retention, received_retention, waardering, "
                              "category_label, category_code, selectielijst FROM archive_settings "
                              "WHERE organisation_id = $1", organisation_id)
    if row is None:
        return default_settings(organisation_id)
    return ArchiveSettings(organisation_id, parse_duration(row["official_retention"]),
                           parse_duration(row["personal_retention"]), parse_duration(row["received_retention"]),
                           row["waardering"], row["category_label"], row["category_code"], row["selectielijst"])


async def upsert_settings(conn: asyncpg.Connection, settings: ArchiveSettings, now: datetime) -> None:
    await conn.execute(
        "INSERT INTO archive_settings (organisation_id, official_retention, personal_retention, received_retention, "
        "waardering, category_label, category_code, selectielijst, updated_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (organisation_id) DO UPDATE SET "
        "official_retention = $2, personal_retention = $3, received_retention = $4, waardering = $5, "
        "category_label = $6, category_code = $7, selectielijst = $8, updated_at = $9",
        settings.organisation_id, settings.official.iso, settings.personal.iso, settings.received.iso,
        settings.waardering, settings.category_label, settings.category_code, settings.selectielijst, now)


async def _require_admin(conn: asyncpg.Connection, actor_id: int | None, organisation_id: int) -> None:
    if actor_id is None:
        return
    actor = await accounts.get_account(conn, actor_id)
    if actor is None or not actor.administers(organisation_id):
        raise Forbidden("Only the organisation's admins may change its archive settings.")


def _text(value: str | None, limit: int, what: str) -> str | None:
    if value is None:
        return None
    cleaned = " ".join(value.split())
    if len(cleaned) > limit:
        raise Invalid("The %(what)s may be at most %(limit)s characters.", what=what, limit=limit)
    return cleaned or None


async def change_settings(conn: asyncpg.Connection, organisation: Organisation, *, official: str | None = None,
                          personal: str | None = None, received: str | None = None, waardering: str | None = None,
                          category_label: str | None = None, category_code: str | None = None,
                          selectielijst: str | None = None, actor_id: int | None,
                          now: datetime) -> ArchiveSettings:
    """Change what was given (None keeps, "" clears a text), validated whole before anything is written; audited
    `archive.settings` with the new values."""
    await _require_admin(conn, actor_id, organisation.id)
    current = await get_settings(conn, organisation.id)
    if waardering is not None and waardering.upper() not in ("B", "V", "N"):
        raise Invalid("The waardering is B (blijvend te bewaren), V (tijdelijk te bewaren) or N (nader te bepalen).")
    new = ArchiveSettings(
        organisation.id,
        parse_duration(official) if official is not None else current.official,
        parse_duration(personal) if personal is not None else current.personal,
        parse_duration(received) if received is not None else current.received,
        waardering.upper() if waardering is not None else current.waardering,
        _text(category_label, 200, "informatiecategorie") if category_label is not None else current.category_label,
        _text(category_code, 40, "informatiecategorie code") if category_code is not None else current.category_code,
        _text(selectielijst, 200, "selectielijst") if selectielijst is not None else current.selectielijst)
    await upsert_settings(conn, new, now)
    await audit.record(conn, actor_id=actor_id, action="archive.settings", subject_type="organisation",
                       subject_id=organisation.id, now=now, detail={
                           "official": new.official.iso, "personal": new.personal.iso, "received": new.received.iso,
                           "waardering": new.waardering, "category_label": new.category_label,
                           "category_code": new.category_code, "selectielijst": new.selectielijst})
    return new


@dataclass(frozen=True)
class Purged:
    official: int
    personal: int
    received: int
    files: tuple[str, ...]  # media file names whose rows went; removed from disk after the commit

    @property
    def total(self) -> int:
        return self.official + self.personal + self.received


async def purge_expired(conn: asyncpg.Connection, organisation: Organisation, now: datetime, *,
                        actor_id: int | None = None) -> Purged:
    """Remove for good the organisation's deleted records whose retention has passed (with their versions, likes,
    notifications and attachment rows), in the caller's transaction; audited `archive.purged` with the counts and
    post ids when anything went. The caller removes the returned media files after the commit."""
    settings = await get_settings(conn, organisation.id)
    expired = await archive_records.list_expired(
        conn, organisation.id, official_before=settings.official.before(now),
        personal_before=settings.personal.before(now), received_before=settings.received.before(now))
    ids = [i for kind in KINDS for i in expired[kind]]
    if not ids:
        return Purged(0, 0, 0, ())
    doomed = ids + await archive_records.list_boost_ids(conn, ids)
    files = tuple(name for group in (await media.list_for_posts(conn, doomed)).values() for a in group
                  if a.file_name for name in (a.file_name, a.preview_name))
    await reactions.delete_favourites_for_purge(conn, [], doomed)
    await notifications.delete_notifications_for_purge(conn, [], doomed)
    await media.delete_attachments_for_purge(conn, doomed)
    await posts.delete_posts_for_purge(conn, doomed)
    result = Purged(len(expired["official"]), len(expired["personal"]), len(expired["received"]), files)
    await audit.record(conn, actor_id=actor_id, action="archive.purged", subject_type="organisation",
                       subject_id=organisation.id, now=now, detail={
                           "official": result.official, "personal": result.personal, "received": result.received,
                           "post_ids": [str(i) for i in ids[:1000]],
                           "retention": {k: settings.retention(k).iso for k in KINDS}})
    return result


async def remove_files(settings: Settings, names: tuple[str, ...]) -> None:
    """Delete purged attachments' files from the media store (a file already gone is fine)."""
    await media_store.for_settings(settings).delete("media", [name for name in names if name and "/" not in name])


async def purge_all(conn: asyncpg.Connection, now: datetime, settings: Settings) -> int:
    """Every organisation's expired records, one transaction each (a failing one is logged and the others go on);
    how many posts went. The housekeeping job of the worker, every 10 minutes."""
    total = 0
    for org in await organisations.list_organisations(conn):
        try:
            async with conn.transaction():
                purged = await purge_expired(conn, org, now)
        except asyncpg.PostgresError as error:
            log.warning("archive retention purge failed", extra={"organisation": org.slug, "error": repr(error)})
            continue
        await remove_files(settings, purged.files)
        if purged.total:
            log.info("archive retention purge", extra={"organisation": org.slug, "posts": purged.total})
        total += purged.total
    return total


housekeeping.register("archive retention")(purge_all)
