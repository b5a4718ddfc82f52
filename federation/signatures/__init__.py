"""HTTP signatures: draft-cavage-http-signatures-12 and RFC 9421, signed and verified as pure functions.

Owns: the public names callers use (`from federation import signatures`; `signatures.verify_request` and friends),
re-exported from the modules that hold them: `errors` (the SignatureError hierarchy), `keys` (RSA keys and PEM),
`parsing` (headers, HTTP dates, URLs, RFC 8941 structured fields), `window` (the accepted time window), `digests`
(`Digest`, RFC 3230, and `Content-Digest`, RFC 9530), `cavage`, `rfc9421`, and `dispatch` (which key a request names,
and verifying it with the scheme it uses).
Never: I/O, the database, the network, the clock (`now` is always a parameter) or global state; never fetches keys
(`signature_key_id` says which key the caller should fetch); no logic of its own here.

Both schemes are what Mastodon accepts: cavage `rsa-sha256`/`hs2019` (always RSASSA-PKCS1-v1_5 with SHA-256), and
RFC 9421 `rsa-v1_5-sha256` (plus `rsa-pss-sha512`, the RFC's own example algorithm). See INTEROP.md 2.1-2.3.
"""

from __future__ import annotations

from federation.signatures.cavage import (
    CAVAGE_ALGORITHMS,
    CavageSignature,
    cavage_signing_string,
    parse_cavage_signature,
    sign_request_cavage,
    verify_cavage,
)
from federation.signatures.digests import (
    DIGEST_ALGORITHMS,
    content_digest_header,
    digest_header,
    verify_content_digest_header,
    verify_digest_header,
)
from federation.signatures.dispatch import signature_key_id, verify_request
from federation.signatures.errors import (
    DigestMismatch,
    HeaderNotSigned,
    SignatureError,
    SignatureExpired,
    SignatureInvalid,
    SignatureMalformed,
    SignatureMissing,
    UnsupportedAlgorithm,
    WrongHost,
)
from federation.signatures.keys import (
    generate_private_key,
    load_private_key,
    load_public_key,
    private_key_to_pem,
    public_key_pem,
)
from federation.signatures.parsing import http_date, parse_http_date
from federation.signatures.rfc9421 import (
    RFC9421_ALGORITHMS,
    Rfc9421Signature,
    parse_rfc9421_signature,
    rfc9421_signature_base,
    sign_request_rfc9421,
    verify_rfc9421,
)
from federation.signatures.window import DEFAULT_MAX_SKEW

__all__ = [
    "CAVAGE_ALGORITHMS", "DEFAULT_MAX_SKEW", "DIGEST_ALGORITHMS", "RFC9421_ALGORITHMS",
    "CavageSignature", "Rfc9421Signature",
    "DigestMismatch", "HeaderNotSigned", "SignatureError", "SignatureExpired", "SignatureInvalid",
    "SignatureMalformed", "SignatureMissing", "UnsupportedAlgorithm", "WrongHost",
    "cavage_signing_string", "content_digest_header", "digest_header", "generate_private_key", "http_date",
    "load_private_key", "load_public_key", "parse_cavage_signature", "parse_http_date", "parse_rfc9421_signature",
    "private_key_to_pem", "public_key_pem", "rfc9421_signature_base", "sign_request_cavage", "sign_request_rfc9421",
    "signature_key_id", "verify_cavage", "verify_content_digest_header", "verify_digest_header", "verify_request",
    "verify_rfc9421",
]
