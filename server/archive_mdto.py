"""MDTO XML (Metagegevens voor Duurzaam Toegankelijke Overheidsinformatie, Nationaal Archief, XML schema 1.0.2):
an `informatieobject` or a `bestand` as the bytes of one sidecar file.

Owns: the element names and their order (the XSD's sequences, `INFORMATIEOBJECT_ORDER` and `BESTAND_ORDER`, which
archive_verify.py checks against), the names of the begrippenlijsten and the labels used from them, and the PRONOM
ids of the formats the export writes (docs/archive.md says where each value comes from). Pure: no I/O, no database.
Never: decides which events or values a post gets (archive_export.py does).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from xml.etree import ElementTree as ET

NS = "https://www.nationaalarchief.nl/mdto"
SCHEMA_LOCATION = f"{NS} https://www.nationaalarchief.nl/mdto/MDTO-XML1.0.2.xsd"
_XSI = "http://www.w3.org/2001/XMLSchema-instance"

# The order of the elements in the XSD's sequences (objectType, then informatieobjectType or bestandType).
INFORMATIEOBJECT_ORDER = (
    "identificatie", "naam", "aggregatieniveau", "classificatie", "trefwoord", "omschrijving", "raadpleeglocatie",
    "dekkingInTijd", "dekkingInRuimte", "taal", "event", "waardering", "bewaartermijn", "informatiecategorie",
    "isOnderdeelVan", "bevatOnderdeel", "heeftRepresentatie", "aanvullendeMetagegevens",
    "gerelateerdInformatieobject", "archiefvormer", "betrokkene", "activiteit", "beperkingGebruik")
INFORMATIEOBJECT_REQUIRED = ("identificatie", "naam", "waardering", "archiefvormer", "beperkingGebruik")
BESTAND_ORDER = ("identificatie", "naam", "omvang", "bestandsformaat", "checksum", "URLBestand", "isRepresentatieVan")
BESTAND_REQUIRED = ("identificatie", "naam", "omvang", "bestandsformaat", "checksum", "isRepresentatieVan")

# The Nationaal Archief's begrippenlijsten, by the names its own examples use.
AGGREGATIENIVEAUS = "Begrippenlijst Aggregatieniveaus MDTO"
EVENTTYPEN = "Begrippenlijst EventTypeLijst MDTO"
WAARDERINGEN = "Begrippenlijst Waarderingen MDTO"
BEPERKINGEN = "Begrippenlijst BeperkingGebruikTypeLijst MDTO"
CHECKSUM_ALGORITMEN = "Begrippenlijst ChecksumAlgoritme MDTO"
RELATIES_INFORMATIEOBJECT = "Begrippenlijst Relatietypen informatieobject MDTO"
PRONOM = "PRONOM-register"
# Open lists MDTO leaves to the organisation (it publishes no list for these): our own, named as ours.
OWN_DEKKING = "Begrippenlijst DekkingInTijdTypen Ambtenaar Online"
OWN_BETROKKENE = "Begrippenlijst Relatietypen betrokkene Ambtenaar Online"

WAARDERING_LABELS = {"B": "Blijvend te bewaren", "V": "Tijdelijk te bewaren", "N": "Nader te bepalen"}

# PRONOM (The National Archives, UK) ids of the formats we write: the format the bytes are made in, not found by a
# format identifier (an e-depot runs DROID or Siegfried on intake and may refine a version).
FORMATS = {
    "application/activity+json": ("fmt/817", "JSON Data Interchange Format"),
    "application/json": ("fmt/817", "JSON Data Interchange Format"),
    "text/html": ("fmt/471", "Hypertext Markup Language 5"),
    "image/jpeg": ("fmt/43", "JPEG File Interchange Format 1.01"),
    "image/png": ("fmt/11", "Portable Network Graphics 1.0"),
    "image/webp": ("fmt/567", "WebP (lossy)"),
    "image/gif": ("fmt/4", "Graphics Interchange Format 89a"),
}


@dataclass(frozen=True)
class Begrip:
    label: str
    lijst: str
    code: str | None = None


@dataclass(frozen=True)
class Ref:
    """verwijzingGegevens: a name and, when there is one, an identification (kenmerk in a bron)."""

    name: str
    kenmerk: str | None = None
    bron: str | None = None


@dataclass(frozen=True)
class Event:
    type: Begrip
    time: datetime | None
    actor: Ref | None = None
    result: str | None = None


@dataclass(frozen=True)
class Termijn:
    trigger: Begrip | None
    start: date | None
    looptijd: str | None  # an ISO 8601 duration, e.g. P10Y
    end: date | None


@dataclass(frozen=True)
class Beperking:
    type: Begrip
    description: str | None = None


@dataclass(frozen=True)
class Informatieobject:
    identificatie: tuple[tuple[str, str], ...]  # (kenmerk, bron)
    naam: str
    aggregatieniveau: str  # Archief, Serie, Dossier, Archiefstuk
    waardering: str  # B, V or N
    archiefvormer: Ref
    beperkingen: tuple[Beperking, ...]
    omschrijving: str | None = None
    dekking: tuple[str, date, date | None] | None = None  # (type label of OWN_DEKKING, begin, end)
    taal: tuple[str, ...] = ()
    events: tuple[Event, ...] = ()
    bewaartermijn: Termijn | None = None
    informatiecategorie: Begrip | None = None
    is_onderdeel_van: tuple[Ref, ...] = ()
    heeft_representatie: tuple[Ref, ...] = ()
    gerelateerd: tuple[tuple[Ref, str], ...] = ()  # (object, label of RELATIES_INFORMATIEOBJECT)
    betrokkenen: tuple[tuple[str, Ref], ...] = field(default_factory=tuple)  # (label of OWN_BETROKKENE, actor)


@dataclass(frozen=True)
class Bestand:
    identificatie: tuple[str, str]
    naam: str
    omvang: int
    media_type: str
    sha256: str
    checksum_at: datetime
    is_representatie_van: Ref
    url: str | None = None


def _el(parent: ET.Element, name: str, text: str | None = None) -> ET.Element:
    child = ET.SubElement(parent, f"{{{NS}}}{name}")
    if text is not None:
        child.text = text
    return child


def _ref(parent: ET.Element, name: str, ref: Ref) -> None:
    element = _el(parent, name)
    _el(element, "verwijzingNaam", ref.name)
    if ref.kenmerk:
        ident = _el(element, "verwijzingIdentificatie")
        _el(ident, "identificatieKenmerk", ref.kenmerk)
        _el(ident, "identificatieBron", ref.bron or "-")


def _begrip(parent: ET.Element, name: str, begrip: Begrip) -> None:
    element = _el(parent, name)
    _el(element, "begripLabel", begrip.label)
    if begrip.code:
        _el(element, "begripCode", begrip.code)
    _ref(element, "begripBegrippenlijst", Ref(begrip.lijst))


def _identificatie(parent: ET.Element, kenmerk: str, bron: str) -> None:
    element = _el(parent, "identificatie")
    _el(element, "identificatieKenmerk", kenmerk)
    _el(element, "identificatieBron", bron)


def xml_time(moment: datetime) -> str:
    """xsd:dateTime in UTC, whole seconds."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _termijn(parent: ET.Element, name: str, termijn: Termijn) -> None:
    element = _el(parent, name)
    if termijn.trigger:
        _begrip(element, "termijnTriggerStartLooptijd", termijn.trigger)
    if termijn.start:
        _el(element, "termijnStartdatumLooptijd", termijn.start.isoformat())
    if termijn.looptijd:
        _el(element, "termijnLooptijd", termijn.looptijd)
    if termijn.end:
        _el(element, "termijnEinddatum", termijn.end.isoformat())


