"""The archive (issue 16): a post's whole life in a BagIt bag with MDTO sidecars, verified; tampering found; the
personal voice left out on request; a resumed export; retention purging a deleted personal post, audited."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from xml.etree import ElementTree as ET

import bagit
import httpx
import pytest

from tests import factories
from tests.helpers.database import fetch, scalar
from tests.helpers.nodes import REPO, Node, node_env
from tests.helpers.photos import png
from tests.helpers.web import WebClient

NS = "{https://www.nationaalarchief.nl/mdto}"
TODAY = date.today()
PERIOD = ["--from", (TODAY - timedelta(days=1)).isoformat(), "--to", (TODAY + timedelta(days=1)).isoformat()]


@pytest.fixture(scope="module", autouse=True)
def ede(node: Node) -> None:
    factories.organisation(node)
    assert node.cli("org", "update", "gemeente-ede", "--tooi", "gm0228").code == 0
    factories.person(node, "anna", org="gemeente-ede", display_name="Anna de Vries")
    factories.person(node, "rita", org="gemeente-ede", role="reviewer", display_name="Rita Reviewer")
    result = node.cli("policy", "set", "--org", "gemeente-ede", "--check", "four-eyes", "--action", "hold")
    assert result.code == 0, result.err


def api(node: Node, username: str) -> httpx.Client:
    token = node.cli("token", "create", "--username", username, "--scopes", "read write").out.strip()
    return httpx.Client(base_url=node.url, headers={"Authorization": f"Bearer {token}"})


@pytest.fixture(scope="module")
def life(node: Node) -> Iterator[dict[str, str]]:
    """An official post with an image: held, edited twice, approved by Rita, federated, deleted; and a personal
    post. The ids of both."""
    with api(node, "anna") as anna:
        image = anna.post("/api/v2/media", files={"file": ("plein.png", png(), "image/png")},
                          data={"description": "Het marktplein"}).json()["id"]
        held = anna.post("/api/v1/statuses", json={"status": "De markt verhuist", "voice": "official",
                                                   "media_ids": [image]})
        post_id = held.json()["policy"]["status_id"]
        for text in ("De markt verhuist naar het plein", "De markt verhuist naar het Museumplein"):
            assert anna.put(f"/api/v1/statuses/{post_id}", json={"status": text}).status_code == 200
        rita = WebClient(node.url, language="en")
        rita.login("rita", factories.PASSWORD)
        assert rita.review(post_id, "approve").status_code == 303
        assert anna.delete(f"/api/v1/statuses/{post_id}").status_code == 200
        personal = anna.post("/api/v1/statuses", json={"status": "Mooi weer vandaag", "voice": "personal"}).json()
    yield {"official": str(post_id), "personal": personal["id"]}


def export(node: Node, out: Path, *extra: str) -> tuple[int, str, str]:
    result = node.cli("archive", "export", "--org", "gemeente-ede", *PERIOD, "--out", str(out), *extra)
    return result.code, result.out, result.err


def test_the_whole_life_of_a_post_is_in_a_bag_that_verifies(node: Node, life: dict[str, str],
                                                            tmp_path: Path) -> None:
    code, out, err = export(node, tmp_path / "bag")
    assert code == 0, err
    bag = tmp_path / "bag"
    folder = bag / "data" / "anna" / life["official"]
    assert sorted(p.name for p in folder.glob("v*.json")) == ["v1.json", "v2.json", "v3.json"]
    assert "het Museumplein" in json.loads((folder / "v3.json").read_text())["content"]
    assert "verhuist</p>" in (folder / "v1.html").read_text()
    assert list((folder / "media").glob("*.png")) and "src=\"media/" in (folder / "v3.html").read_text()
    sidecar = ET.parse(folder / f"{life['official']}.mdto.xml").getroot()
    events = [(e.findtext(f"{NS}eventType/{NS}begripLabel"), e.findtext(f"{NS}eventVerantwoordelijkeActor/"
                                                                        f"{NS}verwijzingNaam") or "")
              for e in sidecar.iter(f"{NS}event")]
    labels = [label for label, _ in events]
    assert labels[0] == "Creatie" and labels.count("Wijziging") == 2 and "Bevriezing" in labels
    assert ("Accordering", f"Rita Reviewer (@rita@{node.domain})") in events
    assert "Verzending" in labels and "Publicatie" in labels
    assert sidecar.findtext(f"{NS}informatieobject/{NS}archiefvormer/{NS}verwijzingIdentificatie/"
                            f"{NS}identificatieKenmerk") == "gm0228"
    bestand = ET.parse(folder / "v1.json.bestand.mdto.xml").getroot()
    assert bestand.findtext(f"{NS}bestand/{NS}bestandsformaat/{NS}begripCode") == "fmt/817"
    assert (bag / "data" / "anna" / "anna.mdto.xml").is_file()
    assert "Payload-Oxum" in (bag / "bag-info.txt").read_text()
    verified = node.cli("archive", "verify", str(bag))
    assert verified.code == 0, verified.out + verified.err
    bagit.Bag(str(bag)).validate()  # an independent implementation agrees

    target = folder / "v2.json"
    data = bytearray(target.read_bytes())
    data[10] ^= 1
    target.write_bytes(bytes(data))
    tampered = node.cli("archive", "verify", str(bag))
    assert tampered.code == 1 and f"data/anna/{life['official']}/v2.json" in tampered.out, tampered.out


def test_the_official_voice_alone_leaves_personal_posts_out(node: Node, life: dict[str, str],
                                                            tmp_path: Path) -> None:
    code, _, err = export(node, tmp_path / "official", "--voice", "official")
    assert code == 0, err
    posts = {p.name for p in (tmp_path / "official" / "data" / "anna").iterdir() if p.is_dir()}
    assert life["official"] in posts and life["personal"] not in posts
    code, _, err = export(node, tmp_path / "all")
    assert code == 0 and life["personal"] in {p.name for p in (tmp_path / "all" / "data" / "anna").iterdir()}
    again = export(node, tmp_path / "all")
    assert again[0] == 1 and "already holds a finished bag" in again[2]


def test_an_interrupted_export_goes_on_and_verifies(node: Node, tmp_path: Path) -> None:
    factories.organisation(node, slug="gemeente-epe", name="Gemeente Epe", website="https://www.epe.nl")
    factories.person(node, "piet", org="gemeente-epe")
    with api(node, "piet") as piet:
        for number in range(30):
            assert piet.post("/api/v1/statuses", json={"status": f"Bericht {number}",
                                                       "voice": "personal"}).status_code == 200
    out = tmp_path / "epe"
    process = subprocess.Popen(
        [sys.executable, "-m", "server", "archive", "export", "--org", "gemeente-epe", *PERIOD, "--out", str(out),
         "--progress-every", "2", *node.settings_flags()], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
        text=True, env=node_env(node.extra_env), cwd=REPO)
    assert process.stderr is not None
    first = process.stderr.readline()
    process.send_signal(signal.SIGKILL)  # no chance to tidy up
    process.wait()
    assert first.startswith("exported 2/30"), first
    assert not (out / "tagmanifest-sha256.txt").exists()
    done = node.cli("archive", "export", "--org", "gemeente-epe", *PERIOD, "--out", str(out))
    assert done.code == 0 and done.out.startswith("Finished"), done.err
    assert len([p for p in (out / "data" / "piet").iterdir() if p.is_dir()]) == 30
    assert not list(out.glob("data/**/.*.partial"))
    assert node.cli("archive", "verify", str(out)).code == 0
    bagit.Bag(str(out)).validate()


def test_retention_purges_a_deleted_personal_post_once_its_period_is_over(node: Node) -> None:
    refused = node.cli("archive", "retention", "--org", "gemeente-ede", "--personal", "10 years")
    assert refused.code == 1 and "ISO 8601" in refused.err
    assert node.cli("archive", "retention", "--org", "gemeente-ede", "--personal", "P1D").code == 0
    with api(node, "anna") as anna:
        post_id = anna.post("/api/v1/statuses", json={"status": "Even persoonlijk", "voice": "personal"}).json()["id"]
        assert anna.delete(f"/api/v1/statuses/{post_id}").status_code == 200
    kept = node.cli("archive", "purge", "--org", "gemeente-ede")
    assert kept.code == 0 and scalar(node.database_url, "SELECT count(*) FROM posts WHERE id = $1", int(post_id)) == 1
    shown = node.cli("archive", "retention", "--org", "gemeente-ede", "--personal", "P0D")
    assert shown.code == 0 and "personal P0D" in shown.out and "official P10Y" in shown.out
    purged = node.cli("archive", "purge", "--org", "gemeente-ede")
    assert purged.code == 0 and "purged 1 posts" in purged.out, purged.out
    assert scalar(node.database_url, "SELECT count(*) FROM posts WHERE id = $1", int(post_id)) == 0
    entries = fetch(node.database_url, "SELECT detail FROM audit_log WHERE action = 'archive.purged'")
    assert entries and post_id in json.loads(entries[-1]["detail"])["post_ids"]
    assert scalar(node.database_url, "SELECT count(*) FROM audit_log WHERE action = 'archive.settings'") == 2


def test_a_webcare_conversation_is_a_dossier_in_the_bag(node: Node, tmp_path: Path) -> None:
    """Issue 15 item 6 / issue 16: a conversation (a citizen's mention, an internal note) goes into the export as a
    dossier with its history; the note is marked internal; the bag still verifies."""
    factories.person(node, "bert", display_name="Bert Burger")
    factories.person(node, "kees", org="gemeente-ede", role="webcare")
    with api(node, "bert") as bert:
        asked = bert.post("/api/v1/statuses", json={"status": "@gemeente_ede wanneer gaat het zwembad open?"})
        assert asked.status_code == 200, asked.text
    token = node.cli("token", "create", "--username", "kees", "--scopes", "webcare").out.strip()
    with httpx.Client(base_url=node.url, headers={"Authorization": f"Bearer {token}"}) as kees:
        [conversation] = kees.get("/api/v1/ambtenaar/webcare/conversations", params={"org": "gemeente-ede"}).json()
        noted = kees.post(f"/api/v1/ambtenaar/webcare/conversations/{conversation['id']}/notes",
                          json={"text": "Navragen bij Sport"})
        assert noted.status_code == 200, noted.text
    code, _, err = export(node, tmp_path / "bag")
    assert code == 0, err
    folder = tmp_path / "bag" / "data" / "webcare" / conversation["id"]
    document = json.loads((folder / "conversation.json").read_text())
    assert document["citizen"] == f"@bert@{node.domain}" and document["messages"][0]["direction"] == "in"
    assert document["messages"][0]["post"].endswith(asked.json()["id"])
    assert [h for h in document["history"] if h["internal"]][0]["detail"]["text"] == "Navragen bij Sport"
    sidecar = ET.parse(folder / f"{conversation['id']}.mdto.xml").getroot()
    assert sidecar.findtext(f"{NS}informatieobject/{NS}aggregatieniveau/{NS}begripLabel") == "Dossier"
    assert "Ontvangst" in [e.findtext(f"{NS}eventType/{NS}begripLabel") for e in sidecar.iter(f"{NS}event")]
    verified = node.cli("archive", "verify", str(tmp_path / "bag"))
    assert verified.code == 0, verified.out + verified.err
    bagit.Bag(str(tmp_path / "bag")).validate()
