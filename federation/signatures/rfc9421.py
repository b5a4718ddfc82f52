"""RFC 9421 HTTP Message Signatures, as Mastodon 4.5 signs and accepts them: `Signature-Input` and `Signature`.

Owns: parsing one labelled signature, the signature base (§2.5) with the derived components a request has, signing
our requests (rsa-v1_5-sha256 over @method, @target-uri and the content digest) and verifying others'
(rsa-v1_5-sha256, or rsa-pss-sha512, the RFC's own example): what must be covered, the time window, the digest.
Never: I/O, the clock (`now` is a parameter), fetching keys, response signatures, component parameters.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from federation.signatures.digests import content_digest_header, verify_content_digest_header
from federation.signatures.errors import (
    HeaderNotSigned,
    SignatureInvalid,
    SignatureMalformed,
    SignatureMissing,
    UnsupportedAlgorithm,
)
from federation.signatures.keys import require_rsa
from federation.signatures.parsing import (
    Params,
    Token,
    lower_headers,
    parse_sf_dictionary,
    serialize_inner_list,
    serialize_params,
    target_uri,
    url_authority,
    url_path,
    url_path_with_query,
    utc,
)
from federation.signatures.window import DEFAULT_MAX_SKEW, check_expires, check_window


RFC9421_ALGORITHMS = ("rsa-v1_5-sha256", "rsa-pss-sha512")


@dataclass(frozen=True)
class Rfc9421Signature:
    """One labelled signature from `Signature-Input` and `Signature`."""

    label: str
    components: tuple[str, ...]
    key_id: str
    created: int
    expires: int | None
    algorithm: str | None
    signature: bytes
    signature_params: str  # the canonical serialisation that is the last line of the signature base


def parse_rfc9421_signature(signature_input: str, signature: str, label: str | None = None) -> Rfc9421Signature:
    """Parse the `Signature-Input` and `Signature` dictionaries; take `label`, or the first label when None."""
    inputs = parse_sf_dictionary(signature_input, "Signature-Input")
    if not inputs:
        raise SignatureMalformed("Signature-Input header is empty.")
    label = label if label is not None else next(iter(inputs))
    if label not in inputs:
        raise SignatureMalformed(f"Signature-Input header has no signature labelled {label!r}.")
    items, params = inputs[label]
    if not isinstance(items, list):
        raise SignatureMalformed(f"Signature-Input member {label!r} is not a list of components like "
                                 f'("@method" "@target-uri").')
    components: list[str] = []
    for value, component_params in items:
        if not isinstance(value, str) or isinstance(value, Token):
            raise SignatureMalformed(f"Signature-Input component {value!r} is not a quoted string.")
        if component_params:
            raise SignatureMalformed(f"Signature-Input component {value!r} has parameters "
                                     f"({serialize_params(component_params)}), which this server does not support.")
        if value != value.lower():
            raise SignatureMalformed(f"Signature-Input component {value!r} must be lower-case.")
        if value in components:
            raise SignatureMalformed(f"Signature-Input covers {value!r} twice.")
        components.append(value)
    key_id, created = params.get("keyid"), params.get("created")
    if not isinstance(key_id, str) or not key_id:
        raise SignatureMalformed(f'Signature-Input {label!r} needs a keyid="…" parameter.')
    if not isinstance(created, int) or isinstance(created, bool):
        raise SignatureMalformed(f"Signature-Input {label!r} needs a created=<Unix time> parameter.")
    expires, algorithm = params.get("expires"), params.get("alg")
    if expires is not None and (not isinstance(expires, int) or isinstance(expires, bool)):
        raise SignatureMalformed(f"Signature-Input {label!r} has an expires that is not a Unix time.")
    if algorithm is not None and not isinstance(algorithm, str):
        raise SignatureMalformed(f'Signature-Input {label!r} has an alg that is not a string like "rsa-v1_5-sha256".')
    signatures = parse_sf_dictionary(signature, "Signature")
    if label not in signatures:
        raise SignatureMalformed(f"Signature header has no value labelled {label!r} to match Signature-Input.")
    value = signatures[label][0]
    if not isinstance(value, bytes):
        raise SignatureMalformed(f"Signature header member {label!r} is not a byte sequence (:base64:).")
    return Rfc9421Signature(label=label, components=tuple(components), key_id=key_id, created=created,
                            expires=expires, algorithm=algorithm, signature=value,
                            signature_params=serialize_inner_list(items, params))


def _component_value(name: str, method: str, url: str, lowered: Mapping[str, str]) -> str:
    derived = {
        "@method": lambda: method.upper(),
        "@target-uri": lambda: target_uri(url),
        "@authority": lambda: url_authority(url),
        "@scheme": lambda: urlsplit(url).scheme.lower(),
        "@request-target": lambda: url_path_with_query(url),
        "@path": lambda: url_path(url),
        "@query": lambda: "?" + urlsplit(url).query,
    }
    if name in derived:
        return derived[name]()
    if name.startswith("@"):
        raise SignatureMalformed(f"Derived component {name!r} is not supported for requests here.")
    if name not in lowered:
        raise SignatureMalformed(f"The signature covers {name!r}, but the request has no such header.")
    return lowered[name].strip()


def rfc9421_signature_base(method: str, url: str, headers: Mapping[str, str], components: Sequence[str],
                           signature_params: str) -> str:
    """The signature base of RFC 9421 §2.5: `"name": value` per component, then `"@signature-params": …`."""
    lowered = lower_headers(headers)
    lines = [f'"{name}": {_component_value(name, method, url, lowered)}' for name in components]
    lines.append(f'"@signature-params": {signature_params}')
    return "\n".join(lines)


def sign_request_rfc9421(method: str, url: str, headers: Mapping[str, str], body: bytes | None,
                         private_key: rsa.RSAPrivateKey, key_id: str, now: datetime,
                         label: str = "sig1") -> dict[str, str]:
    """Sign with RFC 9421 as Mastodon 4.5 verifies it; return Content-Digest (with a body), Signature-Input, Signature.

    Covered: ("@method" "@target-uri") for requests without a body; with a body also "content-digest" and, when the
    caller sets it, "content-type". Parameters: created, keyid and alg="rsa-v1_5-sha256".
    """
    require_rsa(private_key, "private")
    added: dict[str, str] = {}
    components = ["@method", "@target-uri"]
    if body is not None:
        added["Content-Digest"] = content_digest_header(body)
        components.append("content-digest")
        if "content-type" in lower_headers(headers):
            components.append("content-type")
    params: Params = {"created": int(utc(now).timestamp()), "keyid": key_id, "alg": "rsa-v1_5-sha256"}
    signature_params = serialize_inner_list([(name, {}) for name in components], params)
    merged = {**lower_headers(headers), **lower_headers(added)}
    base = rfc9421_signature_base(method, url, merged, components, signature_params)
    signature = private_key.sign(base.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    added["Signature-Input"] = f"{label}={signature_params}"
    added["Signature"] = f"{label}=:{base64.b64encode(signature).decode('ascii')}:"
    return added


def _verify_rfc9421_bytes(algorithm: str, public_key: rsa.RSAPublicKey, signature: bytes, base: bytes) -> bool:
    try:
        if algorithm == "rsa-pss-sha512":
            public_key.verify(signature, base, padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=64),
                              hashes.SHA512())
        else:
            public_key.verify(signature, base, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


def verify_rfc9421(method: str, url: str, headers: Mapping[str, str], body: bytes | None,
                   public_key: rsa.RSAPublicKey, now: datetime, max_skew: timedelta = DEFAULT_MAX_SKEW,
                   label: str | None = None, key_algorithm: str | None = None) -> str:
    """Verify an RFC 9421 signature (the first label, or `label`); return its keyid or raise a SignatureError.

    `url` is the absolute URL the sender addressed (our public scheme and host, the raw path and query). Rules:
    @method and @target-uri (or @authority with @path) covered; with a body, content-digest covered and matching;
    created within ±max_skew of now and expires not passed. `key_algorithm` is what the key is known to be used with
    when the signature has no `alg` (default rsa-v1_5-sha256, as Mastodon and Fedify assume for RSA keys).
    """
    require_rsa(public_key, "public")
    lowered = lower_headers(headers)
    if "signature-input" not in lowered or "signature" not in lowered:
        missing = "Signature-Input" if "signature-input" not in lowered else "Signature"
        raise SignatureMissing(f"The request has no {missing} header; RFC 9421 needs both.")
    parsed = parse_rfc9421_signature(lowered["signature-input"], lowered["signature"], label)
    algorithm = (parsed.algorithm or key_algorithm or "rsa-v1_5-sha256").lower()
    if algorithm not in RFC9421_ALGORITHMS:
        raise UnsupportedAlgorithm(f"Signature algorithm {algorithm!r} is not supported; "
                                   f"use {' or '.join(RFC9421_ALGORITHMS)} with an RSA key.")
    if key_algorithm is not None and algorithm != key_algorithm.lower():
        raise UnsupportedAlgorithm(f"The signature says alg={algorithm!r}, "
                                   f"but this key is used with {key_algorithm!r}.")
    covered = set(parsed.components)
    if "@method" not in covered:
        raise HeaderNotSigned("The signature must cover '@method'.")
    if "@target-uri" not in covered and not {"@authority", "@path"} <= covered:
        raise HeaderNotSigned("The signature must cover '@target-uri' (or '@authority' and '@path').")
    if body is not None and "content-digest" not in covered:
        raise HeaderNotSigned("A request with a body must cover 'content-digest', so the body cannot be swapped.")
    check_window(datetime.fromtimestamp(parsed.created, timezone.utc), now, max_skew, "The signature's created")
    check_expires(parsed.expires, now)
    if body is not None:
        if "content-digest" not in lowered:
            raise SignatureMalformed("The signature covers 'content-digest', but the request has no Content-Digest.")
        verify_content_digest_header(lowered["content-digest"], body)
    base = rfc9421_signature_base(method, url, lowered, parsed.components, parsed.signature_params)
    if not _verify_rfc9421_bytes(algorithm, public_key, parsed.signature, base.encode("utf-8")):
        raise SignatureInvalid(f"The signature does not verify with the key {parsed.key_id!r}: the key was rotated, "
                               f"or a covered component ({' '.join(parsed.components)}) was changed on the way.")
    return parsed.key_id
