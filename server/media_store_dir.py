"""The data-dir back end of the media store: `<data_dir>/media` and `<data_dir>/media-proxy`, as before stores.

Owns: those two folders. Files are written under a temporary name and renamed, so a reader in another process
never sees half a file. Blocking file calls run in a thread: the event loop serves others meanwhile.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from server.media_store import StoredFile, check_name


def area_dir(data_dir: str, area: str) -> Path:
    return Path(data_dir) / area


class DirMediaStore:
    def __init__(self, data_dir: str) -> None:
        self.data_dir = data_dir

    def _path(self, area: str, name: str) -> Path:
        return area_dir(self.data_dir, area) / check_name(area, name)

    async def put(self, area: str, name: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(self._write, self._path(area, name), data)

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temporary.write_bytes(data)
        temporary.replace(path)

    async def get(self, area: str, name: str) -> bytes | None:
        path = self._path(area, name)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None

    async def delete(self, area: str, names: Sequence[str]) -> None:
        paths = [self._path(area, name) for name in names]
        await asyncio.to_thread(lambda: [path.unlink(missing_ok=True) for path in paths])

    async def list(self, area: str, starting: str = "") -> list[StoredFile]:
        return await asyncio.to_thread(self._list, area_dir(self.data_dir, area), starting)

    @staticmethod
    def _list(folder: Path, starting: str) -> list[StoredFile]:
        if not folder.is_dir():
            return []
        found = []
        for entry in os.scandir(folder):
            if not entry.name.startswith(starting) or entry.name.startswith("."):
                continue
            try:
                if entry.is_file():
                    found.append(StoredFile(entry.name, datetime.fromtimestamp(entry.stat().st_mtime, UTC)))
            except FileNotFoundError:  # removed by another process meanwhile
                continue
        return found
