"""Body digests: the RFC 3230 `Digest` header cavage signers send and the RFC 9530 `Content-Digest` of RFC 9421.

Owns: computing both headers over a body and checking them (every SHA-2 value present must match). Never: deciding
whether a digest must be signed (the schemes do), other hash algorithms than SHA-256 and SHA-512.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence

from federation.signatures.errors import DigestMismatch, SignatureMalformed
from federation.signatures.parsing import b64decode, parse_sf_dictionary


DIGEST_ALGORITHMS = {"sha-256": hashlib.sha256, "sha-512": hashlib.sha512}


def digest_header(body: bytes) -> str:
    """The RFC 3230 `Digest` value cavage signers send: "SHA-256=<base64>"."""
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


def content_digest_header(body: bytes) -> str:
    """The RFC 9530 `Content-Digest` value: "sha-256=:<base64>:"."""
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii") + ":"


def _check_digests(found: Sequence[tuple[str, bytes]], body: bytes, header: str) -> None:
    usable = [(algorithm, value) for algorithm, value in found if algorithm in DIGEST_ALGORITHMS]
    if not usable:
        names = ", ".join(algorithm for algorithm, _ in found) or "none"
        raise SignatureMalformed(f"{header} header has no SHA-256 or SHA-512 digest (found: {names}).")
    for algorithm, value in usable:
        if not hmac.compare_digest(value, DIGEST_ALGORITHMS[algorithm](body).digest()):
            raise DigestMismatch(f"{header} header's {algorithm.upper()} does not match the body: "
                                 f"the body was changed after signing, or the digest was computed over other bytes.")


def verify_digest_header(value: str, body: bytes) -> None:
    """Check an RFC 3230 `Digest` ("SHA-256=..., SHA-512=...") against the body; every SHA-2 value must match."""
    found: list[tuple[str, bytes]] = []
    for part in value.split(","):
        algorithm, separator, encoded = part.strip().partition("=")
        if not separator:
            raise SignatureMalformed(f"Digest header part {part.strip()!r} is not ALGORITHM=base64.")
        found.append((algorithm.strip().lower(), b64decode(encoded, f"Digest header's {algorithm.strip()} value")))
    _check_digests(found, body, "Digest")


def verify_content_digest_header(value: str, body: bytes) -> None:
    """Check an RFC 9530 `Content-Digest` dictionary against the body; every sha-256/sha-512 value must match."""
    found: list[tuple[str, bytes]] = []
    for algorithm, (item, _params) in parse_sf_dictionary(value, "Content-Digest").items():
        if not isinstance(item, bytes):
            raise SignatureMalformed(f"Content-Digest member {algorithm!r} is not a byte sequence (:base64:).")
        found.append((algorithm, item))
    _check_digests(found, body, "Content-Digest")
