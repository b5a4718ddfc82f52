"""The media proxy's URL signing, and its refusal of private addresses, with the real outgoing client."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from federation import media_proxy
from federation.context import Federation
from federation.netguard import OutgoingClient
from server import uris
from server.config import Settings
from server.deps import Deps


def test_signed_urls_round_trip_and_tampering_is_refused() -> None:
    settings = Settings(domain="gemeente.test", scheme="https", secret_key="s" * 32)
    url = "https://burger.test/media/1.png?x=1&y=é"
    proxied = uris.proxied_media(settings, url)
    assert proxied.startswith("https://gemeente.test/media/proxy/")
    signature, encoded = proxied.rsplit("/", 2)[1:]
    assert uris.proxied_media_target(settings, signature, encoded) == url
    assert uris.proxied_media_target(settings, "0" * len(signature), encoded) is None
    assert uris.proxied_media_target(settings, signature, encoded[:-2]) is None
    assert uris.proxied_media_target(settings, signature, "!!not base64!!") is None
    other_node = Settings(domain="gemeente.test", scheme="https", secret_key="t" * 32)
    assert uris.proxied_media_target(other_node, signature, encoded) is None
    assert uris.proxied_media(settings, url, preview=True).endswith("?size=small")


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/a.png", "http://10.1.2.3/a.png", "http://[::1]/a.png",
                                 "http://169.254.169.254/latest/meta-data", "file:///etc/passwd"])
def test_private_addresses_are_never_fetched(url: str, tmp_path: Path) -> None:
    async def attempt() -> int:
        async with OutgoingClient(user_agent="test", allow_private_addresses=False) as client:
            fed = Federation(deps=Deps(settings=Settings(data_dir=str(tmp_path)), pool=None), client=client)  # type: ignore[arg-type]
            with pytest.raises(media_proxy.ProxyRefusal) as refused:
                await media_proxy._fetch_and_store(fed, url, "x")
            return refused.value.status
    assert asyncio.run(attempt()) == 403
    assert not (tmp_path / "media-proxy").exists()


def test_old_cached_images_are_pruned_and_recent_ones_kept(tmp_path: Path) -> None:
    folder = tmp_path / "media-proxy"  # the data dir's back end of the media store
    folder.mkdir(parents=True)
    now = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    old, recent = folder / "aaa", folder / "bbb-small"
    for path, age in ((old, timedelta(days=31)), (recent, timedelta(days=29))):
        path.write_bytes(b"png")
        moment = (now - age).timestamp()
        os.utime(path, (moment, moment))
    assert asyncio.run(media_proxy.prune_cache(Settings(data_dir=str(tmp_path)), now)) == 1
    assert not old.exists() and recent.exists()
    elsewhere = Settings(data_dir=str(tmp_path / "elsewhere"))  # a worker without the cache folder
    assert asyncio.run(media_proxy.prune_cache(elsewhere, now)) == 0