def _document(root_child: ET.Element) -> bytes:
    root_child.set(f"{{{_XSI}}}schemaLocation", SCHEMA_LOCATION)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root_child, encoding="utf-8",
                                                                     xml_declaration=False) + b"\n"


ET.register_namespace("", NS)
ET.register_namespace("xsi", _XSI)


def event_type(label: str) -> Begrip:
    return Begrip(label, EVENTTYPEN)


def informatieobject_xml(obj: Informatieobject) -> bytes:
    """One `<MDTO><informatieobject>` document, elements in the XSD's order."""
    root = ET.Element(f"{{{NS}}}MDTO")
    io = _el(root, "informatieobject")
    for kenmerk, bron in obj.identificatie:
        _identificatie(io, kenmerk, bron)
    _el(io, "naam", obj.naam)
    _begrip(io, "aggregatieniveau", Begrip(obj.aggregatieniveau, AGGREGATIENIVEAUS))
    if obj.omschrijving:
        _el(io, "omschrijving", obj.omschrijving)
    if obj.dekking:
        label, begin, end = obj.dekking
        dekking = _el(io, "dekkingInTijd")
        _begrip(dekking, "dekkingInTijdType", Begrip(label, OWN_DEKKING))
        _el(dekking, "dekkingInTijdBegindatum", begin.isoformat())
        if end:
            _el(dekking, "dekkingInTijdEinddatum", end.isoformat())
    for language in obj.taal:
        _el(io, "taal", language)
    for event in obj.events:
        element = _el(io, "event")
        _begrip(element, "eventType", event.type)
        if event.time:
            _el(element, "eventTijd", xml_time(event.time))
        if event.actor:
            _ref(element, "eventVerantwoordelijkeActor", event.actor)
        if event.result:
            _el(element, "eventResultaat", event.result)
    _begrip(io, "waardering", Begrip(WAARDERING_LABELS[obj.waardering], WAARDERINGEN, obj.waardering))
    if obj.bewaartermijn:
        _termijn(io, "bewaartermijn", obj.bewaartermijn)
    if obj.informatiecategorie:
        _begrip(io, "informatiecategorie", obj.informatiecategorie)
    for ref in obj.is_onderdeel_van:
        _ref(io, "isOnderdeelVan", ref)
    for ref in obj.heeft_representatie:
        _ref(io, "heeftRepresentatie", ref)
    for ref, relation in obj.gerelateerd:
        related = _el(io, "gerelateerdInformatieobject")
        _ref(related, "gerelateerdInformatieobjectVerwijzing", ref)
        _begrip(related, "gerelateerdInformatieobjectTypeRelatie", Begrip(relation, RELATIES_INFORMATIEOBJECT))
    _ref(io, "archiefvormer", obj.archiefvormer)
    for relation, actor in obj.betrokkenen:
        betrokkene = _el(io, "betrokkene")
        _begrip(betrokkene, "betrokkeneTypeRelatie", Begrip(relation, OWN_BETROKKENE))
        _ref(betrokkene, "betrokkeneActor", actor)
    for beperking in obj.beperkingen:
        element = _el(io, "beperkingGebruik")
        _begrip(element, "beperkingGebruikType", beperking.type)
        if beperking.description:
            _el(element, "beperkingGebruikNadereBeschrijving", beperking.description)
    return _document(root)


def bestand_xml(obj: Bestand) -> bytes:
    """One `<MDTO><bestand>` document: size, PRONOM format, SHA-256 with its date, and what it represents."""
    puid, name = FORMATS.get(obj.media_type, ("", ""))
    root = ET.Element(f"{{{NS}}}MDTO")
    bestand = _el(root, "bestand")
    _identificatie(bestand, *obj.identificatie)
    _el(bestand, "naam", obj.naam)
    _el(bestand, "omvang", str(obj.omvang))
    _begrip(bestand, "bestandsformaat", Begrip(name or obj.media_type, PRONOM, puid or None))
    checksum = _el(bestand, "checksum")
    _begrip(checksum, "checksumAlgoritme", Begrip("SHA-256", CHECKSUM_ALGORITMEN))
    _el(checksum, "checksumWaarde", obj.sha256)
    _el(checksum, "checksumDatum", xml_time(obj.checksum_at))
    if obj.url:
        _el(bestand, "URLBestand", obj.url)
    _ref(bestand, "isRepresentatieVan", obj.is_representatie_van)
    return _document(root)
