"""Either scheme: which key a signed request names, and verifying it with the scheme it uses.

Owns: `signature_key_id` (RFC 9421's first label, else cavage's keyId) and `verify_request` (RFC 9421 when
`Signature-Input` is present, as Mastodon chooses, else cavage), both bound to this server's public URL.
Never: fetching the key it names (the caller does, then calls `verify_request`), I/O, the clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import rsa

from federation.signatures.cavage import parse_cavage_signature, verify_cavage
from federation.signatures.errors import SignatureMalformed
from federation.signatures.parsing import lower_headers, parse_sf_dictionary, url_authority, url_path_with_query
from federation.signatures.rfc9421 import verify_rfc9421
from federation.signatures.window import DEFAULT_MAX_SKEW


def signature_key_id(headers: Mapping[str, str]) -> str | None:
    """The keyId the caller should fetch before verifying: RFC 9421's first label if present, else cavage's.

    None when the request carries no signature; SignatureMalformed when a signature header cannot be parsed.
    """
    lowered = lower_headers(headers)
    if "signature-input" in lowered:
        inputs = parse_sf_dictionary(lowered["signature-input"], "Signature-Input")
        if not inputs:
            raise SignatureMalformed("Signature-Input header is empty.")
        key_id = next(iter(inputs.values()))[1].get("keyid")
        if not isinstance(key_id, str) or not key_id:
            raise SignatureMalformed('Signature-Input header needs a keyid="…" parameter.')
        return key_id
    if "signature" in lowered:
        return parse_cavage_signature(lowered["signature"]).key_id
    return None


def verify_request(method: str, url: str, headers: Mapping[str, str], body: bytes | None,
                   public_key: rsa.RSAPublicKey, now: datetime, max_skew: timedelta = DEFAULT_MAX_SKEW) -> str:
    """Verify with RFC 9421 when `Signature-Input` is present (as Mastodon chooses), else cavage; return the keyId.

    `url` is the absolute URL the request reached as this server's public address (the configured scheme and
    domain, never a proxy's or the socket's); both schemes are bound to its host.
    """
    if "signature-input" in lower_headers(headers):
        # @target-uri / @authority are derived from `url` (our public URL), never from the request's Host header,
        # so an RFC 9421 signature made for another server does not verify here.
        return verify_rfc9421(method, url, headers, body, public_key, now, max_skew)
    # Cavage signs the Host header as sent: it must name this server (`url`'s authority), or a request signed for
    # another server could be replayed here with that server's Host header.
    return verify_cavage(method, url_path_with_query(url), headers, body, public_key, now, max_skew,
                         authority=url_authority(url), scheme=urlsplit(url).scheme)
