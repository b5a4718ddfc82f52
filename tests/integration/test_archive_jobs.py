"""Archive exports on the web (issue 16 item 4) against one real node: an archivist starts an export on the page,
the node's worker (in the serve process) runs it from the queue with progress recorded, the page offers the zipped
bag, the download is a bag; an official without the role is refused everywhere; start, finish and download are
audited."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests import factories
from tests.helpers.database import fetch
from tests.helpers.nodes import Node
from tests.helpers.polling import eventually
from tests.helpers.web import WebClient

PAGE = "/orgs/gemeente-ede/archive"


@pytest.fixture(scope="module")
def town(node: Node) -> Iterator[Node]:
    factories.organisation(node)
    factories.person(node, "arie", org="gemeente-ede", role="archivist", display_name="Arie Archief")
    factories.person(node, "anna", org="gemeente-ede", display_name="Anna de Vries")
    token = node.cli("token", "create", "--username", "anna", "--scopes", "read write").out.strip()
    with httpx.Client(base_url=node.url, timeout=30, headers={"Authorization": f"Bearer {token}"}) as anna:
        for text in ("Het stadhuis is maandag gesloten.", "De markt verhuist naar het plein."):
            assert anna.post("/api/v1/statuses", json={"status": text, "voice": "official"}).status_code == 200
    yield node


def _signed_in(node: Node, username: str) -> WebClient:
    client = WebClient(node.url)
    assert client.login(username, factories.PASSWORD).status_code == 303
    return client


def test_an_archivist_exports_and_downloads_the_bag(town: Node) -> None:
    arie = _signed_in(town, "arie")
    today = datetime.now(ZoneInfo("Europe/Amsterdam")).date()
    period = {"from": (today - timedelta(days=1)).isoformat(), "to": (today + timedelta(days=1)).isoformat(),
              "voice": "official"}
    started = arie.post(PAGE, period)
    assert started.status_code == 303 and started.headers["location"] == f"{PAGE}?started=1"
    status = eventually(lambda: arie.get(f"{PAGE}/status.json").json()["exports"],
                        until=lambda exports: exports and exports[0]["state"] in ("done", "failed", "dead"),
                        timeout=120, what="the export to finish")[0]
    assert status["state"] == "done", fetch(town.database_url, "SELECT last_error FROM archive_exports")
    assert status["posts_done"] == status["posts_total"] == 2 and status["percent"] == 100
    page = arie.get(PAGE).text
    link = f'{PAGE}/{status["id"]}/download'
    assert f'href="{link}"' in page and ("2 of 2 posts" in page or "2 van 2 berichten" in page)
    download = arie.get(link)
    assert download.status_code == 200 and download.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(download.content)).namelist()
    assert any(n.endswith("/bagit.txt") for n in names) and any(n.endswith("/manifest-sha256.txt") for n in names)
    actions = [(r["action"], json.loads(r["detail"]) if isinstance(r["detail"], str) else r["detail"])
               for r in fetch(town.database_url, "SELECT action, detail FROM audit_log "
                              "WHERE action LIKE 'archive.export%' ORDER BY id")]
    assert [a for a, _ in actions] == ["archive.export_started", "archive.export_finished",
                                       "archive.export_downloaded"]
    assert all(d["export"] == status["id"] for _, d in actions)


def test_an_official_without_the_role_is_refused(town: Node) -> None:
    anna = _signed_in(town, "anna")
    export_id = fetch(town.database_url, "SELECT id FROM archive_exports ORDER BY id LIMIT 1")
    assert anna.get(PAGE).status_code == 403
    assert anna.get(f"{PAGE}/status.json").status_code == 403
    assert anna.post(PAGE, {"from": "2026-01-01", "to": "2026-01-31", "voice": "official"}).status_code == 403
    if export_id:
        assert anna.get(f"{PAGE}/{export_id[0]['id']}/download").status_code == 403
    anonymous = WebClient(town.url).get(PAGE)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    refused = _signed_in(town, "arie").post(PAGE, {"from": "2026-02-01", "to": "2026-01-01", "voice": "official"})
    assert refused.status_code == 422
