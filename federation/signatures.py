"""HTTP signatures: draft-cavage-http-signatures-12 and RFC 9421, signed and verified as pure functions.

Owns: key generation and PEM (de)serialisation, the `Digest` (RFC 3230) and `Content-Digest` (RFC 9530) headers,
the cavage signing string and the RFC 9421 signature base, the rules a signature must meet to be accepted (what must
be signed, the time window, the digest), and the SignatureError hierarchy with messages a person can act on.
Never: I/O, the database, the network, the clock (`now` is always a parameter) or global state; never fetches keys
(`signature_key_id` says which key the caller should fetch).

Both schemes are what Mastodon accepts: cavage `rsa-sha256`/`hs2019` (always RSASSA-PKCS1-v1_5 with SHA-256), and
RFC 9421 `rsa-v1_5-sha256` (plus `rsa-pss-sha512`, the RFC's own example algorithm). See INTEROP.md 2.1-2.3.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Union
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm as _CryptoUnsupported
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

DEFAULT_MAX_SKEW = timedelta(hours=1)
CAVAGE_ALGORITHMS = ("rsa-sha256", "hs2019")
RFC9421_ALGORITHMS = ("rsa-v1_5-sha256", "rsa-pss-sha512")
DIGEST_ALGORITHMS = {"sha-256": hashlib.sha256, "sha-512": hashlib.sha512}
_DEFAULT_PORTS = {"http": 80, "https": 443}


# --- errors ------------------------------------------------------------------------------------------------------

class SignatureError(Exception):
    """The request's signature is missing, malformed, expired or does not verify."""


class SignatureMissing(SignatureError):
    """The request carries no signature at all."""


class SignatureMalformed(SignatureError):
    """A signature header, digest header or key cannot be parsed."""


class UnsupportedAlgorithm(SignatureError):
    """The signature names an algorithm (or uses a key type) this server does not verify."""


class HeaderNotSigned(SignatureError):
    """A header or component that must be covered by the signature is not."""


class SignatureExpired(SignatureError):
    """The signature's date lies outside the accepted window around now, or its `expires` has passed."""


class DigestMismatch(SignatureError):
    """The body digest header does not match the body that arrived."""


class SignatureInvalid(SignatureError):
    """The signature does not verify with the given public key."""


class WrongHost(SignatureError):
    """The request was signed for another server: its signed Host is not the one it reached."""


# --- keys --------------------------------------------------------------------------------------------------------

def generate_private_key() -> rsa.RSAPrivateKey:
    """A new RSA-2048 key, the size every fediverse server accepts."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def private_key_to_pem(private_key: rsa.RSAPrivateKey) -> str:
    """PKCS#8 PEM ("BEGIN PRIVATE KEY"), unencrypted: the database column is the secret."""
    return private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()).decode("ascii")


def load_private_key(pem: str | bytes) -> rsa.RSAPrivateKey:
    """Read an RSA private key from PKCS#8 or PKCS#1 PEM."""
    data = pem.encode("ascii", "replace") if isinstance(pem, str) else pem
    try:
        key = serialization.load_pem_private_key(data.strip(), password=None)
    except (ValueError, TypeError, _CryptoUnsupported) as error:
        raise SignatureMalformed(f"Private key is not a readable unencrypted PEM key: {error}") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise UnsupportedAlgorithm(f"Private key is {type(key).__name__}; only RSA keys can sign here.")
    return key


def public_key_pem(private_key: rsa.RSAPrivateKey) -> str:
    """The SPKI PEM ("BEGIN PUBLIC KEY") that goes into the actor's `publicKey.publicKeyPem`."""
    return private_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")


