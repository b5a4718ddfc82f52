"""`ambtenaar archive ...`: retention settings, the archive export (a BagIt bag with MDTO), verifying a bag, and an
immediate retention purge.

Owns: the archive commands' arguments and the progress display; it hands the export federation/archive_notes.py's
`note_builder` (the composition root may import federation/; server/archive_export.py may not, so it takes the
builder as a parameter; the worker's export job uses the same builder). Never: SQL, or a step of an action
(server/archive.py, archive_export.py and archive_verify.py do them).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import asyncpg

from federation.archive_notes import note_builder
from server import archive, archive_verify
from server.archive_export import Progress, export_bag
from server.cli.base import CliError, Group, organisation, parse_date
from server.config import Settings
from server.db.pool import connection
from server.deps import utc_now


def progress_display(every: int | None = None) -> Progress:
    """A bar on a terminal; otherwise a line every so many posts (a twentieth of the total, at most 100)."""
    tty = sys.stderr.isatty()
    started = time.monotonic()

    def show(done: int, total: int) -> None:
        if tty:
            width = 30
            filled = width * done // max(total, 1)
            sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} posts"
                             f" {time.monotonic() - started:.0f}s")
            if done >= total:
                sys.stderr.write("\n")
        elif done % (every or max(1, min(100, total // 20))) == 0 or done >= total:
            sys.stderr.write(f"exported {done}/{total} posts\n")
        sys.stderr.flush()
    return show


async def cmd_retention(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    org = await organisation(conn, args.org)
    changes = {name: getattr(args, name) for name in ("official", "personal", "received", "waardering",
                                                      "category_label", "category_code", "selectielijst")}
    if any(value is not None for value in changes.values()):
        rules = await archive.change_settings(conn, org, **changes, actor_id=None, now=utc_now())
    else:
        rules = await archive.get_settings(conn, org.id)
    category = (f"; informatiecategorie {rules.category_code or '-'} {rules.category_label} "
                f"({rules.selectielijst or 'selectielijst not named'})" if rules.category_label else "")
    return (f"{org.slug}: official {rules.official.iso}, personal {rules.personal.iso}, received "
            f"{rules.received.iso}; waardering {rules.waardering}{category}")


async def cmd_export(pool: asyncpg.Pool, settings: Settings, args: argparse.Namespace) -> str:
    start, end = parse_date(args.first_day, "--from"), parse_date(args.last_day, "--to")
    assert start is not None and end is not None  # required flags
    async with connection(pool) as conn:
        org = await organisation(conn, args.org)
    result = await export_bag(pool, org.id, settings=settings, start=start, end=end, out_dir=Path(args.out),
                              note_json=note_builder(settings), voice=args.voice,
                              progress=progress_display(args.progress_every))
    return (f"{'Finished' if result.resumed else 'Wrote'} {result.path}: {result.posts} posts, {result.files} files, "
            f"{result.payload_bytes} bytes of payload")


def verify_offline(settings: Settings, args: argparse.Namespace) -> str:
    """No database: a bag is checked on its own (on the archivist's machine as well). One line per problem."""
    problems = archive_verify.verify_bag(Path(args.dir), xsd=Path(args.xsd) if args.xsd else None)
    for problem in problems:
        print(problem)
    if problems:
        raise CliError(f"{args.dir}: {len(problems)} problem(s)")
    return f"{args.dir}: the bag is valid"


async def cmd_purge(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    org = await organisation(conn, args.org)
    purged = await archive.purge_expired(conn, org, utc_now())
    await archive.remove_files(settings, purged.files)  # rows are gone with the commit; files a moment early
    return (f"{org.slug}: purged {purged.total} posts past their retention (official {purged.official}, personal "
            f"{purged.personal}, received {purged.received})")


def add_commands(root: Group) -> None:
    area = root.area("archive", "the organisation's archive: retention, export for the e-depot, verify, purge")
    retention = area.command("retention", "how long deleted records are kept (ISO 8601 durations) and the "
                             "selectielijst values of the export; without options: show them", cmd_retention)
    retention.add_argument("--org", required=True, help="the organisation's slug")
    retention.add_argument("--official", help="official-voice posts, e.g. P10Y")
    retention.add_argument("--personal", help="officials' personal-voice posts, e.g. P0D (not kept after deletion)")
    retention.add_argument("--received", help="citizens' replies to the organisation, e.g. P10Y")
    retention.add_argument("--waardering", help="B (blijvend), V (tijdelijk te bewaren) or N (nader te bepalen)")
    retention.add_argument("--category", dest="category_label", help="informatiecategorie from the selectielijst")
    retention.add_argument("--category-code", dest="category_code", help="its code, e.g. 1.1.2")
    retention.add_argument("--selectielijst", help="the selectielijst's name, e.g. 'Selectielijst gemeenten en "
                           "intergemeentelijke organen 2020'")
    export = area.command("export", "write a BagIt bag with MDTO metadata of the organisation's posts of a period "
                          "(run it again on the same folder to go on after an interruption)", pool_handler=cmd_export)
    export.add_argument("--org", required=True, help="the organisation's slug")
    export.add_argument("--from", dest="first_day", required=True, help="first day, YYYY-MM-DD (UTC)")
    export.add_argument("--to", dest="last_day", required=True, help="last day, YYYY-MM-DD (UTC), included")
    export.add_argument("--out", required=True, help="a new or empty folder for the bag")
    export.add_argument("--voice", choices=("all", "official"), default="all",
                        help="official: leave officials' personal-voice posts out")
    export.add_argument("--progress-every", type=int, default=None, help=argparse.SUPPRESS)
    verify = area.command("verify", "check a bag: checksums, Payload-Oxum, every MDTO sidecar and the files it "
                          "names", pool_handler=None)
    verify.add_argument("dir", help="the bag's folder")
    verify.add_argument("--xsd", help="also validate every sidecar against this MDTO XML schema file")
    verify.set_defaults(offline=verify_offline)
    purge = area.command("purge", "remove now the organisation's deleted records whose retention has passed "
                         "(the worker does it every 10 minutes)", cmd_purge)
    purge.add_argument("--org", required=True, help="the organisation's slug")
