"""The media store: its settings refuse what cannot work with one line, and both back ends (the data dir, and an
S3-compatible store: moto's server, a real one over HTTP) keep, list and delete files alike."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from server import media_store
from server.config import Settings, SettingsError
from server.headers import SecurityHeaders, csp
from server.media_store import MediaStore
from server.media_store_dir import DirMediaStore
from tests.helpers.nodes import REPO, node_env
from tests.helpers.s3 import ACCESS_KEY, SECRET_KEY, S3Server, s3_server


@pytest.mark.parametrize(("values", "says"), [
    ({"media_store": "ftp://files.example/media"}, "--media-store must be empty (the data dir) or s3://"),
    ({"media_store": "s3://"}, "--media-store names no bucket"),
    ({"media_store": "s3:///media"}, "--media-store names no bucket"),
    ({"media_store": "s3://Media_Bucket"}, "is not a bucket name"),
    ({"media_store": "s3://media/a//b"}, "has an empty, '.' or '..' part"),
    ({"media_store": "s3://media/../etc"}, "has an empty, '.' or '..' part"),
    ({"media_store": "s3://media", "s3_access_key": "key"}, "must be given together"),
    ({"media_store": "s3://media", "s3_endpoint": "minio.internal:9000"}, "--s3-endpoint must be an http://"),
    ({"media_store": "s3://media", "s3_region": ""}, "--s3-region must not be empty"),
    ({"s3_endpoint": "http://127.0.0.1:9000"}, "--s3-endpoint is set but --media-store is not an s3:// store"),
    ({"media_public_url": "media.example.org"}, "--media-public-url must be an http://"),
])
def test_settings_that_cannot_work_are_refused_with_one_line(values: dict[str, str], says: str) -> None:
    with pytest.raises(SettingsError) as refused:
        media_store.parse(Settings(**values))
    assert says in str(refused.value) and "\n" not in str(refused.value)


def test_good_settings_and_public_addresses() -> None:
    assert media_store.parse(Settings(data_dir="/srv/data")) == media_store.StoreSettings("/srv/data")
    parsed = media_store.parse(Settings(media_store="s3://ambtenaar-media/node-1/", s3_endpoint="https://s3.example/",
                                        s3_access_key="k", s3_secret_key="s"))
    assert (parsed.bucket, parsed.prefix, parsed.endpoint) == ("ambtenaar-media", "node-1", "https://s3.example")
    own = Settings(domain="gemeente.test", scheme="https")
    assert media_store.url(own, "1-abc.png") == "https://gemeente.test/media/1-abc.png"
    assert media_store.public_origin(own) == ""
    cdn = Settings(domain="gemeente.test", scheme="https", media_public_url="https://media.gemeente.test/m/")
    assert media_store.url(cdn, "1-abc.png") == "https://media.gemeente.test/m/1-abc.png"
    assert media_store.public_origin(cdn) == "https://media.gemeente.test"
    # Pages may load images from there; nothing else is loosened.
    assert "img-src 'self' data: https://media.gemeente.test;" in csp("https://media.gemeente.test")
    assert csp("https://media.gemeente.test").replace(" https://media.gemeente.test", "") == csp()
    assert SecurityHeaders(lambda *a: None, https=True).csp == csp().encode()  # type: ignore[arg-type]


def test_serve_with_a_bad_store_exits_with_one_line(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "server", "serve", "--data-dir", str(tmp_path), "--port", "0",
                           "--web-processes", "1", "--media-store", "ftp://files.example/media"], capture_output=True, text=True,
                          env=node_env(), cwd=REPO, timeout=120)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "ambtenaar: error: --media-store must be empty (the data dir) or s3://bucket[/prefix], not "
        "'ftp://files.example/media'"]


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    with s3_server() as server:
        yield server


def _s3_store(s3: S3Server, bucket: str, prefix: str = "") -> MediaStore:
    s3.make_bucket(bucket)
    return media_store.for_settings(Settings(media_store=f"s3://{bucket}/{prefix}".rstrip("/"), s3_endpoint=s3.endpoint,
                                             s3_access_key=ACCESS_KEY, s3_secret_key=SECRET_KEY))


@pytest.mark.parametrize("backend", ["data dir", "s3"])
def test_both_back_ends_keep_list_and_delete_alike(backend: str, s3: S3Server, tmp_path: Path) -> None:
    store: MediaStore = DirMediaStore(str(tmp_path)) if backend == "data dir" else _s3_store(s3, "contract", "node-1")
    start = datetime.now(UTC) - timedelta(minutes=1)

    async def exercise() -> None:
        await store.put("media", "1-abc.png", b"post image", "image/png")
        await store.put("media", "avatar-7-xyz.png", b"avatar", "image/png")
        await store.put("media", "header-7-xyz.jpg", b"header", "image/jpeg")
        await store.put("media-proxy", "f00d", b"cached", "image/png")
        assert await store.get("media", "1-abc.png") == b"post image"
        assert await store.get("media", "2-missing.png") is None
        assert await store.get("media-proxy", "1-abc.png") is None  # the areas are apart
        avatars = await store.list("media", "avatar-")
        assert [f.name for f in avatars] == ["avatar-7-xyz.png"] and avatars[0].modified > start
        assert sorted(f.name for f in await store.list("media")) == ["1-abc.png", "avatar-7-xyz.png",
                                                                     "header-7-xyz.jpg"]
        assert [f.name for f in await store.list("media-proxy")] == ["f00d"]
        await store.delete("media", ["avatar-7-xyz.png", "never-there.png"])
        assert await store.get("media", "avatar-7-xyz.png") is None
        assert await store.list("media", "avatar-") == []
        assert await store.get("media", "header-7-xyz.jpg") == b"header"
        for bad in ("../secret_key", "a/b.png", ".hidden", ""):
            with pytest.raises(ValueError):
                await store.get("media", bad)
        with pytest.raises(ValueError):
            await store.put("other", "x.png", b"", "image/png")

    asyncio.run(exercise())
    if backend == "data dir":
        assert (tmp_path / "media" / "1-abc.png").read_bytes() == b"post image"
        assert (tmp_path / "media-proxy" / "f00d").read_bytes() == b"cached"
    else:  # where an operator finds them, with their types (a bucket served directly needs them)
        assert s3.keys("contract") == ["node-1/media-proxy/f00d", "node-1/media/1-abc.png",
                                       "node-1/media/header-7-xyz.jpg"]
        head = s3.client().head_object(Bucket="contract", Key="node-1/media/header-7-xyz.jpg")
        assert head["ContentType"] == "image/jpeg"
