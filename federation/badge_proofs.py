"""The ambtenaar badge by machine: a statement by the organisation, signed with its actor's key.

Owns: the badge document carried in actor JSON (term `ambtenaarBadge`), its canonical form, signing and
verifying. Never: I/O; the caller fetches the organisation actor and decides which issuers it trusts.

Why not FEP-c390 identity proofs: those bind a key the *account* controls to the actor, proving that two
identities are one. A badge is a claim by a third party (the organisation) about the account, so it is signed by
the issuer. We sign a canonical JSON form (sorted keys, no spaces, UTF-8, the `proof` left out) with the
organisation actor's existing RSA key (RSASSA-PKCS1-v1_5, SHA-256), so a verifier needs nothing but the
organisation's actor document, which every Fediverse server can already fetch.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

PROOF_TYPE = "AmbtenaarBadgeSignature2026"
BADGE_TYPE = "AmbtenaarBadge"


@dataclass(frozen=True)
class BadgeCheck:
    verified: bool
    reason: str  # why not verified, or "" when it is


def canonical(doc: Mapping[str, Any]) -> bytes:
    body = {k: v for k, v in doc.items() if k != "proof"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def badge_document(*, subject: str, organisation_actor: str, organisation_name: str, organisation_website: str,
                   function: str, unit: str, valid_from: date, valid_until: date | None,
                   verification: str) -> dict[str, Any]:
    return {"type": BADGE_TYPE, "subject": subject,
            "organisation": {"id": organisation_actor, "name": organisation_name,
                             "website": organisation_website or None},
            "function": function, "unit": unit or None, "validFrom": valid_from.isoformat(),
            "validUntil": valid_until.isoformat() if valid_until else None, "verification": verification}


def sign(doc: Mapping[str, Any], private_key: rsa.RSAPrivateKey, key_id: str, now: datetime) -> dict[str, Any]:
    signature = private_key.sign(canonical(doc), padding.PKCS1v15(), hashes.SHA256())
    return {**doc, "proof": {"type": PROOF_TYPE, "creator": key_id,
                             "created": now.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                             "signatureValue": base64.b64encode(signature).decode("ascii")}}


def issuer_of(doc: Any) -> str | None:
    """The organisation actor that claims to have issued a badge, or None when the badge has no such shape."""
    if not isinstance(doc, Mapping):
        return None
    organisation = doc.get("organisation")
    issuer = organisation.get("id") if isinstance(organisation, Mapping) else None
    return issuer if isinstance(issuer, str) and issuer.startswith(("https://", "http://")) else None


def _date(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def check(doc: Any, *, subject: str, issuer_key: rsa.RSAPublicKey | None, issuer_key_id: str | None,
          today: date) -> BadgeCheck:
    """Verify a badge for `subject` with the issuing organisation's key; every failure says why."""
    if not isinstance(doc, Mapping) or doc.get("type") != BADGE_TYPE:
        return BadgeCheck(False, "not a badge")
    if doc.get("subject") != subject:
        return BadgeCheck(False, "the badge was issued to another account")
    proof = doc.get("proof")
    if not isinstance(proof, Mapping) or not isinstance(proof.get("signatureValue"), str):
        return BadgeCheck(False, "the badge is not signed")
    if issuer_key is None or proof.get("creator") != issuer_key_id:
        return BadgeCheck(False, "the badge is not signed with the organisation's key")
    try:
        signature = base64.b64decode(proof["signatureValue"], validate=True)
        issuer_key.verify(signature, canonical(doc), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return BadgeCheck(False, "the signature does not match the badge (forged or changed)")
    valid_from, valid_until = _date(doc.get("validFrom")), _date(doc.get("validUntil"))
    if valid_from is None:
        return BadgeCheck(False, "the badge has no valid start date")
    if today < valid_from:
        return BadgeCheck(False, "the badge is not valid yet")
    if valid_until is not None and today > valid_until:
        return BadgeCheck(False, "the badge has expired")
    return BadgeCheck(True, "")
