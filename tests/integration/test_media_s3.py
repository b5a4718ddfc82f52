"""Media on an S3-compatible store (issue 18, item 6): a node started with `--media-store s3://bucket` and its
endpoint keeps uploads, avatars and the media proxy's copies in the bucket (moto's server here: a real S3 API over
HTTP), serves them under /media from there, exports and purges them there, and writes none into its data dir."""

from __future__ import annotations

import asyncio
import hashlib
import http.server
import io
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest
from PIL import Image

from federation import media_proxy
from server import profiles, uris
from server.config import Settings, settings_from
from tests import factories
from tests.helpers.database import TestPostgres, scalar
from tests.helpers.nodes import Node
from tests.helpers.photos import png
from tests.helpers.s3 import S3Server, s3_server

BUCKET = "ambtenaar-media"
TODAY = date.today()
PERIOD = ["--from", (TODAY - timedelta(days=1)).isoformat(), "--to", (TODAY + timedelta(days=1)).isoformat()]


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    with s3_server() as server:
        server.make_bucket(BUCKET)
        yield server


@pytest.fixture(scope="module")
def node(postgres: TestPostgres, tmp_path_factory: pytest.TempPathFactory, s3: S3Server) -> Iterator[Node]:
    running = Node(database_url=postgres.fresh_database(), data_dir=tmp_path_factory.mktemp("s3node"),
                   extra_env=s3.node_env(BUCKET)).start()
    try:
        factories.organisation(running)
        factories.person(running, "anna", org="gemeente-ede", display_name="Anna de Vries")
        yield running
    finally:
        running.stop()


def _settings(node: Node) -> Settings:
    """The node's settings as its worker reads them (housekeeping runs with these)."""
    env = node.extra_env
    return settings_from({}, {"data_dir": str(node.data_dir), "domain": node.domain,
                              "media_store": env["AMBTENAAR_MEDIA_STORE"], "s3_endpoint": env["AMBTENAAR_S3_ENDPOINT"],
                              "s3_access_key": env["AMBTENAAR_S3_ACCESS_KEY"],
                              "s3_secret_key": env["AMBTENAAR_S3_SECRET_KEY"],
                              "secret_key": (node.data_dir / "secret_key").read_text().strip()})


def _api(node: Node, username: str) -> httpx.Client:
    token = node.cli("token", "create", "--username", username, "--scopes", "read write").out.strip()
    return httpx.Client(base_url=node.url, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def _object(s3: S3Server, key: str) -> bytes:
    return bytes(s3.client().get_object(Bucket=BUCKET, Key=key)["Body"].read())


def test_an_upload_lives_in_the_bucket_and_is_served_exported_and_purged_from_there(node: Node, s3: S3Server,
                                                                                      tmp_path: Path) -> None:
    with _api(node, "anna") as anna:
        uploaded = anna.post("/api/v2/media", files={"file": ("plein.png", png((200, 40, 40)), "image/png")},
                             data={"description": "Het marktplein"})
        assert uploaded.status_code == 200, uploaded.text
        url, preview_url = uploaded.json()["url"], uploaded.json()["preview_url"]
        assert url.startswith(f"{node.url}/media/") and preview_url.startswith(f"{node.url}/media/")
        name, preview = url.rsplit("/", 1)[1], preview_url.rsplit("/", 1)[1]
        assert {f"media/{name}", f"media/{preview}"} <= set(s3.keys(BUCKET, "media/"))

        # The node serves the very bytes the bucket holds (the re-encoded image, not the upload).
        served = httpx.get(url)
        assert served.status_code == 200 and served.headers["content-type"] == "image/png"
        assert served.content == _object(s3, f"media/{name}")
        assert Image.open(io.BytesIO(served.content)).getpixel((5, 5)) == (200, 40, 40)
        assert httpx.get(preview_url).content == _object(s3, f"media/{preview}")
        again = httpx.get(url, headers={"If-None-Match": served.headers["etag"]})
        assert again.status_code == 304
        assert httpx.get(f"{node.url}/media/{name}x").status_code == 404
        assert httpx.get(f"{node.url}/media/..%2fsecret_key").status_code == 404
        assert not (node.data_dir / "media").exists()

        # A personal post with the image, deleted: the archive export takes the image from the bucket ...
        posted = anna.post("/api/v1/statuses", json={"status": "Even persoonlijk", "voice": "personal",
                                                     "media_ids": [uploaded.json()["id"]]})
        assert posted.status_code == 200, posted.text
        post_id = posted.json()["id"]
        out = tmp_path / "bag"
        exported = node.cli("archive", "export", "--org", "gemeente-ede", *PERIOD, "--out", str(out))
        assert exported.code == 0, exported.err
        [copy] = list(out.glob(f"data/anna/{post_id}/media/{name}"))
        assert copy.read_bytes() == served.content

        # ... and the retention purge removes it from the bucket once the post's period is over.
        assert anna.delete(f"/api/v1/statuses/{post_id}").status_code == 200
    assert node.cli("archive", "retention", "--org", "gemeente-ede", "--personal", "P0D").code == 0
    purged = node.cli("archive", "purge", "--org", "gemeente-ede")
    assert purged.code == 0 and "purged 1 posts" in purged.out, purged.out + purged.err
    assert scalar(node.database_url, "SELECT count(*) FROM posts WHERE id = $1", int(post_id)) == 0
    assert not {f"media/{name}", f"media/{preview}"} & set(s3.keys(BUCKET, "media/"))
    assert httpx.get(url).status_code == 404


def _square(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (500, 500), colour).save(out, "PNG")
    return out.getvalue()


def test_a_replaced_avatar_is_deleted_from_the_bucket_by_housekeeping(node: Node, s3: S3Server) -> None:
    with _api(node, "anna") as anna:
        def set_avatar(colour: tuple[int, int, int]) -> str:
            answer = anna.patch("/api/v1/accounts/update_credentials",
                                files={"avatar": ("a.png", _square(colour), "image/png")})
            assert answer.status_code == 200, answer.text
            return str(answer.json()["avatar"]).rsplit("/", 1)[1]
        first, second = set_avatar((0, 120, 0)), set_avatar((0, 0, 120))
    assert {f"media/{first}", f"media/{second}"} <= set(s3.keys(BUCKET, "media/avatar-"))
    assert httpx.get(f"{node.url}/media/{second}").content == _object(s3, f"media/{second}")

    async def sweep(later: timedelta) -> int:
        conn = await asyncpg.connect(node.database_url)
        try:
            return await profiles.sweep_unused_images(conn, datetime.now(UTC) + later, _settings(node))
        finally:
            await conn.close()
    assert asyncio.run(sweep(timedelta(0))) == 0  # within the hour: an upload's row may not be committed yet
    assert asyncio.run(sweep(timedelta(hours=2))) == 1
    assert s3.keys(BUCKET, "media/avatar-") == [f"media/{second}"]
    assert httpx.get(f"{node.url}/media/{first}").status_code == 404
    assert not (node.data_dir / "media").exists()


class _Remote(http.server.BaseHTTPRequestHandler):
    """A remote server with one photo, which the proxy fetches over real HTTP on loopback."""

    photo = png((10, 120, 60), (400, 300))
    hits = 0

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        type(self).hits += 1
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(self.photo)))
        self.end_headers()
        self.wfile.write(self.photo)

    def log_message(self, *args: object) -> None:
        pass


