"""draft-cavage-http-signatures-12, as Mastodon signs and accepts it: the `Signature` header.

Owns: parsing the header, the signing string (cavage-12 §2.3), signing our requests (rsa-sha256 over
"(request-target) host date" and the digest) and verifying others' (rsa-sha256 or hs2019, always RSASSA-PKCS1-v1_5
with SHA-256): what must be signed, the Host it names, the time window, the digest, the query-less fallback.
Never: I/O, the clock (`now` is a parameter), fetching keys, RFC 9421.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from federation.signatures.digests import digest_header, verify_digest_header
from federation.signatures.errors import (
    HeaderNotSigned,
    SignatureInvalid,
    SignatureMalformed,
    SignatureMissing,
    UnsupportedAlgorithm,
    WrongHost,
)
from federation.signatures.keys import require_rsa
from federation.signatures.parsing import (
    b64decode,
    host_header_authority,
    http_date,
    lower_headers,
    parse_http_date,
    url_authority,
    url_path_with_query,
)
from federation.signatures.window import DEFAULT_MAX_SKEW, check_expires, check_window


CAVAGE_ALGORITHMS = ("rsa-sha256", "hs2019")


@dataclass(frozen=True)
class CavageSignature:
    """A parsed cavage `Signature` header."""

    key_id: str
    algorithm: str | None
    headers: tuple[str, ...]
    signature: bytes
    created: int | None = None
    expires: int | None = None


_CAVAGE_PARAM = re.compile(r'\s*([A-Za-z]+)\s*=\s*(?:"([^"]*)"|([0-9]+))\s*(?:,|$)')


def parse_cavage_signature(header_value: str) -> CavageSignature:
    """Parse `keyId="…",algorithm="…",headers="…",signature="…"` (also with a stray "Signature " prefix)."""
    text = header_value.strip()
    if text[:10].lower() == "signature ":
        text = text[10:]  # Mastodon tolerates this prefix, copied from the Authorization scheme by some senders.
    params: dict[str, str] = {}
    position = 0
    while position < len(text):
        match = _CAVAGE_PARAM.match(text, position)
        if match is None or match.end() == position:
            raise SignatureMalformed(f"Signature header cannot be read near {text[position:position + 40]!r}; "
                                     f'expected name="value" pairs separated by commas.')
        name = match.group(1)
        if name in params:
            raise SignatureMalformed(f"Signature header has the parameter {name!r} twice.")
        params[name] = match.group(2) if match.group(2) is not None else match.group(3)
        position = match.end()
    for required in ("keyId", "signature"):
        if not params.get(required):
            raise SignatureMalformed(f"Signature header has no {required}; it needs keyId and signature.")
    algorithm = params["algorithm"].lower() if "algorithm" in params else None
    if "headers" in params:
        headers = tuple(name.lower() for name in params["headers"].split())
        if not headers:
            raise SignatureMalformed("Signature header has an empty headers list.")
    else:
        # cavage-12 defaults to (created); Mastodon keeps `date` for rsa-sha256 senders, as older drafts did.
        headers = ("date",) if algorithm == "rsa-sha256" else ("(created)",)
    return CavageSignature(key_id=params["keyId"], algorithm=algorithm, headers=headers,
                           signature=b64decode(params["signature"], "Signature header's signature"),
                           created=_optional_int(params.get("created"), "created"),
                           expires=_optional_int(params.get("expires"), "expires"))


def _optional_int(value: str | None, name: str) -> int | None:
    if value is None:
        return None
    if not value.isdigit():
        raise SignatureMalformed(f"Signature header's {name} must be a Unix time in seconds, not {value!r}.")
    return int(value)


def cavage_signing_string(method: str, path_with_query: str, headers: Mapping[str, str],
                          signed_headers: Sequence[str], created: int | None = None,
                          expires: int | None = None) -> str:
    """The string cavage-12 §2.3 signs: one "name: value" line per signed header, joined by "\\n".

    `(request-target)` is "<lower-case method> <path?query>"; header values are trimmed; a header missing from the
    request raises SignatureMalformed.
    """
    lowered = lower_headers(headers)
    lines = []
    for name in signed_headers:
        name = name.lower()
        if name == "(request-target)":
            value = f"{method.lower()} {path_with_query}"
        elif name in ("(created)", "(expires)"):
            number = created if name == "(created)" else expires
            if number is None:
                raise SignatureMalformed(f"Signature header signs {name} but has no {name[1:-1]} parameter.")
            value = str(number)
        elif name in lowered:
            value = lowered[name].strip()
        else:
            raise SignatureMalformed(f"Signature header signs {name!r}, but the request has no such header.")
        lines.append(f"{name}: {value}")
    return "\n".join(lines)


def sign_request_cavage(method: str, url: str, headers: Mapping[str, str], body: bytes | None,
                        private_key: rsa.RSAPrivateKey, key_id: str, now: datetime) -> dict[str, str]:
    """Sign a request as Mastodon does; return the headers to add or replace: Host, Date, Digest, Signature.

    Digest only when there is a body. Signed: "(request-target) host date", plus "digest" and (when the caller sets
    it) "content-type" when there is a body. The request-target includes the query string, as Mastodon ≥ 4.3 expects.
    """
    require_rsa(private_key, "private")
    added = {"Host": url_authority(url), "Date": http_date(now)}
    signed = ["(request-target)", "host", "date"]
    if body is not None:
        added["Digest"] = digest_header(body)
        signed.append("digest")
        if "content-type" in lower_headers(headers):
            signed.append("content-type")
    merged = {**lower_headers(headers), **lower_headers(added)}
    text = cavage_signing_string(method, url_path_with_query(url), merged, signed)
    signature = private_key.sign(text.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    added["Signature"] = (f'keyId="{key_id}",algorithm="rsa-sha256",headers="{" ".join(signed)}",'
                          f'signature="{base64.b64encode(signature).decode("ascii")}"')
    return added


def verify_cavage(method: str, path_with_query: str, headers: Mapping[str, str], body: bytes | None,
                  public_key: rsa.RSAPublicKey, now: datetime, max_skew: timedelta = DEFAULT_MAX_SKEW,
                  required_headers: Iterable[str] = ("(request-target)", "host"), authority: str | None = None,
                  scheme: str = "https") -> str:
    """Verify a cavage `Signature` header; return its keyId or raise a SignatureError saying what is wrong.

    Beyond `required_headers`, `date` must be signed unless `(created)` is, and with a body `digest` must be signed
    and match it. Every signed time (Date header, `(created)`) must lie within ±max_skew of now. With `authority`
    (this server's host and port, as `url_authority` writes it), `host` must be signed and the Host header must be
    exactly that authority (WrongHost otherwise), so a request signed for another server cannot be replayed here.
    """
    require_rsa(public_key, "public")
    lowered = lower_headers(headers)
    if "signature" not in lowered:
        raise SignatureMissing("The request has no Signature header; sign it with your actor's key.")
    parsed = parse_cavage_signature(lowered["signature"])
    algorithm = parsed.algorithm or "hs2019"  # Mastodon's default when absent.
    if algorithm not in CAVAGE_ALGORITHMS:
        raise UnsupportedAlgorithm(f"Signature algorithm {parsed.algorithm!r} is not supported; "
                                   f"use rsa-sha256 or hs2019 with an RSA key.")
    signed = set(parsed.headers)
    if ("(created)" in signed or "(expires)" in signed) and algorithm != "hs2019":
        raise SignatureMalformed("(created) and (expires) may only be signed with algorithm hs2019 (cavage-12 §2.3).")
    for name in (*required_headers, *(("host",) if authority is not None else ())):
        if name.lower() not in signed:
            raise HeaderNotSigned(f"The signature must cover {name!r}; it covers only {' '.join(parsed.headers)!r}.")
    if authority is not None:
        sent = lowered.get("host")
        if sent is None:
            raise SignatureMalformed("Signature header signs 'host', but the request has no Host header.")
        if host_header_authority(sent, scheme) != authority:
            raise WrongHost(f"The request was signed for {sent.strip()[:200]!r}, not for this server "
                            f"({authority!r}); sign each request for the server it is sent to.")
    if "date" not in signed and "(created)" not in signed:
        raise HeaderNotSigned("The signature must cover 'date' (or '(created)'), or it could be replayed forever.")
    if body is not None and "digest" not in signed:
        raise HeaderNotSigned("A request with a body must sign 'digest', so the body cannot be swapped.")
    if "(created)" in signed:
        if parsed.created is None:
            raise SignatureMalformed("Signature header signs (created) but has no created parameter.")
        check_window(datetime.fromtimestamp(parsed.created, timezone.utc), now, max_skew, "The signature's created")
    if "date" in signed:
        if "date" not in lowered:
            raise SignatureMalformed("Signature header signs 'date', but the request has no Date header.")
        check_window(parse_http_date(lowered["date"]), now, max_skew, "The Date header")
    check_expires(parsed.expires, now)
    if body is not None:
        if "digest" not in lowered:
            raise SignatureMalformed("Signature header signs 'digest', but the request has no Digest header.")
        verify_digest_header(lowered["digest"], body)
    targets = [path_with_query]
    if "?" in path_with_query:
        # Fedify and pre-4.3 Mastodon sign the path without its query; Mastodon still accepts that (PR #28476).
        targets.append(path_with_query.split("?", 1)[0])
    for target in targets:
        text = cavage_signing_string(method, target, lowered, parsed.headers, parsed.created, parsed.expires)
        try:
            public_key.verify(parsed.signature, text.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
            return parsed.key_id
        except InvalidSignature:
            continue
    raise SignatureInvalid(f"The signature does not verify with the key {parsed.key_id!r}: the key was rotated, "
                           f"or a signed header ({' '.join(parsed.headers)}) was changed on the way.")
