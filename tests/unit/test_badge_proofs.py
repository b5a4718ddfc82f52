from __future__ import annotations

import copy
from datetime import date, datetime, timezone

import pytest

from federation import badge_proofs, signatures

ORG = "https://gemeente-ede.nl/users/gemeente_ede"
SUBJECT = "https://gemeente-ede.nl/users/anna"
NOW = datetime(2026, 11, 29, 12, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def keys() -> tuple[object, object]:
    return signatures.generate_private_key(), signatures.generate_private_key()


def signed(private_key: object, **changes: object) -> dict[str, object]:
    document = badge_proofs.badge_document(
        subject=SUBJECT, organisation_actor=ORG, organisation_name="Gemeente Ede",
        organisation_website="https://www.ede.nl", function="Teamleider informatievoorziening", unit="",
        valid_from=date(2026, 1, 1), valid_until=date(2026, 12, 31),
        verification="https://gemeente-ede.nl/badges/1")
    document.update(changes)
    return badge_proofs.sign(document, private_key, f"{ORG}#main-key", NOW)  # type: ignore[arg-type]


def verdict(doc: object, public_key: object, today: date = date(2026, 11, 29)) -> badge_proofs.BadgeCheck:
    return badge_proofs.check(doc, subject=SUBJECT, issuer_key=public_key,  # type: ignore[arg-type]
                              issuer_key_id=f"{ORG}#main-key", today=today)


def test_a_signed_badge_verifies(keys: tuple) -> None:  # type: ignore[type-arg]
    org_key, _ = keys
    assert verdict(signed(org_key), org_key.public_key()) == badge_proofs.BadgeCheck(True, "")


def test_forged_tampered_expired_or_misdirected_badges_do_not(keys: tuple) -> None:  # type: ignore[type-arg]
    org_key, other_key = keys
    good = signed(org_key)
    tampered = copy.deepcopy(good)
    tampered["function"] = "Burgemeester"
    assert "does not match" in verdict(tampered, org_key.public_key()).reason
    assert "does not match" in verdict(signed(other_key), org_key.public_key()).reason
    assert "expired" in verdict(good, org_key.public_key(), today=date(2027, 1, 1)).reason
    assert "not valid yet" in verdict(good, org_key.public_key(), today=date(2025, 12, 31)).reason
    stolen = badge_proofs.check(good, subject="https://elders.example/users/mallory", issuer_key=org_key.public_key(),
                                issuer_key_id=f"{ORG}#main-key", today=date(2026, 11, 29))
    assert "another account" in stolen.reason
    unsigned = {k: v for k, v in good.items() if k != "proof"}
    assert "not signed" in verdict(unsigned, org_key.public_key()).reason
    wrong_creator = copy.deepcopy(good)
    wrong_creator["proof"]["creator"] = "https://elders.example/key"  # type: ignore[index]
    assert "organisation's key" in verdict(wrong_creator, org_key.public_key()).reason


@pytest.mark.parametrize("junk", [None, 5, "badge", [], {"type": "AmbtenaarBadge"},
                                  {"type": "AmbtenaarBadge", "subject": SUBJECT, "proof": {"signatureValue": "@@"}}])
def test_junk_never_crashes(keys: tuple, junk: object) -> None:  # type: ignore[type-arg]
    org_key, _ = keys
    assert verdict(junk, org_key.public_key()).verified is False
    assert badge_proofs.issuer_of(junk) is None