def test_proxied_remote_media_land_in_the_bucket_and_are_pruned_there(node: Node, s3: S3Server) -> None:
    remote = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Remote)
    threading.Thread(target=remote.serve_forever, daemon=True).start()
    try:
        remote_url = f"http://127.0.0.1:{remote.server_address[1]}/photo.png"
        settings = _settings(node)
        cached = f"media-proxy/{hashlib.sha256(remote_url.encode()).hexdigest()}"
        full = httpx.get(uris.proxied_media(settings, remote_url), timeout=30)
        assert full.status_code == 200, full.text
        assert full.headers["content-type"] == "image/png" and "sandbox" in full.headers["content-security-policy"]
        assert set(s3.keys(BUCKET, "media-proxy/")) == {cached, f"{cached}-small"}
        assert full.content == _object(s3, cached)
        assert Image.open(io.BytesIO(full.content)).size == (400, 300)
        small = httpx.get(uris.proxied_media(settings, remote_url, preview=True), timeout=30)
        assert small.status_code == 200 and small.content == _object(s3, f"{cached}-small")
        assert _Remote.hits == 1  # the preview came from the bucket, not from the remote server
        assert not s3.keys(BUCKET, "media/" + cached)  # never in the public area
        assert httpx.get(f"{node.url}/media/{cached.split('/')[1]}").status_code == 404
    finally:
        remote.shutdown()
        remote.server_close()
    # Still served once the remote server is gone: from the bucket.
    assert httpx.get(uris.proxied_media(settings, remote_url), timeout=30).content == full.content

    assert asyncio.run(media_proxy.prune_cache(settings, datetime.now(UTC) + timedelta(days=29))) == 0
    assert asyncio.run(media_proxy.prune_cache(settings, datetime.now(UTC) + timedelta(days=31))) == 2
    assert s3.keys(BUCKET, "media-proxy/") == []
    assert not (node.data_dir / "media-proxy").exists()


def test_with_a_public_url_the_addresses_handed_out_point_there(postgres: TestPostgres, s3: S3Server,
                                                                  tmp_path_factory: pytest.TempPathFactory) -> None:
    """`--media-public-url`: pages, the client API and ActivityPub give the store's public address (here the
    bucket's own, path-style); the node still serves /media/<name> for addresses it handed out before."""
    public = f"{s3.endpoint}/{BUCKET}/node-2/media"
    other = Node(database_url=postgres.fresh_database(), data_dir=tmp_path_factory.mktemp("public"),
                 extra_env=s3.node_env(f"{BUCKET}/node-2", AMBTENAAR_MEDIA_PUBLIC_URL=public)).start()
    try:
        factories.person(other, "bert", display_name="Bert Burger")
        with _api(other, "bert") as bert:
            uploaded = bert.post("/api/v2/media", files={"file": ("a.png", png(), "image/png")}).json()
            name = uploaded["url"].rsplit("/", 1)[1]
            assert uploaded["url"] == f"{public}/{name}" and uploaded["preview_url"].startswith(f"{public}/")
            posted = bert.post("/api/v1/statuses", json={"status": "Kijk", "media_ids": [uploaded["id"]]}).json()
            avatar = bert.patch("/api/v1/accounts/update_credentials",
                                files={"avatar": ("a.png", _square((9, 9, 9)), "image/png")}).json()["avatar"]
        assert avatar.startswith(f"{public}/avatar-")
        note = httpx.get(posted["uri"], headers={"Accept": "application/activity+json"}).json()
        assert note["attachment"][0]["url"] == f"{public}/{name}"
        assert f"node-2/media/{name}" in s3.keys(BUCKET, "node-2/media/")
        assert httpx.get(f"{other.url}/media/{name}").content == _object(s3, f"node-2/media/{name}")
        assert not (other.data_dir / "media").exists()
    finally:
        other.stop()
