"""Woo requests (issue 16 item 5) against one real node: the search finds every version of the organisation's
posts and the replies it received, deleted ones included; the redacted export replaces a BSN, an IBAN, a phone
number and a citizen's handle, consistently, and lists each in its inventory; page and CLI are audited; only the
organisation's admins and archivists get in; bad input is one line and exit 1.

Bert (a local person without an organisation) plays the citizen, as in tests/integration/test_webcare_pages.py.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests import factories
from tests.helpers.database import fetch
from tests.helpers.nodes import Node
from tests.helpers.web import WebClient

PAGE = "/orgs/gemeente-ede/woo"
BSN, IBAN, PHONE = "111222333", "NL91ABNA0417164300", "06-12345678"


@dataclass
class Record:
    node: Node
    deleted_id: str
    reply_id: str
    answer_id: str


def _api(node: Node, username: str) -> httpx.Client:
    token = node.cli("token", "create", "--username", username, "--scopes", "read write").out.strip()
    return httpx.Client(base_url=node.url, timeout=30, headers={"Authorization": f"Bearer {token}"})


def _ok(response: httpx.Response) -> dict:  # type: ignore[type-arg]
    assert response.status_code == 200, response.text
    return dict(response.json())


@pytest.fixture(scope="module")
def record(node: Node) -> Iterator[Record]:
    factories.organisation(node)
    factories.person(node, "anna", org="gemeente-ede", display_name="Anna de Vries")
    factories.person(node, "ada", org="gemeente-ede", role="org-admin")
    factories.person(node, "arie", org="gemeente-ede", role="archivist")
    factories.person(node, "bert", display_name="Bert Burger")
    with _api(node, "anna") as anna, _api(node, "bert") as bert:
        first = _ok(anna.post("/api/v1/statuses", json={"status": "De kap van de eikenbomen aan de Dorpsstraat "
                                                                  "begint maandag.", "voice": "official"}))
        reply = _ok(bert.post("/api/v1/statuses", json={
            "status": f"@anna Waarom de eikenbomen? Mijn BSN is {BSN}, rekening {IBAN}, bel me op {PHONE}.",
            "in_reply_to_id": first["id"]}))
        answer = _ok(anna.post("/api/v1/statuses", json={
            "status": "@bert Dank, we bellen je over de eikenbomen.", "in_reply_to_id": reply["id"],
            "voice": "official"}))
        _ok(anna.put(f"/api/v1/statuses/{first['id']}", json={"status": "Werkzaamheden Dorpsstraat vanaf maandag."}))
        _ok(anna.delete(f"/api/v1/statuses/{first['id']}"))
        _ok(anna.post("/api/v1/statuses", json={"status": "Mijn eigen eikenbomen thuis", "voice": "personal"}))
    yield Record(node, first["id"], reply["id"], answer["id"])


def _last_audit(node: Node, action: str) -> dict:  # type: ignore[type-arg]
    rows = fetch(node.database_url, "SELECT detail FROM audit_log WHERE action = $1 ORDER BY id DESC LIMIT 1", action)
    detail = rows[0]["detail"]
    return dict(json.loads(detail) if isinstance(detail, str) else detail)


def _signed_in(node: Node, username: str, language: str = "nl") -> WebClient:
    client = WebClient(node.url, language=language)
    assert client.login(username, factories.PASSWORD).status_code == 303
    return client


def test_search_finds_the_deleted_posts_earlier_version_and_the_citizens_reply(record: Record) -> None:
    found = record.node.cli("woo", "search", "--org", "gemeente-ede", "--query", "eikenboom", "--json")
    assert found.code == 0, found.err
    hits = {(h["post_id"], h["version"]): h for h in json.loads(found.out)}
    deleted = hits[(record.deleted_id, 1)]
    assert deleted["versions"] == 2 and deleted["current_version"] is False and deleted["deleted_at"]
    assert "eikenbomen aan de Dorpsstraat" in deleted["text"]
    assert (record.deleted_id, 2) not in hits  # the current text no longer says it
    assert hits[(record.reply_id, 1)]["kind"] == "received"
    assert hits[(record.answer_id, 1)]["kind"] == "own"
    # The personal post counts only when personal posts are asked for.
    assert not any("thuis" in h["text"] for h in hits.values())
    everything = record.node.cli("woo", "search", "--org", "gemeente-ede", "--query", "eikenboom", "--voice", "all")
    assert "Mijn eigen eikenbomen thuis" in everything.out and everything.out.strip().endswith("4 hits")
    assert {"query": "eikenboom", "voice": "all", "hits": 4, "via": "cli"}.items() <= _last_audit(
        record.node, "woo.searched").items()


def test_the_page_shows_markers_and_is_for_admins_and_archivists_only(record: Record) -> None:
    arie = _signed_in(record.node, "arie")
    page = arie.get(PAGE, params={"q": "eikenbomen"})
    assert page.status_code == 200, page.text
    assert "3 versies gevonden" in page.text or "3 versions found" in page.text
    assert f'id="hit-{record.deleted_id}-1"' in page.text
    assert "Dorpsstraat begint maandag" in page.text
    for name, status in (("anna", 403), ("bert", 403), ("ada", 200)):
        assert _signed_in(record.node, name).get(PAGE).status_code == status, name
    anonymous = WebClient(record.node.url).get(PAGE)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    audited = _last_audit(record.node, "woo.searched")
    assert audited["via"] == "web" and audited["hits"] == 3
    assert arie.get(PAGE, params={"q": "de"}).status_code == 422  # only a stop word


def test_the_export_redacts_consistently_and_lists_each_redaction(record: Record) -> None:
    arie = _signed_in(record.node, "arie")
    response = arie.post(f"{PAGE}/export", {"q": "eikenbomen", "from": "", "to": "", "voice": "official"})
    assert response.status_code == 200, response.text[:500]
    assert response.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    documents = {name: archive.read(name).decode() for name in archive.namelist() if name.startswith("documenten/")}
    everything = "\n".join(documents.values())
    for secret in (BSN, IBAN, PHONE, "@bert", "Bert Burger"):
        assert secret not in everything, secret
    replies = [json.loads(text) for name, text in documents.items() if name.endswith(".json")]
    by_kind = {d["kind"]: d for d in replies if d["kind"] == "received"}
    citizen = by_kind["received"]
    assert citizen["author"] == "[burger 1]" and citizen["uri"] == "[5.1.2e]"
    assert citizen["text"] == ("@anna Waarom de eikenbomen? Mijn BSN is [5.1.2e], rekening [5.1.2e], "
                               "bel me op [5.1.2e].")
    answer = next(d for d in replies if d["text"].startswith("[burger 1]"))
    assert answer["author"] == "Anna de Vries (@anna)"  # officials act in public by default
    inventory = list(csv.DictReader(io.StringIO(archive.read("inventaris.csv").decode())))
    assert len(inventory) == 3
    row = next(r for r in inventory if r["soort"] == "ontvangen bericht")
    assert row["beoordeling"] == "deels openbaar" and row["weigeringsgrond"] == "5.1.2e"
    for kind in ("BSN: 1", "IBAN: 1", "telefoonnummer: 1", "naam of handle van een burger: 1"):
        assert kind in row["gelakt"], row
    deleted = next(r for r in inventory if r["verwijderd"])
    assert deleted["versie"] == "1 van 2" and deleted["beoordeling"] == "openbaar"
    assert "artikel 5.1" in archive.read("LEESMIJ.txt").decode()
    audited = _last_audit(record.node, "woo.exported")
    assert audited["documents"] == 3 and audited["redacted"]["bsn"] == 1
    # Only the organisation's admins may say its officials are not public-facing; then they become [ambtenaar 1].
    assert arie.post(f"{PAGE}/settings", {}).status_code == 403
    ada = _signed_in(record.node, "ada")
    assert ada.post(f"{PAGE}/settings", {}).status_code == 303


def test_the_cli_export_and_its_refusals(record: Record, tmp_path: Path) -> None:
    out = tmp_path / "woo.zip"
    done = record.node.cli("woo", "export", "--org", "gemeente-ede", "--query", "eikenbomen", "--out", str(out))
    assert done.code == 0, done.err
    assert "3 documents" in done.out
    names = zipfile.ZipFile(out).namelist()
    assert "inventaris.csv" in names and "documenten/0001.html" in names
    answer = json.loads(zipfile.ZipFile(out).read("documenten/0003.json"))  # the settings test made them hidden
    assert answer["author"] == "[ambtenaar 1]"
    for args, message in ((["--query", "  "], "Type the words"), (["--query", "x", "--from", "gisteren"], "--from"),
                          (["--query", "eikenbomen", "--from", "2026-02-01", "--to", "2026-01-01"], "before its"),
                          (["--query", "de"], "too common")):
        refused = record.node.cli("woo", "search", "--org", "gemeente-ede", *args)
        assert refused.code == 1 and message in refused.err and len(refused.err.strip().splitlines()) == 1, refused
    again = record.node.cli("woo", "export", "--org", "gemeente-ede", "--query", "eikenbomen", "--out", str(out))
    assert again.code == 1 and "exists already" in again.err
    missing = record.node.cli("woo", "search", "--org", "nergens", "--query", "x")
    assert missing.code == 1 and len(missing.err.strip().splitlines()) == 1
    assert not list(tmp_path.glob("*.part"))
