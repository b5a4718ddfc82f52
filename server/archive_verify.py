"""Checking an archive bag as an e-depot would on intake: the BagIt bag (RFC 8493) and every MDTO sidecar.

Owns: the list of problems of a bag, one readable line each, naming the file: bagit.txt and bag-info.txt present,
every payload file in the manifest and every manifest line's file present with its SHA-256, Payload-Oxum, the tag
manifest; every `*.mdto.xml` well-formed, in the MDTO namespace, with the required elements present and all in the
schema's order; every file a sidecar names (heeftRepresentatie, a bestand's identificatie) present, and a
bestand's size and checksum those of its file; with `xsd`, every sidecar valid against the official XML schema
(the maintained `xmlschema` library). Pure file work: no database, no network. Never: repairs anything.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree as ET

from server import archive_mdto as mdto

_N = f"{{{mdto.NS}}}"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _manifest(path: Path, problems: list[str]) -> Iterator[tuple[str, str]]:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        digest, _, name = line.partition(" ")
        name = name.strip()
        if not digest or not name or ".." in Path(name).parts or name.startswith("/"):
            problems.append(f"{path.name}: line {number} is not 'checksum path'")
            continue
        yield digest.lower(), name


def _check_order(path: str, parent: ET.Element, order: tuple[str, ...], required: tuple[str, ...],
                 problems: list[str]) -> None:
    names = [child.tag.removeprefix(_N) for child in parent]
    for name in required:
        if name not in names:
            problems.append(f"{path}: required element {name} is missing")
    positions = [order.index(n) if n in order else -1 for n in names]
    for name, position in zip(names, positions, strict=True):
        if position < 0:
            problems.append(f"{path}: element {name} is not part of MDTO here")
    known = [p for p in positions if p >= 0]
    if known != sorted(known):
        problems.append(f"{path}: elements are not in the schema's order ({', '.join(names)})")


def _text(element: ET.Element | None, *names: str) -> str | None:
    for name in names:
        element = None if element is None else element.find(_N + name)
    return None if element is None or element.text is None else element.text.strip()


def _check_sidecar(root: Path, sidecar: Path, problems: list[str], schema: object | None) -> None:
    rel = sidecar.relative_to(root).as_posix()
    try:
        tree = ET.parse(sidecar)
    except ET.ParseError as error:
        problems.append(f"{rel}: not well-formed XML ({error})")
        return
    top = tree.getroot()
    if top.tag != _N + "MDTO":
        problems.append(f"{rel}: the root element is {top.tag}, not MDTO in namespace {mdto.NS}")
        return
    children = list(top)
    if len(children) != 1 or children[0].tag not in (_N + "informatieobject", _N + "bestand"):
        problems.append(f"{rel}: MDTO must hold one informatieobject or one bestand")
        return
    obj = children[0]
    if obj.tag == _N + "bestand":
        _check_order(rel, obj, mdto.BESTAND_ORDER, mdto.BESTAND_REQUIRED, problems)
        _check_bestand(root, rel, obj, problems)
    else:
        _check_order(rel, obj, mdto.INFORMATIEOBJECT_ORDER, mdto.INFORMATIEOBJECT_REQUIRED, problems)
        for reference in obj.findall(_N + "heeftRepresentatie"):
            target = _text(reference, "verwijzingIdentificatie", "identificatieKenmerk")
            if target and not (root / target).is_file():
                problems.append(f"{rel}: names {target}, which is not in the bag")
    if schema is not None:
        for error in schema.iter_errors(str(sidecar)):  # type: ignore[attr-defined]
            problems.append(f"{rel}: not valid against the XSD: {error.reason or error.message}"[:400])


def _check_bestand(root: Path, rel: str, obj: ET.Element, problems: list[str]) -> None:
    target = _text(obj, "identificatie", "identificatieKenmerk")
    if not target:
        return
    path = root / target
    if not path.is_file():
        problems.append(f"{rel}: describes {target}, which is not in the bag")
        return
    size = _text(obj, "omvang")
    if size is not None and size != str(path.stat().st_size):
        problems.append(f"{rel}: omvang {size} but {target} has {path.stat().st_size} bytes")
    for checksum in obj.findall(_N + "checksum"):
        if _text(checksum, "checksumAlgoritme", "begripLabel") in ("SHA-256", "SHA256"):
            if _text(checksum, "checksumWaarde") != _sha256(path):
                problems.append(f"{rel}: the SHA-256 of {target} does not match")


def verify_bag(bag: Path, *, xsd: Path | None = None) -> list[str]:
    """Every problem of the bag, one line each naming the file; an empty list when it is valid."""
    if not bag.is_dir():
        return [f"{bag}: not a folder"]
    problems: list[str] = []
    for name in ("bagit.txt", "bag-info.txt", "manifest-sha256.txt"):
        if not (bag / name).is_file():
            problems.append(f"{name}: missing (not a finished BagIt bag)")
    if problems:
        return problems
    if "BagIt-Version" not in (bag / "bagit.txt").read_text(encoding="utf-8"):
        problems.append("bagit.txt: no BagIt-Version")
    listed: set[str] = set()
    total = count = 0
    for digest, name in _manifest(bag / "manifest-sha256.txt", problems):
        listed.add(name)
        path = bag / name
        if not path.is_file():
            problems.append(f"{name}: in the manifest but missing")
            continue
        total, count = total + path.stat().st_size, count + 1
        if _sha256(path) != digest:
            problems.append(f"{name}: checksum does not match the manifest")
    for path in sorted((bag / "data").rglob("*")):
        if path.is_file() and path.relative_to(bag).as_posix() not in listed:
            problems.append(f"{path.relative_to(bag).as_posix()}: in the payload but not in the manifest")
    info = dict(line.split(":", 1) for line in (bag / "bag-info.txt").read_text(encoding="utf-8").splitlines()
                if ":" in line)
    oxum = info.get("Payload-Oxum", "").strip()
    if oxum != f"{total}.{count}":
        problems.append(f"bag-info.txt: Payload-Oxum is {oxum or 'missing'}, the payload is {total}.{count}")
    tags = bag / "tagmanifest-sha256.txt"
    if tags.is_file():
        for digest, name in _manifest(tags, problems):
            if not (bag / name).is_file() or _sha256(bag / name) != digest:
                problems.append(f"{name}: checksum does not match the tag manifest")
    schema = None
    if xsd is not None:
        import xmlschema  # only when asked: the library loads the schema, which takes a moment

        schema = xmlschema.XMLSchema(str(xsd))
    for sidecar in sorted((bag / "data").rglob("*.mdto.xml")):
        _check_sidecar(bag, sidecar, problems, schema)
    return problems
