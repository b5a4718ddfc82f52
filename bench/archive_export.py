"""The archive export (issue 16): an organisation's 10,000 posts, each with an image, written as a BagIt bag with
MDTO sidecars; time, peak RSS and RSS along the way (flat when streamed), against yardsticks measured in the same
run: hashing the same payload bytes with SHA-256, and writing the same files again (copy with the same sizes).

Owns: a database with one organisation, 20 officials and N official-voice posts (every tenth edited once), one
image file per post (hard links to one JPEG, so the disk holds it once); the timing. Never: starts a node or
touches the network.

    python bench/archive_export.py --posts 10000
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import io
import os
import shutil
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image  # noqa: E402

from bench.harness import machine_line, postgres  # noqa: E402
from server import accounts, organisations, posts  # noqa: E402
from server.archive_export import export_bag  # noqa: E402
from server.cli.archive import note_builder  # noqa: E402
from server.config import load_settings  # noqa: E402
from server.db.pool import open_pool  # noqa: E402
from server.ids import new_id  # noqa: E402

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.effect_noise((480, 320), 20).convert("RGB").resize((240, 160)).save(out, "JPEG", quality=80)
    return out.getvalue()


async def populate(conn: object, count: int, media_dir: Path) -> int:
    org = await organisations.insert_organisation(conn, name="Gemeente Bank", slug="gemeente-bank", kind="gemeente",
                                                  website="https://example.org")
    people = [await accounts.insert_account(conn, username=f"p{i}", kind="person", organisation_id=org.id,
                                            org_role="official") for i in range(20)]
    media_dir.mkdir(parents=True)
    source = media_dir / "source.jpg"
    source.write_bytes(jpeg())
    for n in range(count):
        at = NOW - timedelta(seconds=count - n)
        post = await posts.insert_post(conn, account_id=people[n % 20].id, source_text=f"Bericht {n} over de markt",
                                       content_html=f"<p>Bericht {n} over de markt</p>", spoiler_text="",
                                       visibility="public", voice="official", organisation_id=org.id, language="nl",
                                       in_reply_to_id=None, tags=[], mention_ids=[], now=at)
        name = f"{n:06d}.jpg"
        os.link(source, media_dir / name)
        await conn.execute(  # type: ignore[attr-defined]
            "INSERT INTO media_attachments (id, account_id, post_id, content_type, file_name, width, height, "
            "preview_width, preview_height, blurhash, description, created_at) "
            "VALUES ($1, $2, $3, 'image/jpeg', $4, 480, 320, 480, 320, 'L00000fQfQfQfQfQfQfQfQfQfQfQ', $5, $6)",
            new_id(at), people[n % 20].id, post.id, name, f"Foto {n}", at)
        if n % 10 == 0:
            await posts.update_post_content(conn, post, source_text=f"Bericht {n}, aangevuld",
                                            content_html=f"<p>Bericht {n}, aangevuld</p>", spoiler_text="", tags=[],
                                            mention_ids=[], now=at + timedelta(seconds=1))
    return org.id


def yardsticks(bag: Path, scratch: Path) -> tuple[float, float]:
    """Seconds to SHA-256 every payload file, and to write every payload file again (same sizes, same count)."""
    files = [p for p in (bag / "data").rglob("*") if p.is_file()]
    started = time.perf_counter()
    for path in files:
        hashlib.sha256(path.read_bytes()).hexdigest()
    hashed = time.perf_counter() - started
    started = time.perf_counter()
    for number, path in enumerate(files):
        target = scratch / f"{number // 1000}" / f"{number}"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
    return hashed, time.perf_counter() - started


async def run(url: str, count: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="ambtenaar-bench-archive-"))
    try:
        settings = load_settings({"domain": "bench.example", "data_dir": str(work), "database_url": url})
        pool = await open_pool(url, max_size=2)
        async with pool.acquire() as conn, conn.transaction():
            org_id = await populate(conn, count, work / "media")
        samples: list[tuple[int, float]] = []

        def progress(done: int, total: int) -> None:
            if done % max(1, total // 20) == 0:
                samples.append((done, rss_mib()))
        before = rss_mib()
        started = time.perf_counter()
        result = await export_bag(pool, org_id, settings=settings, start=date(2026, 1, 1), end=date(2026, 12, 31),
                                  out_dir=work / "bag", note_json=note_builder(settings), progress=progress)
        took = time.perf_counter() - started
        await pool.close()
        hashed, copied = yardsticks(result.path, work / "copy")
        print(machine_line())
        print(f"{result.posts} posts, {result.files} files, {result.payload_bytes / 2**20:.1f} MiB payload")
        print(f"export:                 {took:8.1f} s  ({result.posts / took:,.0f} posts/s)")
        print(f"yardstick sha256 all:   {hashed:8.1f} s  export = {took / hashed:5.1f}x")
        print(f"yardstick write again:  {copied:8.1f} s  export = {took / copied:5.1f}x")
        print(f"RSS before {before:.0f} MiB; during the export (posts: MiB) "
              + ", ".join(f"{done}: {mib:.0f}" for done, mib in samples[:: max(1, len(samples) // 6)]))
        print(f"peak RSS during export {max(m for _, m in samples):.0f} MiB")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=10_000)
    args = parser.parse_args()
    with postgres() as server:
        asyncio.run(run(server.fresh_database(), args.posts))


if __name__ == "__main__":
    main()
