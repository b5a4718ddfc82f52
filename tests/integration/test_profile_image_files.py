"""A replaced or removed avatar or header is deleted from disk by housekeeping: whoever takes a photo down expects it
gone, not merely unlinked. The image a profile names, and an upload still being written, stay."""

from __future__ import annotations

import asyncio
import io
import os
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
from PIL import Image

from server import housekeeping, profiles
from server.config import settings_from
from tests import factories
from tests.helpers.nodes import Node


def _png(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (500, 500), colour).save(out, "PNG")
    return out.getvalue()


def _sweep(node: Node, later: timedelta) -> int:
    async def run() -> int:
        conn = await asyncpg.connect(node.database_url)
        try:
            return await profiles.sweep_unused_images(conn, datetime.now(UTC) + later,
                                                      settings_from({}, {"data_dir": str(node.data_dir)}))
        finally:
            await conn.close()
    return asyncio.run(run())


def test_replaced_and_removed_images_are_deleted_by_housekeeping(node: Node) -> None:
    assert "profile_images" in housekeeping.JOBS  # runs with every round of the worker's housekeeping
    factories.organisation(node)
    factories.person(node, "femke", org="gemeente-ede")
    token = node.cli("token", "create", "--username", "femke", "--scopes", "read write").out.strip()
    femke = httpx.Client(base_url=node.url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    media = node.data_dir / "media"

    def set_images(colour: tuple[int, int, int]) -> dict[str, str]:
        answer = femke.patch("/api/v1/accounts/update_credentials",
                             files={"avatar": ("a.png", _png(colour), "image/png"),
                                    "header": ("h.png", _png(colour), "image/png")})
        assert answer.status_code == 200, answer.text
        return {kind: answer.json()[kind].rsplit("/", 1)[1] for kind in ("avatar", "header")}

    first = set_images((200, 0, 0))
    second = set_images((0, 200, 0))
    assert all((media / name).exists() for name in (*first.values(), *second.values()))

    # Within the hour nothing goes: a file may belong to an upload whose row is not committed yet.
    assert _sweep(node, timedelta(0)) == 0
    assert all((media / name).exists() for name in first.values())

    assert _sweep(node, timedelta(hours=2)) == 2
    assert not any((media / name).exists() for name in first.values())
    assert all((media / name).exists() for name in second.values())
    assert httpx.get(f"{node.url}/media/{first['avatar']}").status_code == 404
    assert httpx.get(f"{node.url}/media/{second['avatar']}").status_code == 200

    # Removing the header (DELETE /api/v1/profile/header, as in Mastodon 4.2) deletes its file at the next round.
    removed = femke.delete("/api/v1/profile/header")
    assert removed.status_code == 200, removed.text
    assert removed.json()["header"].endswith("/static/header.png") and removed.json()["avatar"].endswith(
        second["avatar"]), removed.text
    assert _sweep(node, timedelta(hours=2)) == 1
    assert not (media / second["header"]).exists() and (media / second["avatar"]).exists()

    # Post images and other files in the folder are not the sweep's business.
    other = media / "note.txt"
    other.write_text("kept")
    old = (datetime.now(UTC) - timedelta(days=3)).timestamp()
    os.utime(other, (old, old))
    assert _sweep(node, timedelta(hours=2)) == 0 and other.exists()
