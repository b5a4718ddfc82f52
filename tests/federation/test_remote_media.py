"""Images of remote posts reach our readers only through our media proxy, re-encoded, never from the remote host."""

from __future__ import annotations

import io
import re

import httpx
from PIL import Image

from tests.federation.conftest import api
from tests.helpers.database import scalar
from tests.helpers.nodes import Node
from tests.helpers.polling import eventually


def _png_with_text_chunk() -> bytes:
    """A real PNG that also carries metadata, which the proxy must not pass on."""
    from PIL.PngImagePlugin import PngInfo
    info = PngInfo()
    info.add_text("Comment", "<script>window.__xss = 1</script> secret metadata")
    out = io.BytesIO()
    Image.new("RGB", (320, 200), (10, 120, 60)).save(out, "PNG", pnginfo=info)
    return out.getvalue()


def test_remote_image_is_served_through_the_proxy(gemeente: Node, burger: Node) -> None:
    anna, bert = api(gemeente, "anna"), api(burger, "bert")
    uploaded = bert.post("/api/v2/media", files={"file": ("park.png", _png_with_text_chunk(), "image/png")},
                         data={"description": "Het park na de storm"})
    assert uploaded.status_code == 200, uploaded.text
    original_url = uploaded.json()["url"]
    posted = bert.post("/api/v1/statuses", json={"status": f"@anna@{gemeente.domain} Zie de foto",
                                                 "media_ids": [uploaded.json()["id"]]})
    assert posted.status_code == 200, posted.text

    mention = eventually(lambda: anna.get("/api/v1/notifications", params={"types[]": "mention"}).json(), bool,
                         what="bert's post at gemeente")[0]["status"]
    [attachment] = mention["media_attachments"]
    assert attachment["remote_url"] == original_url
    assert attachment["description"] == "Het park na de storm"
    assert attachment["url"].startswith(f"{gemeente.url}/media/proxy/")
    assert attachment["preview_url"].startswith(f"{gemeente.url}/media/proxy/")
    assert burger.domain not in attachment["url"] and burger.domain not in attachment["preview_url"]

    full = httpx.get(attachment["url"])
    assert full.status_code == 200 and full.headers["content-type"] == "image/png"
    assert "sandbox" in full.headers["content-security-policy"]
    assert b"secret metadata" not in full.content  # re-encoded: the text chunk is gone
    assert Image.open(io.BytesIO(full.content)).size == (320, 200)
    preview = httpx.get(attachment["preview_url"])
    assert preview.status_code == 200 and preview.headers["content-type"] == "image/png"

    # The page shows the image from our own origin, with its description as alt text.
    page = httpx.get(f"{gemeente.url}/posts/{mention['id']}").text
    sources = re.findall(r'<img src="([^"]+)" alt="([^"]*)"', page)
    assert sources and all(src.startswith(f"{gemeente.url}/media/proxy/") for src, _ in sources)
    assert any("Het park na de storm" in alt for _, alt in sources)

    # The remote account's avatar (our nodes publish one as the actor's icon) goes through the proxy too.
    avatar = mention["account"]["avatar"]
    assert avatar.startswith(f"{gemeente.url}/media/proxy/")
    assert httpx.get(avatar).headers["content-type"] == "image/png"

    # A path we did not sign is not fetched: the proxy is not open to any URL.
    signature, encoded = attachment["url"].split("/media/proxy/")[1].split("/")
    tampered = f"{gemeente.url}/media/proxy/{'0' * len(signature)}/{encoded}"
    assert httpx.get(tampered).status_code == 404
    other = f"{gemeente.url}/media/proxy/{signature}/aHR0cDovLzEyNy4wLjAuMS9hZG1pbg"
    assert httpx.get(other).status_code == 404
    assert scalar(gemeente.database_url,
                  "SELECT count(*) FROM media_attachments WHERE remote_url IS NOT NULL AND file_name = ''") == 1

    # Once moderators reject the domain's media, even the cached copy is no longer shown.
    blocked = gemeente.cli("domain", "block", burger.domain, "--severity", "reject-media")
    assert blocked.code == 0, blocked.err
    try:
        assert httpx.get(attachment["url"]).status_code == 404
        assert httpx.get(avatar).status_code == 404
    finally:
        assert gemeente.cli("domain", "unblock", burger.domain).code == 0
    assert httpx.get(attachment["url"]).status_code == 200
