"""The archive export against an independent server (issue 16): a citizen on a Fedify peer replies to an official
post of Gemeente Ede; the organisation's bag holds the reply as a related archiefstuk with a restriction of use for
personal data, and the bag verifies. Skipped, with the reason, where the harness is not set up."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from xml.etree import ElementTree as ET

import httpx
import pytest

from tests.helpers.database import scalar
from tests.helpers.nodes import Node
from tests.helpers.polling import eventually
from tests.interop.peers import OUR_HOST, Peer, harness_problem

_problem = harness_problem()
if _problem:
    pytest.skip(f"Fedify peer harness not available: {_problem}", allow_module_level=True)

NS = "{https://www.nationaalarchief.nl/mdto}"
ALICE = f"https://{OUR_HOST}/users/alice"


def test_a_citizens_reply_is_in_the_export_as_a_related_record(gemeente: Node, alice: httpx.Client, burger: Peer,
                                                               tmp_path: Path) -> None:
    assert burger.call("POST", "/follow", target=f"@alice@{OUR_HOST}")["state"] == "accepted"
    post = alice.post("/api/v1/statuses", json={"status": "De milieustraat is zaterdag open.",
                                                "voice": "official"}).json()
    created = burger.received(type="Create", actor=ALICE, wait=20, min=1)
    uri = next(c["object_id"] for c in created if "milieustraat" in c["activity"]["object"]["content"])
    burger.call("POST", "/reply", object_id=uri, text="Ook voor asbest?")
    eventually(lambda: scalar(gemeente.database_url, "SELECT count(*) FROM posts WHERE in_reply_to_id = $1",
                              int(post["id"])), lambda n: n == 1, what="the citizen's reply stored")

    bag = tmp_path / "bag"
    today = date.today()
    done = gemeente.cli("archive", "export", "--org", "gemeente-ede", "--from", (today - timedelta(days=1)).isoformat(),
                        "--to", (today + timedelta(days=1)).isoformat(), "--out", str(bag))
    assert done.code == 0, done.err
    folder = bag / "data" / "alice" / post["id"]
    replies = [p for p in (folder / "received").iterdir() if p.is_dir()]
    assert len(replies) == 1
    reply = ET.parse(replies[0] / f"{replies[0].name}.mdto.xml").getroot().find(f"{NS}informatieobject")
    assert reply is not None and "asbest" in (reply.findtext(f"{NS}naam") or "")
    restriction = reply.find(f"{NS}beperkingGebruik")
    assert restriction is not None and restriction.findtext(f"{NS}beperkingGebruikType/{NS}begripLabel") == "Overig"
    assert "persoonsgegevens" in (restriction.findtext(f"{NS}beperkingGebruikNadereBeschrijving") or "")
    related = reply.find(f"{NS}gerelateerdInformatieobject")
    assert related is not None and related.findtext(
        f"{NS}gerelateerdInformatieobjectVerwijzing/{NS}verwijzingIdentificatie/{NS}identificatieKenmerk") == uri
    labels = [e.findtext(f"{NS}eventType/{NS}begripLabel") for e in reply.iter(f"{NS}event")]
    assert "Ontvangst" in labels
    original = ET.parse(folder / f"{post['id']}.mdto.xml").getroot()
    assert any(r.findtext(f"{NS}gerelateerdInformatieobjectTypeRelatie/{NS}begripLabel") == "Wordt aangehaald door"
               for r in original.iter(f"{NS}gerelateerdInformatieobject"))
    verified = gemeente.cli("archive", "verify", str(bag))
    assert verified.code == 0, verified.out