def load_public_key(pem: str | bytes) -> rsa.RSAPublicKey:
    """Read a remote actor's RSA public key: SPKI ("PUBLIC KEY") or PKCS#1 ("RSA PUBLIC KEY") PEM."""
    data = pem.encode("ascii", "replace") if isinstance(pem, str) else pem
    try:
        key = serialization.load_pem_public_key(data.strip())
    except (ValueError, TypeError, _CryptoUnsupported) as error:
        raise SignatureMalformed(f"Public key is not a readable PEM key: {error}") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise UnsupportedAlgorithm(f"Public key is {type(key).__name__}; only RSA keys are verified here.")
    return key


# --- small helpers -----------------------------------------------------------------------------------------------

def _lower_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def _b64decode(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise SignatureMalformed(f"{what} is not valid base64.") from None


def _utc(now: datetime) -> datetime:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(timezone.utc)


def http_date(now: datetime) -> str:
    """`now` as an IMF-fixdate (RFC 7231), e.g. "Sun, 05 Jan 2014 21:31:40 GMT"; independent of the locale."""
    return email.utils.format_datetime(_utc(now).replace(microsecond=0), usegmt=True)


def parse_http_date(value: str) -> datetime:
    """Parse a `Date` header into an aware UTC datetime; raise SignatureMalformed if it is not an HTTP date."""
    try:
        parsed = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        raise SignatureMalformed(f"Date header {value!r} is not an HTTP date like "
                                 f"'Sun, 05 Jan 2014 21:31:40 GMT'.") from None
    return parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed.astimezone(timezone.utc)


def _check_window(moment: datetime, now: datetime, max_skew: timedelta, what: str) -> None:
    offset = moment - _utc(now)
    if offset > max_skew:
        raise SignatureExpired(f"{what} ({moment.isoformat()}) is {offset} ahead of this server's clock; "
                               f"at most {max_skew} is accepted. Check the sender's clock.")
    if -offset > max_skew:
        raise SignatureExpired(f"{what} ({moment.isoformat()}) is {-offset} old; at most {max_skew} is accepted. "
                               f"Re-sign the request when (re)sending it.")


def _check_expires(expires: int | None, now: datetime) -> None:
    if expires is not None and _utc(now).timestamp() > expires:
        raise SignatureExpired(f"The signature expired at {datetime.fromtimestamp(expires, timezone.utc)}.")


def _host_and_port(host: str, port: int | None, scheme: str) -> str:
    """`host[:port]`, the port left out when it is the scheme's default, as HTTP clients write the Host header."""
    if port is None or port == _DEFAULT_PORTS.get(scheme.lower()):
        return host
    return f"{host}:{port}"


def _authority(url: str) -> str:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    return _host_and_port(host, parts.port, parts.scheme)


_HOST_HEADER = re.compile(r"(\[[0-9a-f:.]+\]|[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?)(?::([0-9]{1,5}))?")


def _host_header_authority(value: str, scheme: str) -> str | None:
    """A Host header as `_authority` writes it (lower case, default port dropped), or None when it is not just a
    host and port: userinfo, a path or a trailing dot could otherwise make another server's Host parse as ours."""
    found = _HOST_HEADER.fullmatch(value.strip().lower())
    if found is None:
        return None
    port = found.group(2)
    return _host_and_port(found.group(1), int(port) if port else None, scheme)


def _path(url: str) -> str:
    return urlsplit(url).path or "/"


def _path_with_query(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _target_uri(url: str) -> str:
    """The absolute URI with scheme and host lower-cased and a default port dropped, as HTTP clients send it."""
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{_authority(url)}{_path_with_query(url)}"


def _rsa_key(key: object, role: str) -> None:
    wanted = rsa.RSAPublicKey if role == "public" else rsa.RSAPrivateKey
    if not isinstance(key, wanted):
        raise UnsupportedAlgorithm(f"The {role} key is {type(key).__name__}; only RSA keys are supported.")


# --- digests -----------------------------------------------------------------------------------------------------

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
        found.append((algorithm.strip().lower(), _b64decode(encoded, f"Digest header's {algorithm.strip()} value")))
    _check_digests(found, body, "Digest")


def verify_content_digest_header(value: str, body: bytes) -> None:
    """Check an RFC 9530 `Content-Digest` dictionary against the body; every sha-256/sha-512 value must match."""
    found: list[tuple[str, bytes]] = []
    for algorithm, (item, _params) in _parse_sf_dictionary(value, "Content-Digest").items():
        if not isinstance(item, bytes):
            raise SignatureMalformed(f"Content-Digest member {algorithm!r} is not a byte sequence (:base64:).")
        found.append((algorithm, item))
    _check_digests(found, body, "Content-Digest")


# --- draft-cavage-http-signatures-12 -----------------------------------------------------------------------------

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
                           signature=_b64decode(params["signature"], "Signature header's signature"),
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
    lowered = _lower_headers(headers)
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
    _rsa_key(private_key, "private")
    added = {"Host": _authority(url), "Date": http_date(now)}
    signed = ["(request-target)", "host", "date"]
    if body is not None:
        added["Digest"] = digest_header(body)
        signed.append("digest")
        if "content-type" in _lower_headers(headers):
            signed.append("content-type")
    merged = {**_lower_headers(headers), **_lower_headers(added)}
    text = cavage_signing_string(method, _path_with_query(url), merged, signed)
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
    (this server's host and port, as `_authority` writes it), `host` must be signed and the Host header must be
    exactly that authority (WrongHost otherwise), so a request signed for another server cannot be replayed here.
    """
    _rsa_key(public_key, "public")
    lowered = _lower_headers(headers)
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
        if _host_header_authority(sent, scheme) != authority:
            raise WrongHost(f"The request was signed for {sent.strip()[:200]!r}, not for this server "
                            f"({authority!r}); sign each request for the server it is sent to.")
    if "date" not in signed and "(created)" not in signed:
        raise HeaderNotSigned("The signature must cover 'date' (or '(created)'), or it could be replayed forever.")
    if body is not None and "digest" not in signed:
        raise HeaderNotSigned("A request with a body must sign 'digest', so the body cannot be swapped.")
    if "(created)" in signed:
        if parsed.created is None:
            raise SignatureMalformed("Signature header signs (created) but has no created parameter.")
        _check_window(datetime.fromtimestamp(parsed.created, timezone.utc), now, max_skew, "The signature's created")
    if "date" in signed:
        if "date" not in lowered:
            raise SignatureMalformed("Signature header signs 'date', but the request has no Date header.")
        _check_window(parse_http_date(lowered["date"]), now, max_skew, "The Date header")
    _check_expires(parsed.expires, now)
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


# --- RFC 8941 structured fields (the subset RFC 9421 and RFC 9530 use) -------------------------------------------

class _Token(str):
    """An sf-token, serialised without quotes."""


_BareItem = Union[int, float, str, bytes, bool, _Token]
_Params = dict[str, _BareItem]
_Item = tuple[_BareItem, _Params]
_InnerList = tuple[list[_Item], _Params]
_Member = tuple[Union[_BareItem, list[_Item]], _Params]

_KEY = re.compile(r"[a-z*][a-z0-9_\-.*]*")
_TOKEN = re.compile(r"[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*")
_NUMBER = re.compile(r"-?[0-9]{1,15}(?:\.[0-9]{1,3})?")


class _SfParser:
    def __init__(self, text: str, header: str) -> None:
        self.text, self.pos, self.header = text, 0, header

    def fail(self, expected: str) -> SignatureMalformed:
        near = self.text[self.pos:self.pos + 30]
        return SignatureMalformed(f"{self.header} header is not a valid structured field: expected {expected} "
                                  f"at position {self.pos} (near {near!r}).")

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def skip(self, chars: str) -> None:
        while self.peek() and self.peek() in chars:
            self.pos += 1

    def regex(self, pattern: re.Pattern[str], expected: str) -> str:
        match = pattern.match(self.text, self.pos)
        if match is None:
            raise self.fail(expected)
        self.pos = match.end()
        return match.group(0)

    def dictionary(self) -> dict[str, _Member]:
        result: dict[str, _Member] = {}
        self.skip(" ")
        while self.pos < len(self.text):
            key = self.regex(_KEY, "a lower-case key")
            if self.peek() == "=":
                self.pos += 1
                if self.peek() == "(":
                    items, params = self.inner_list()
                    result[key] = (items, params)
                else:
                    result[key] = self.item()
            else:
                result[key] = (True, self.parameters())
            self.skip(" \t")
            if self.pos >= len(self.text):
                return result
            if self.peek() != ",":
                raise self.fail("','")
            self.pos += 1
            self.skip(" \t")
            if self.pos >= len(self.text):
                raise self.fail("another member after ','")
        return result

    def inner_list(self) -> _InnerList:
        self.pos += 1
        items: list[_Item] = []
        while True:
            self.skip(" ")
            if self.peek() == ")":
                self.pos += 1
                return items, self.parameters()
            items.append(self.item())
            if self.peek() not in (" ", ")"):
                raise self.fail("' ' or ')'")

    def item(self) -> _Item:
        return self.bare_item(), self.parameters()

    def parameters(self) -> _Params:
        params: _Params = {}
        while self.peek() == ";":
            self.pos += 1
            self.skip(" ")
            key = self.regex(_KEY, "a parameter name")
            value: _BareItem = True
            if self.peek() == "=":
                self.pos += 1
                value = self.bare_item()
            params[key] = value
        return params

    def bare_item(self) -> _BareItem:
        char = self.peek()
        if char == '"':
            return self.string()
        if char == ":":
            end = self.text.find(":", self.pos + 1)
            if end < 0:
                raise self.fail("a closing ':' of a byte sequence")
            encoded, self.pos = self.text[self.pos + 1:end], end + 1
            return _b64decode(encoded, f"A byte sequence in the {self.header} header")
        if char == "?":
            value = self.text[self.pos + 1:self.pos + 2]
            if value not in ("0", "1"):
                raise self.fail("?0 or ?1")
            self.pos += 2
            return value == "1"
        if char == "-" or char.isdigit():
            number = self.regex(_NUMBER, "a number")
            return float(number) if "." in number else int(number)
        if char.isalpha() or char == "*":
            return _Token(self.regex(_TOKEN, "a token"))
        raise self.fail("a string, token, number, byte sequence or boolean")

    def string(self) -> str:
        self.pos += 1
        out = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            self.pos += 1
            if char == "\\":
                escaped = self.peek()
                if escaped not in ('"', "\\"):
                    raise self.fail('\\" or \\\\ after a backslash')
                out.append(escaped)
                self.pos += 1
            elif char == '"':
                return "".join(out)
            elif not " " <= char <= "~":
                raise self.fail("printable ASCII in a string")
            else:
                out.append(char)
        raise self.fail("a closing '\"'")


def _parse_sf_dictionary(text: str, header: str) -> dict[str, _Member]:
    return _SfParser(text.strip(), header).dictionary()


def _serialize_bare(value: _BareItem) -> str:
    if isinstance(value, bool):
        return "?1" if value else "?0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".") if value % 1 else f"{value:.1f}"
    if isinstance(value, bytes):
        return ":" + base64.b64encode(value).decode("ascii") + ":"
    if isinstance(value, _Token):
        return str(value)
    if not all(" " <= char <= "~" for char in value):
        raise ValueError(f"{value!r} cannot be a structured-field string: only printable ASCII is allowed")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _serialize_params(params: _Params) -> str:
    return "".join(f";{key}" if value is True else f";{key}={_serialize_bare(value)}" for key, value in params.items())


def _serialize_inner_list(items: Sequence[_Item], params: _Params) -> str:
    inner = " ".join(_serialize_bare(value) + _serialize_params(item_params) for value, item_params in items)
    return f"({inner}){_serialize_params(params)}"


# --- RFC 9421 HTTP Message Signatures ----------------------------------------------------------------------------

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
    inputs = _parse_sf_dictionary(signature_input, "Signature-Input")
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
        if not isinstance(value, str) or isinstance(value, _Token):
            raise SignatureMalformed(f"Signature-Input component {value!r} is not a quoted string.")
        if component_params:
            raise SignatureMalformed(f"Signature-Input component {value!r} has parameters "
                                     f"({_serialize_params(component_params)}), which this server does not support.")
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
    signatures = _parse_sf_dictionary(signature, "Signature")
    if label not in signatures:
        raise SignatureMalformed(f"Signature header has no value labelled {label!r} to match Signature-Input.")
    value = signatures[label][0]
    if not isinstance(value, bytes):
        raise SignatureMalformed(f"Signature header member {label!r} is not a byte sequence (:base64:).")
    return Rfc9421Signature(label=label, components=tuple(components), key_id=key_id, created=created,
                            expires=expires, algorithm=algorithm, signature=value,
                            signature_params=_serialize_inner_list(items, params))


def _component_value(name: str, method: str, url: str, lowered: Mapping[str, str]) -> str:
    derived = {
        "@method": lambda: method.upper(),
        "@target-uri": lambda: _target_uri(url),
        "@authority": lambda: _authority(url),
        "@scheme": lambda: urlsplit(url).scheme.lower(),
        "@request-target": lambda: _path_with_query(url),
        "@path": lambda: _path(url),
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
    lowered = _lower_headers(headers)
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
    _rsa_key(private_key, "private")
    added: dict[str, str] = {}
    components = ["@method", "@target-uri"]
    if body is not None:
        added["Content-Digest"] = content_digest_header(body)
        components.append("content-digest")
        if "content-type" in _lower_headers(headers):
            components.append("content-type")
    params: _Params = {"created": int(_utc(now).timestamp()), "keyid": key_id, "alg": "rsa-v1_5-sha256"}
    signature_params = _serialize_inner_list([(name, {}) for name in components], params)
    merged = {**_lower_headers(headers), **_lower_headers(added)}
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
    _rsa_key(public_key, "public")
    lowered = _lower_headers(headers)
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
    _check_window(datetime.fromtimestamp(parsed.created, timezone.utc), now, max_skew, "The signature's created")
    _check_expires(parsed.expires, now)
    if body is not None:
        if "content-digest" not in lowered:
            raise SignatureMalformed("The signature covers 'content-digest', but the request has no Content-Digest.")
        verify_content_digest_header(lowered["content-digest"], body)
    base = rfc9421_signature_base(method, url, lowered, parsed.components, parsed.signature_params)
    if not _verify_rfc9421_bytes(algorithm, public_key, parsed.signature, base.encode("utf-8")):
        raise SignatureInvalid(f"The signature does not verify with the key {parsed.key_id!r}: the key was rotated, "
                               f"or a covered component ({' '.join(parsed.components)}) was changed on the way.")
    return parsed.key_id


# --- either scheme -----------------------------------------------------------------------------------------------

def signature_key_id(headers: Mapping[str, str]) -> str | None:
    """The keyId the caller should fetch before verifying: RFC 9421's first label if present, else cavage's.

    None when the request carries no signature; SignatureMalformed when a signature header cannot be parsed.
    """
    lowered = _lower_headers(headers)
    if "signature-input" in lowered:
        inputs = _parse_sf_dictionary(lowered["signature-input"], "Signature-Input")
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
    if "signature-input" in _lower_headers(headers):
        # @target-uri / @authority are derived from `url` (our public URL), never from the request's Host header,
        # so an RFC 9421 signature made for another server does not verify here.
        return verify_rfc9421(method, url, headers, body, public_key, now, max_skew)
    # Cavage signs the Host header as sent: it must name this server (`url`'s authority), or a request signed for
    # another server could be replayed here with that server's Host header.
    return verify_cavage(method, _path_with_query(url), headers, body, public_key, now, max_skew,
                         authority=_authority(url), scheme=urlsplit(url).scheme)
