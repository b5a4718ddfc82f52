"""MDTO sidecars (server/archive_mdto.py) in the schema's order with the Nationaal Archief's list labels, the checks
of archive_verify.py on them, and retention durations (server/archive.py)."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timezone
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from server import archive_mdto as mdto
from server.archive import parse_duration
from server.archive_verify import verify_bag
from server.errors import Invalid

N = f"{{{mdto.NS}}}"
AT = datetime(2026, 3, 1, 9, 30, tzinfo=timezone.utc)


def record() -> mdto.Informatieobject:
    return mdto.Informatieobject(
        identificatie=(("https://ede.example/users/anna/statuses/1", "URI"),), naam="De markt verhuist",
        aggregatieniveau="Archiefstuk", waardering="V", archiefvormer=mdto.Ref("Gemeente Ede", "gm0228", "TOOI"),
        beperkingen=(mdto.Beperking(mdto.Begrip("Geen beperking", mdto.BEPERKINGEN)),),
        dekking=("Publicatieperiode", date(2026, 3, 1), None), taal=("nl",),
        events=(mdto.Event(mdto.event_type("Creatie"), AT, mdto.Ref("Anna")),
                mdto.Event(mdto.event_type("Accordering"), AT, mdto.Ref("Rita"), "Goedgekeurd")),
        bewaartermijn=mdto.Termijn(mdto.event_type("Creatie"), date(2026, 3, 1), "P10Y", date(2036, 3, 1)),
        heeft_representatie=(mdto.Ref("v1.json", "data/anna/1/v1.json", "BagIt"),),
        betrokkenen=(("Auteur (officiële stem)", mdto.Ref("Anna")),))


def test_an_informatieobject_has_its_elements_in_the_schemas_order_and_the_lists_labels() -> None:
    root = ET.fromstring(mdto.informatieobject_xml(record()))
    assert root.tag == N + "MDTO"
    names = [child.tag.removeprefix(N) for child in root[0]]
    assert names == sorted(names, key=mdto.INFORMATIEOBJECT_ORDER.index)
    assert set(mdto.INFORMATIEOBJECT_REQUIRED) <= set(names)
    assert root.findtext(f"{N}informatieobject/{N}waardering/{N}begripLabel") == "Tijdelijk te bewaren"
    assert root.findtext(f"{N}informatieobject/{N}waardering/{N}begripCode") == "V"
    lists = {e.findtext(f"{N}begripBegrippenlijst/{N}verwijzingNaam") for e in root.iter(f"{N}eventType")}
    assert lists == {"Begrippenlijst EventTypeLijst MDTO"}
    assert root.findtext(f"{N}informatieobject/{N}event/{N}eventTijd") == "2026-03-01T09:30:00Z"


def test_a_bestand_names_its_pronom_format_and_sha256() -> None:
    root = ET.fromstring(mdto.bestand_xml(mdto.Bestand(
        ("data/anna/1/v1.json", "BagIt"), "v1.json", 12, "application/activity+json", "ab" * 32, AT,
        mdto.Ref("De markt verhuist"))))
    names = [child.tag.removeprefix(N) for child in root[0]]
    assert names == [n for n in mdto.BESTAND_ORDER if n in names] and set(mdto.BESTAND_REQUIRED) <= set(names)
    assert root.findtext(f"{N}bestand/{N}bestandsformaat/{N}begripCode") == "fmt/817"
    assert root.findtext(f"{N}bestand/{N}checksum/{N}checksumAlgoritme/{N}begripLabel") == "SHA-256"


def write_bag(folder: Path, sidecar: bytes) -> None:
    payload = {"data/a/1/1.mdto.xml": sidecar, "data/a/1/v1.json": b"{}"}
    for name, data in payload.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    (folder / "bagit.txt").write_text("BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n")
    (folder / "manifest-sha256.txt").write_text(
        "".join(f"{hashlib.sha256(d).hexdigest()}  {n}\n" for n, d in payload.items()))
    (folder / "bag-info.txt").write_text(f"Payload-Oxum: {sum(len(d) for d in payload.values())}.2\n")


def test_verify_names_an_element_out_of_order_and_a_missing_file(tmp_path: Path) -> None:
    good = mdto.informatieobject_xml(record()).replace(b"data/anna/1/v1.json", b"data/a/1/v1.json")
    write_bag(tmp_path / "good", good)
    assert verify_bag(tmp_path / "good") == []
    swapped = good.replace(b"<taal>nl</taal>", b"").replace(b"</naam>", b"</naam><taal>nl</taal>", 1)
    write_bag(tmp_path / "bad", swapped.replace(b"data/a/1/v1.json", b"data/a/1/v9.json"))
    problems = verify_bag(tmp_path / "bad")
    assert any("not in the schema's order" in p and p.startswith("data/a/1/1.mdto.xml") for p in problems)
    assert any("data/a/1/v9.json, which is not in the bag" in p for p in problems)


@pytest.mark.parametrize(("text", "iso"), [("P10Y", "P10Y"), ("p0d", "P0D"), ("P2W", "P14D"), ("P1Y6M", "P1Y6M")])
def test_retention_periods_are_iso_8601_durations(text: str, iso: str) -> None:
    assert parse_duration(text).iso == iso


@pytest.mark.parametrize("text", ["10Y", "P", "PT1H", "P1.5Y", "ten years"])
def test_other_periods_are_refused(text: str) -> None:
    with pytest.raises(Invalid):
        parse_duration(text)


def test_a_period_counts_calendar_months() -> None:
    assert parse_duration("P1M").add_to(date(2026, 1, 31)) == date(2026, 2, 28)
    assert parse_duration("P10Y").before(datetime(2036, 2, 29, tzinfo=timezone.utc)).date() == date(2026, 2, 28)
