"""The S3 back end of the media store: any S3-compatible object store (MinIO, Ceph RGW, a cloud provider's), shared
by every web process and worker of the node, on any machine.

Owns: the objects `<prefix>/media/<name>` and `<prefix>/media-proxy/<name>` of the bucket. The client is obstore
(Apache Arrow's Rust object_store): natively async, and a few MiB per process where botocore takes about 20
(docs/media-storage.md). Objects are written with their Content-Type, so a bucket served to the public directly
(`--media-public-url`) answers with the right type.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import obstore
from obstore.store import S3Store

from server.media_store import StoredFile, StoreSettings, check_name


class S3MediaStore:
    def __init__(self, config: StoreSettings) -> None:
        options: dict[str, object] = {"region": config.region}
        if config.endpoint:
            options["endpoint"] = config.endpoint
        if config.access_key:
            options.update(access_key_id=config.access_key, secret_access_key=config.secret_key)
        self.store = S3Store(config.bucket, prefix=config.prefix or None, config=options,  # type: ignore[arg-type]
                             client_options={"allow_http": config.endpoint.startswith("http://"),
                                             "connect_timeout": timedelta(seconds=5),
                                             "timeout": timedelta(seconds=60)},
                             retry_config={"max_retries": 3, "retry_timeout": timedelta(seconds=30)})

    async def put(self, area: str, name: str, data: bytes, content_type: str) -> None:
        await obstore.put_async(self.store, f"{area}/{check_name(area, name)}", data,
                                attributes={"Content-Type": content_type})

    async def get(self, area: str, name: str) -> bytes | None:
        try:
            result = await obstore.get_async(self.store, f"{area}/{check_name(area, name)}")
            return bytes(await result.bytes_async())
        except FileNotFoundError:  # obstore's NotFoundError
            return None

    async def delete(self, area: str, names: Sequence[str]) -> None:
        paths = [f"{area}/{check_name(area, name)}" for name in names]
        if paths:
            await obstore.delete_async(self.store, paths)  # S3 answers a missing key as deleted

    async def list(self, area: str, starting: str = "") -> list[StoredFile]:
        # Keys come in order: start just before the wanted names and stop after them, instead of listing the area.
        folder = f"{area}/"
        found = []
        async for batch in obstore.list(self.store, folder, offset=folder + starting if starting else None,
                                        chunk_size=1000):
            for meta in batch:
                name = meta["path"][len(folder):]
                if not name.startswith(starting):
                    return found
                found.append(StoredFile(name, meta["last_modified"]))
        return found
