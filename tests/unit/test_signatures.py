"""HTTP signatures: round trips, every rejection, and known-answer vectors from draft-cavage-12 and RFC 9421."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from federation import signatures as sig
from federation.signatures import (
    DigestMismatch,
    HeaderNotSigned,
    SignatureExpired,
    SignatureInvalid,
    SignatureMalformed,
    SignatureMissing,
    UnsupportedAlgorithm,
    WrongHost,
)

NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=timezone.utc)
KEY_ID = "https://a.example/users/anna#main-key"
INBOX = "https://b.example/users/bob/inbox"
ACTOR = "https://b.example/users/bob"
BODY = json.dumps({"@context": "https://www.w3.org/ns/activitystreams", "type": "Follow",
                   "actor": "https://a.example/users/anna", "object": ACTOR}).encode()
JSON_HEADERS = {"Content-Type": "application/activity+json"}


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return sig.generate_private_key()


@pytest.fixture(scope="module")
def other_key() -> rsa.RSAPrivateKey:
    return sig.generate_private_key()


def signed_post(key: rsa.RSAPrivateKey, when: datetime = NOW, body: bytes = BODY) -> dict[str, str]:
    return {**JSON_HEADERS, **sig.sign_request_cavage("POST", INBOX, JSON_HEADERS, body, key, KEY_ID, when)}


def signed_post_9421(key: rsa.RSAPrivateKey, when: datetime = NOW) -> dict[str, str]:
    return {**JSON_HEADERS, **sig.sign_request_rfc9421("POST", INBOX, JSON_HEADERS, BODY, key, KEY_ID, when)}


def verify_post(headers: dict[str, str], key: rsa.RSAPrivateKey, body: bytes = BODY,
                max_skew: timedelta = sig.DEFAULT_MAX_SKEW) -> str:
    return sig.verify_cavage("POST", "/users/bob/inbox", headers, body, key.public_key(), NOW, max_skew)


def resign(headers: dict[str, str], key: rsa.RSAPrivateKey, signed: str, method: str = "post",
           target: str = "/users/bob/inbox", algorithm: str | None = "rsa-sha256") -> dict[str, str]:
    """Re-sign `headers` with our own header list, to build requests our signer would never make."""
    text = sig.cavage_signing_string(method, target, headers, signed.split())
    value = base64.b64encode(key.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()
    algorithm_param = f'algorithm="{algorithm}",' if algorithm else ""
    return {**headers, "Signature": f'keyId="{KEY_ID}",{algorithm_param}headers="{signed}",signature="{value}"'}


# --- keys ---------------------------------------------------------------------------------------------------------

def test_keys_round_trip_through_pem(key: rsa.RSAPrivateKey) -> None:
    assert key.key_size == 2048
    again = sig.load_private_key(sig.private_key_to_pem(key))
    assert again.private_numbers() == key.private_numbers()
    pem = sig.public_key_pem(key)
    assert pem.startswith("-----BEGIN PUBLIC KEY-----")
    assert sig.load_public_key(pem).public_numbers() == key.public_key().public_numbers()


def test_pkcs1_public_key_loads(key: rsa.RSAPrivateKey) -> None:
    pkcs1 = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1).decode()
    assert pkcs1.startswith("-----BEGIN RSA PUBLIC KEY-----")
    assert sig.load_public_key(pkcs1).public_numbers() == key.public_key().public_numbers()
    assert sig.load_public_key(RFC9421_TEST_KEY_RSA).key_size == 2048  # the RFC's own PKCS#1 key


@pytest.mark.parametrize("garbage", ["", "not a key", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"])
def test_garbage_public_key_is_malformed(garbage: str) -> None:
    with pytest.raises(SignatureMalformed, match="Public key"):
        sig.load_public_key(garbage)


def test_ed25519_public_key_is_unsupported() -> None:
    with pytest.raises(UnsupportedAlgorithm, match="only RSA"):
        sig.load_public_key(RFC9421_TEST_KEY_ED25519)


# --- digests ------------------------------------------------------------------------------------------------------

def test_digest_headers_match_the_spec_examples() -> None:
    body = b'{"hello": "world"}'
    assert sig.digest_header(body) == "SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE="  # cavage-12 appendix C
    assert sig.content_digest_header(body) == "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:"
    sig.verify_content_digest_header(RFC_CONTENT_DIGEST, body)  # RFC 9421 examples use sha-512
    sig.verify_digest_header("SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=", body)
    sig.verify_digest_header("sha-512=WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLv"
                             "RwEmTHWXvJwew==", body)


def test_digest_of_another_body_is_a_mismatch() -> None:
    with pytest.raises(DigestMismatch):
        sig.verify_digest_header(sig.digest_header(b"a"), b"b")
    with pytest.raises(DigestMismatch):
        sig.verify_content_digest_header(sig.content_digest_header(b"a"), b"b")


def test_digest_without_sha2_is_malformed() -> None:
    with pytest.raises(SignatureMalformed, match="no SHA-256 or SHA-512"):
        sig.verify_digest_header("MD5=" + base64.b64encode(b"x" * 16).decode(), b"x")
    with pytest.raises(SignatureMalformed):
        sig.verify_content_digest_header("sha-256=notbytes", b"x")


# --- draft-cavage: round trips ------------------------------------------------------------------------------------

def test_cavage_post_round_trip(key: rsa.RSAPrivateKey) -> None:
    headers = signed_post(key)
    assert headers["Host"] == "b.example"
    assert headers["Date"] == "Sat, 01 Mar 2025 12:00:00 GMT"
    assert headers["Digest"] == sig.digest_header(BODY)
    parsed = sig.parse_cavage_signature(headers["Signature"])
    assert parsed.key_id == KEY_ID and parsed.algorithm == "rsa-sha256"
    assert parsed.headers == ("(request-target)", "host", "date", "digest", "content-type")
    assert verify_post(headers, key) == KEY_ID


def test_cavage_get_round_trip_signs_the_query(key: rsa.RSAPrivateKey) -> None:
    url = "https://b.example/users/bob/outbox?page=true"
    headers = sig.sign_request_cavage("GET", url, {"Accept": "application/activity+json"}, None, key, KEY_ID, NOW)
    assert "Digest" not in headers
    assert sig.parse_cavage_signature(headers["Signature"]).headers == ("(request-target)", "host", "date")
    assert sig.verify_cavage("GET", "/users/bob/outbox?page=true", headers, None, key.public_key(), NOW) == KEY_ID
    assert sig.verify_request("GET", url, headers, None, key.public_key(), NOW) == KEY_ID
    with pytest.raises(SignatureInvalid):
        sig.verify_cavage("GET", "/users/bob/outbox?page=2", headers, None, key.public_key(), NOW)


def test_cavage_accepts_request_target_without_query_as_fedify_signs_it(key: rsa.RSAPrivateKey) -> None:
    headers = {"Host": "b.example", "Date": sig.http_date(NOW)}
    headers = resign(headers, key, "(request-target) host date", method="get", target="/users/bob/outbox")
    assert sig.verify_cavage("GET", "/users/bob/outbox?page=true", headers, None, key.public_key(), NOW) == KEY_ID


def test_cavage_port_is_kept_in_host_unless_default(key: rsa.RSAPrivateKey) -> None:
    assert sig.sign_request_cavage("GET", "http://Node-A:8001/x", {}, None, key, KEY_ID, NOW)["Host"] == "node-a:8001"
    assert sig.sign_request_cavage("GET", "https://b.example:443/x", {}, None, key, KEY_ID, NOW)["Host"] == "b.example"


def test_cavage_without_content_type_does_not_sign_it(key: rsa.RSAPrivateKey) -> None:
    headers = sig.sign_request_cavage("POST", INBOX, {}, BODY, key, KEY_ID, NOW)
    assert sig.parse_cavage_signature(headers["Signature"]).headers == ("(request-target)", "host", "date", "digest")
    assert verify_post(headers, key) == KEY_ID


def test_cavage_header_lookup_ignores_case(key: rsa.RSAPrivateKey) -> None:
    headers = {name.lower(): value for name, value in signed_post(key).items()}
    assert verify_post(headers, key) == KEY_ID
    assert sig.signature_key_id({name.upper(): value for name, value in headers.items()}) == KEY_ID


# --- draft-cavage: rejections -------------------------------------------------------------------------------------

def test_cavage_wrong_key_is_invalid(key: rsa.RSAPrivateKey, other_key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(SignatureInvalid, match=KEY_ID):
        verify_post(signed_post(key), other_key)


def test_cavage_modified_body_is_a_digest_mismatch(key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(DigestMismatch, match="body"):
        verify_post(signed_post(key), key, body=BODY.replace(b"Follow", b"Block"))


def test_cavage_modified_signed_header_is_invalid(key: rsa.RSAPrivateKey) -> None:
    headers = signed_post(key)
    headers["Content-Type"] = "application/ld+json"
    with pytest.raises(SignatureInvalid):
        verify_post(headers, key)


def test_cavage_other_path_is_invalid(key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(SignatureInvalid):
        sig.verify_cavage("POST", "/inbox", signed_post(key), BODY, key.public_key(), NOW)


@pytest.mark.parametrize("offset", [timedelta(minutes=-61), timedelta(minutes=61), timedelta(days=-1)])
def test_cavage_stale_or_future_date_is_expired(key: rsa.RSAPrivateKey, offset: timedelta) -> None:
    with pytest.raises(SignatureExpired):
        verify_post(signed_post(key, NOW + offset), key)


@pytest.mark.parametrize("offset", [timedelta(minutes=-59), timedelta(minutes=59), timedelta(0)])
def test_cavage_date_within_skew_is_accepted(key: rsa.RSAPrivateKey, offset: timedelta) -> None:
    assert verify_post(signed_post(key, NOW + offset), key) == KEY_ID


def test_cavage_max_skew_is_a_parameter(key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(SignatureExpired, match="old"):
        verify_post(signed_post(key, NOW - timedelta(seconds=90)), key, max_skew=timedelta(seconds=60))


def test_cavage_digest_not_signed(key: rsa.RSAPrivateKey) -> None:
    headers = resign(signed_post(key), key, "(request-target) host date content-type")
    with pytest.raises(HeaderNotSigned, match="digest"):
        verify_post(headers, key)


def test_cavage_host_not_signed(key: rsa.RSAPrivateKey) -> None:
    headers = resign(signed_post(key), key, "(request-target) date digest")
    with pytest.raises(HeaderNotSigned, match="host"):
        verify_post(headers, key)


def test_our_own_signatures_always_sign_host_with_its_port(key: rsa.RSAPrivateKey) -> None:
    """What delivery (POST) and the resolver (signed GET) send: `host` signed, the Host the URL's authority."""
    for method, body in (("GET", None), ("POST", BODY)):
        url = "http://node-a.example:8001/users/bob/inbox"
        headers = sig.sign_request_cavage(method, url, JSON_HEADERS, body, key, KEY_ID, NOW)
        assert "host" in sig.parse_cavage_signature(headers["Signature"]).headers
        assert headers["Host"] == "node-a.example:8001"
        assert sig.verify_request(method, url, {**JSON_HEADERS, **headers}, body, key.public_key(), NOW) == KEY_ID
        with pytest.raises(WrongHost, match="signed for 'node-a.example:8001'"):
            sig.verify_request(method, "http://node-a.example:8002/users/bob/inbox", {**JSON_HEADERS, **headers},
                               body, key.public_key(), NOW)


def test_cavage_signed_for_another_server_is_wrong_host(key: rsa.RSAPrivateKey) -> None:
    """Mastodon's header list, a valid signature, but made for another server and replayed to b.example."""
    headers = signed_post(key)
    elsewhere = resign({**headers, "Host": "c.example"}, key, "(request-target) host date digest content-type")
    with pytest.raises(WrongHost, match="signed for 'c.example', not for this server \\('b.example'\\)"):
        sig.verify_request("POST", INBOX, elsewhere, BODY, key.public_key(), NOW)
    assert sig.verify_request("POST", INBOX, headers, BODY, key.public_key(), NOW) == KEY_ID


@pytest.mark.parametrize("host", ["B.Example", "b.example:443", " b.example "])
def test_cavage_host_is_compared_as_an_authority(key: rsa.RSAPrivateKey, host: str) -> None:
    """Case and the default port do not matter (HTTP says so); the signed value is still the one sent."""
    headers = resign({**signed_post(key), "Host": host}, key, "(request-target) host date digest")
    assert sig.verify_request("POST", INBOX, headers, BODY, key.public_key(), NOW) == KEY_ID


@pytest.mark.parametrize("host", ["c.example@b.example", "b.example/users", "b.example.", "b.example:abc",
                                  "b.example:8443", "b.example:443:443", "[::1", "", "b.example#"])
def test_cavage_host_that_only_parses_as_ours_is_wrong_host(key: rsa.RSAPrivateKey, host: str) -> None:
    """Before: urlsplit made 'c.example@b.example' and 'b.example/users' ours, and 'b.example:abc' a ValueError."""
    headers = resign({**signed_post(key), "Host": host}, key, "(request-target) host date digest")
    with pytest.raises(WrongHost):
        sig.verify_request("POST", INBOX, headers, BODY, key.public_key(), NOW)


def test_cavage_host_must_be_signed_even_when_it_is_ours(key: rsa.RSAPrivateKey) -> None:
    headers = resign(signed_post(key), key, "(request-target) date digest")
    with pytest.raises(HeaderNotSigned, match="'host'"):
        sig.verify_request("POST", INBOX, headers, BODY, key.public_key(), NOW)
    without = {k: v for k, v in resign(signed_post(key), key, "(request-target) host date digest").items()
               if k != "Host"}
    with pytest.raises(SignatureMalformed, match="no Host header"):
        sig.verify_request("POST", INBOX, without, BODY, key.public_key(), NOW)


def test_rfc9421_signed_for_another_server_does_not_verify_here(key: rsa.RSAPrivateKey) -> None:
    """@target-uri comes from our own URL, not from the request: the Host header cannot rescue a replay."""
    headers = {**JSON_HEADERS, **sig.sign_request_rfc9421("POST", "https://c.example/users/bob/inbox", JSON_HEADERS,
                                                          BODY, key, KEY_ID, NOW), "Host": "b.example"}
    with pytest.raises(SignatureInvalid):
        sig.verify_request("POST", INBOX, headers, BODY, key.public_key(), NOW)


def test_cavage_request_target_not_signed(key: rsa.RSAPrivateKey) -> None:
    headers = resign(signed_post(key), key, "host date digest")
    with pytest.raises(HeaderNotSigned, match="request-target"):
        verify_post(headers, key)


def test_cavage_date_not_signed(key: rsa.RSAPrivateKey) -> None:
    headers = resign(signed_post(key), key, "(request-target) host digest")
    with pytest.raises(HeaderNotSigned, match="date"):
        verify_post(headers, key)


def test_cavage_missing_signature_header() -> None:
    with pytest.raises(SignatureMissing):
        sig.verify_cavage("POST", "/inbox", {"Host": "b.example"}, BODY, sig.generate_private_key().public_key(), NOW)


@pytest.mark.parametrize("value", [
    'keyId="x",signature',                                   # a parameter without value
    'algorithm="rsa-sha256",headers="date",signature="AA=="',  # no keyId
    'keyId="x",headers="date"',                              # no signature
    'keyId="x",signature="not base64!"',
    'keyId="x",keyId="y",signature="AA=="',
    'keyId="x",created="soon",signature="AA=="',
])
def test_cavage_malformed_header(key: rsa.RSAPrivateKey, value: str) -> None:
    with pytest.raises(SignatureMalformed):
        verify_post({**signed_post(key), "Signature": value}, key)


def test_cavage_malformed_date(key: rsa.RSAPrivateKey) -> None:
    headers = resign({**signed_post(key), "Date": "yesterday"}, key, "(request-target) host date digest")
    with pytest.raises(SignatureMalformed, match="HTTP date"):
        verify_post(headers, key)


@pytest.mark.parametrize("algorithm", ["rsa-sha512", "ed25519", "hmac-sha256"])
def test_cavage_unsupported_algorithm(key: rsa.RSAPrivateKey, algorithm: str) -> None:
    headers = resign(signed_post(key), key, "(request-target) host date digest", algorithm=algorithm)
    with pytest.raises(UnsupportedAlgorithm, match=algorithm):
        verify_post(headers, key)


@pytest.mark.parametrize("algorithm", ["hs2019", "HS2019", None])
def test_cavage_hs2019_and_missing_algorithm_verify_as_rsa_sha256(key: rsa.RSAPrivateKey,
                                                                    algorithm: str | None) -> None:
    headers = resign(signed_post(key), key, "(request-target) host date digest", algorithm=algorithm)
    assert verify_post(headers, key) == KEY_ID


def test_cavage_created_instead_of_date_with_hs2019(key: rsa.RSAPrivateKey) -> None:
    created = int(NOW.timestamp()) - 30
    base = {"Host": "b.example", "Digest": sig.digest_header(BODY)}
    text = sig.cavage_signing_string("post", "/users/bob/inbox", base,
                                     ["(request-target)", "(created)", "host", "digest"], created=created)
    value = base64.b64encode(key.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()
    headers = {**base, "Signature": f'keyId="{KEY_ID}",algorithm="hs2019",created={created},'
                                    f'headers="(request-target) (created) host digest",signature="{value}"'}
    assert verify_post(headers, key) == KEY_ID
    with pytest.raises(SignatureExpired):
        sig.verify_cavage("POST", "/users/bob/inbox", headers, BODY, key.public_key(), NOW + timedelta(hours=2))
    rsa_sha256 = {**headers, "Signature": headers["Signature"].replace("hs2019", "rsa-sha256")}
    with pytest.raises(SignatureMalformed, match="hs2019"):
        verify_post(rsa_sha256, key)


def test_cavage_passed_expires_is_expired(key: rsa.RSAPrivateKey) -> None:
    headers = signed_post(key)
    expires = int(NOW.timestamp()) - 1
    headers["Signature"] = headers["Signature"].replace(",signature=", f",expires={expires},signature=")
    with pytest.raises(SignatureExpired, match="expired"):
        verify_post(headers, key)


def test_naive_now_is_a_programming_error(key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(ValueError, match="timezone"):
        sig.verify_cavage("POST", "/users/bob/inbox", signed_post(key), BODY, key.public_key(),
                          NOW.replace(tzinfo=None))


# --- draft-cavage: known answers from the spec --------------------------------------------------------------------

def test_cavage_signing_string_matches_spec_text() -> None:
    """draft-cavage-12 §2.3 example: lower-case names, "name: value" lines, no trailing newline."""
    headers = {"Host": "example.org", "Date": "Tue, 07 Jun 2014 20:51:35 GMT", "X-Example": " Example header ",
               "Cache-Control": "max-age=60, must-revalidate"}
    text = sig.cavage_signing_string("GET", "/foo", headers,
                                     ["(request-target)", "(created)", "host", "date", "cache-control", "x-example"],
                                     created=1402170695)
    assert text == ("(request-target): get /foo\n"
                    "(created): 1402170695\n"
                    "host: example.org\n"
                    "date: Tue, 07 Jun 2014 20:51:35 GMT\n"
                    "cache-control: max-age=60, must-revalidate\n"
                    "x-example: Example header")


CAVAGE_TEST_PUBLIC_KEY = """-----BEGIN PUBLIC KEY-----
MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDCFENGw33yGihy92pDjZQhl0C3
6rPJj+CvfSC8+q28hxA161QFNUd13wuCTUcq0Qd2qsBe/2hFyc2DCJJg0h1L78+6
Z4UMR7EOcpfdUE9Hf3m/hs+FUR45uBJeDK1HSFHD8bHKD6kv8FPGfJTotc+2xjJw
oYi+1hqp1fIekaxsyQIDAQAB
-----END PUBLIC KEY-----"""
CAVAGE_REQUEST_HEADERS = {"Host": "example.com", "Date": "Sun, 05 Jan 2014 21:31:40 GMT",
                          "Content-Type": "application/json",
                          "Digest": "SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=", "Content-Length": "18"}
CAVAGE_NOW = datetime(2014, 1, 5, 21, 31, 40, tzinfo=timezone.utc)


def test_cavage_spec_basic_test_vector() -> None:
    """draft-cavage-12 appendix C.2: POST /foo?param=value&pet=dog signed "(request-target) host date"."""
    headers = {**CAVAGE_REQUEST_HEADERS, "Signature": (
        'keyId="Test",algorithm="rsa-sha256",headers="(request-target) host date",signature="qdx+H7PHHDZgy4y/Ahn9Tny9'
        "V3GP6YgBPyUXMmoxWtLbHpUnXS2mg2+SbrQDMCJypxBLSPQR2aAjn7ndmw2iicw3HMbe8VfEdKFYRqzic+efkb3nndiv/x1xSHDJWeSWkx"
        '3ButlYSuBskLu6kd9Fswtemr3lgdDEmn04swr2Os0="')}
    public_key = sig.load_public_key(CAVAGE_TEST_PUBLIC_KEY)
    assert sig.verify_cavage("POST", "/foo?param=value&pet=dog", headers, None, public_key, CAVAGE_NOW) == "Test"
    # Valid cryptography, but not enough for an inbox POST: the body is not covered.
    with pytest.raises(HeaderNotSigned, match="digest"):
        sig.verify_cavage("POST", "/foo?param=value&pet=dog", headers, b'{"hello": "world"}', public_key, CAVAGE_NOW)
    # Another implementation's signature: bound to example.com, so only example.com accepts it.
    assert sig.verify_request("POST", "https://example.com/foo?param=value&pet=dog", headers, None, public_key,
                              CAVAGE_NOW) == "Test"
    with pytest.raises(WrongHost):
        sig.verify_request("POST", "https://example.org/foo?param=value&pet=dog", headers, None, public_key,
                           CAVAGE_NOW)


def test_cavage_spec_default_test_vector() -> None:
    """draft-cavage-12 appendix C.1: no headers parameter, so (for rsa-sha256) only `date` is signed."""
    headers = {**CAVAGE_REQUEST_HEADERS, "Signature": (
        'keyId="Test",algorithm="rsa-sha256",signature="SjWJWbWN7i0wzBvtPl8rbASWz5xQW6mcJmn+ibttBqtifLN7Sazz6m79cNfw'
        "wb8DMJ5cou1s7uEGKKCs+FLEEaDV5lp7q25WqS+lavg7T8hc0GppauB6hbgEKTwblDHYGEtbGmtdHgVCk9SuS13F0hZ8FD0k/5OxEPXe5"
        'WozsbM="')}
    public_key = sig.load_public_key(CAVAGE_TEST_PUBLIC_KEY)
    assert sig.parse_cavage_signature(headers["Signature"]).headers == ("date",)
    assert sig.verify_cavage("POST", "/foo?param=value&pet=dog", headers, None, public_key, CAVAGE_NOW,
                             required_headers=()) == "Test"
    with pytest.raises(HeaderNotSigned, match="request-target"):
        sig.verify_cavage("POST", "/foo?param=value&pet=dog", headers, None, public_key, CAVAGE_NOW)


# --- RFC 9421: round trips ----------------------------------------------------------------------------------------

def test_rfc9421_post_round_trip(key: rsa.RSAPrivateKey) -> None:
    headers = signed_post_9421(key)
    created = int(NOW.timestamp())
    assert headers["Content-Digest"] == sig.content_digest_header(BODY)
    assert headers["Signature-Input"] == (f'sig1=("@method" "@target-uri" "content-digest" "content-type")'
                                          f';created={created};keyid="{KEY_ID}";alg="rsa-v1_5-sha256"')
    assert headers["Signature"].startswith("sig1=:") and headers["Signature"].endswith(":")
    assert sig.verify_rfc9421("POST", INBOX, headers, BODY, key.public_key(), NOW) == KEY_ID
    assert sig.verify_request("POST", INBOX, headers, BODY, key.public_key(), NOW) == KEY_ID


def test_rfc9421_signature_base_layout(key: rsa.RSAPrivateKey) -> None:
    headers = signed_post_9421(key)
    parsed = sig.parse_rfc9421_signature(headers["Signature-Input"], headers["Signature"])
    base = sig.rfc9421_signature_base("POST", INBOX, headers, parsed.components, parsed.signature_params)
    assert base == ('"@method": POST\n'
                    f'"@target-uri": {INBOX}\n'
                    f'"content-digest": {sig.content_digest_header(BODY)}\n'
                    '"content-type": application/activity+json\n'
                    '"@signature-params": ("@method" "@target-uri" "content-digest" "content-type")'
                    f';created={int(NOW.timestamp())};keyid="{KEY_ID}";alg="rsa-v1_5-sha256"')
    key.public_key().verify(parsed.signature, base.encode(), padding.PKCS1v15(), hashes.SHA256())


def test_rfc9421_get_round_trip(key: rsa.RSAPrivateKey) -> None:
    headers = sig.sign_request_rfc9421("GET", ACTOR, {}, None, key, KEY_ID, NOW, label="fetch")
    assert set(headers) == {"Signature-Input", "Signature"}
    assert headers["Signature-Input"].startswith('fetch=("@method" "@target-uri");created=')
    assert sig.verify_rfc9421("GET", ACTOR, headers, None, key.public_key(), NOW) == KEY_ID


def test_rfc9421_as_fedify_signs_it(key: rsa.RSAPrivateKey) -> None:
    """Fedify covers @authority, host and date too, and writes alg before keyid and created."""
    created = int(NOW.timestamp())
    headers = {"Host": "b.example", "Date": sig.http_date(NOW), "Content-Digest": sig.content_digest_header(BODY),
               "Signature-Input": f'sig1=("@method" "@target-uri" "@authority" "host" "date" "content-digest")'
                                  f';alg="rsa-v1_5-sha256";keyid="{KEY_ID}";created={created}'}
    parsed = sig.parse_rfc9421_signature(headers["Signature-Input"], "sig1=:AA==:")
    base = sig.rfc9421_signature_base("POST", INBOX, headers, parsed.components, parsed.signature_params)
    value = base64.b64encode(key.sign(base.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()
    headers["Signature"] = f"sig1=:{value}:"
    assert sig.signature_key_id(headers) == KEY_ID
    assert sig.verify_request("POST", INBOX, headers, BODY, key.public_key(), NOW) == KEY_ID


# --- RFC 9421: rejections -----------------------------------------------------------------------------------------

def test_rfc9421_wrong_key(key: rsa.RSAPrivateKey, other_key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(SignatureInvalid):
        sig.verify_rfc9421("POST", INBOX, signed_post_9421(key), BODY, other_key.public_key(), NOW)


def test_rfc9421_modified_method_or_target_fails(key: rsa.RSAPrivateKey) -> None:
    headers = signed_post_9421(key)
    with pytest.raises(SignatureInvalid):
        sig.verify_rfc9421("PUT", INBOX, headers, BODY, key.public_key(), NOW)
    with pytest.raises(SignatureInvalid):
        sig.verify_rfc9421("POST", "https://b.example/inbox", headers, BODY, key.public_key(), NOW)
    with pytest.raises(SignatureInvalid):
        sig.verify_rfc9421("POST", "https://c.example/users/bob/inbox", headers, BODY, key.public_key(), NOW)


def test_rfc9421_content_digest_mismatch(key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(DigestMismatch):
        sig.verify_rfc9421("POST", INBOX, signed_post_9421(key), BODY + b" ", key.public_key(), NOW)


@pytest.mark.parametrize("offset", [timedelta(hours=-2), timedelta(minutes=61)])
def test_rfc9421_created_outside_window_is_expired(key: rsa.RSAPrivateKey, offset: timedelta) -> None:
    with pytest.raises(SignatureExpired):
        sig.verify_rfc9421("POST", INBOX, signed_post_9421(key, NOW + offset), BODY, key.public_key(), NOW)


def test_rfc9421_created_within_window_is_accepted(key: rsa.RSAPrivateKey) -> None:
    headers = signed_post_9421(key, NOW - timedelta(minutes=50))
    assert sig.verify_rfc9421("POST", INBOX, headers, BODY, key.public_key(), NOW) == KEY_ID


def test_rfc9421_content_digest_must_be_covered(key: rsa.RSAPrivateKey) -> None:
    headers = sig.sign_request_rfc9421("POST", INBOX, {}, None, key, KEY_ID, NOW)  # signed as if bodiless
    with pytest.raises(HeaderNotSigned, match="content-digest"):
        sig.verify_rfc9421("POST", INBOX, headers, BODY, key.public_key(), NOW)


def test_rfc9421_method_and_target_must_be_covered(key: rsa.RSAPrivateKey) -> None:
    created = int(NOW.timestamp())
    for components, missing in ((' "@target-uri"', "@method"), ('"@method" "@authority"', "@target-uri")):
        headers = {"Signature-Input": f'sig1=({components});created={created};keyid="{KEY_ID}"',
                   "Signature": "sig1=:AA==:"}
        with pytest.raises(HeaderNotSigned, match=missing):
            sig.verify_rfc9421("GET", ACTOR, headers, None, key.public_key(), NOW)


@pytest.mark.parametrize("signature_input, signature, match", [
    ('sig1=("@method" "@target-uri");keyid="k"', "sig1=:AA==:", "created"),
    ('sig1=("@method" "@target-uri");created=1', "sig1=:AA==:", "keyid"),
    ('sig1=("@method" "@target-uri";req);created=1;keyid="k"', "sig1=:AA==:", "parameters"),
    ('sig1=("@method" "@method");created=1;keyid="k"', "sig1=:AA==:", "twice"),
    ('sig1=("@method" "@target-uri");created=1;keyid="k"', "sig2=:AA==:", "sig1"),
    ('sig1=("@method" "@target-uri");created=1;keyid="k"', 'keyId="k",signature="AA=="', "structured field"),
    ('sig1=("@method" "@target-uri"', "sig1=:AA==:", "structured field"),
    ('sig1="@method";created=1;keyid="k"', "sig1=:AA==:", "list of components"),
])
def test_rfc9421_malformed(key: rsa.RSAPrivateKey, signature_input: str, signature: str, match: str) -> None:
    headers = {"Signature-Input": signature_input, "Signature": signature}
    with pytest.raises(SignatureMalformed, match=match):
        sig.verify_rfc9421("GET", ACTOR, headers, None, key.public_key(), NOW)


def test_rfc9421_unsupported_algorithm(key: rsa.RSAPrivateKey) -> None:
    headers = sig.sign_request_rfc9421("GET", ACTOR, {}, None, key, KEY_ID, NOW)
    headers["Signature-Input"] = headers["Signature-Input"].replace("rsa-v1_5-sha256", "ed25519")
    with pytest.raises(UnsupportedAlgorithm, match="ed25519"):
        sig.verify_rfc9421("GET", ACTOR, headers, None, key.public_key(), NOW)


def test_rfc9421_missing_headers(key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(SignatureMissing, match="Signature header"):
        sig.verify_rfc9421("GET", ACTOR, {"Signature-Input": "sig1=()"}, None, key.public_key(), NOW)
    with pytest.raises(SignatureMissing):
        sig.verify_request("GET", ACTOR, {"Host": "b.example"}, None, key.public_key(), NOW)


# --- keyId before verifying ---------------------------------------------------------------------------------------

def test_signature_key_id_for_both_schemes(key: rsa.RSAPrivateKey) -> None:
    assert sig.signature_key_id(signed_post(key)) == KEY_ID
    assert sig.signature_key_id(signed_post_9421(key)) == KEY_ID
    assert sig.signature_key_id({"Host": "b.example"}) is None
    assert sig.signature_key_id({"Signature": 'Signature keyId="acct:anna@a.example",signature="AA=="'}) \
        == "acct:anna@a.example"
    with pytest.raises(SignatureMalformed):
        sig.signature_key_id({"Signature": "garbage"})
    with pytest.raises(SignatureMalformed):
        sig.signature_key_id({"Signature-Input": 'sig1=("@method");created=1'})


# --- RFC 9421: known answers from the RFC -------------------------------------------------------------------------

RFC9421_TEST_KEY_RSA = """-----BEGIN RSA PUBLIC KEY-----
MIIBCgKCAQEAhAKYdtoeoy8zcAcR874L8cnZxKzAGwd7v36APp7Pv6Q2jdsPBRrw
WEBnez6d0UDKDwGbc6nxfEXAy5mbhgajzrw3MOEt8uA5txSKobBpKDeBLOsdJKFq
MGmXCQvEG7YemcxDTRPxAleIAgYYRjTSd/QBwVW9OwNFhekro3RtlinV0a75jfZg
kne/YiktSvLG34lw2zqXBDTC5NHROUqGTlML4PlNZS5Ri2U4aCNx2rUPRcKIlE0P
uKxI4T+HIaFpv8+rdV6eUgOrB2xeI1dSFFn/nnv5OoZJEIB+VmuKn3DCUcCZSFlQ
PSXSfBDiUGhwOw76WuSSsf1D4b/vLoJ10wIDAQAB
-----END RSA PUBLIC KEY-----"""
RFC9421_TEST_KEY_RSA_PSS = """-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAr4tmm3r20Wd/PbqvP1s2
+QEtvpuRaV8Yq40gjUR8y2Rjxa6dpG2GXHbPfvMs8ct+Lh1GH45x28Rw3Ry53mm+
oAXjyQ86OnDkZ5N8lYbggD4O3w6M6pAvLkhk95AndTrifbIFPNU8PPMO7OyrFAHq
gDsznjPFmTOtCEcN2Z1FpWgchwuYLPL+Wokqltd11nqqzi+bJ9cvSKADYdUAAN5W
Utzdpiy6LbTgSxP7ociU4Tn0g5I6aDZJ7A8Lzo0KSyZYoA485mqcO0GVAdVw9lq4
aOT9v6d+nb4bnNkQVklLQ3fVAvJm+xdDOp9LCNCN48V2pnDOkFV6+U9nV5oyc6XI
2wIDAQAB
-----END PUBLIC KEY-----"""
RFC9421_TEST_KEY_ED25519 = """-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=
-----END PUBLIC KEY-----"""
RFC_CONTENT_DIGEST = ("sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWX"
                      "vJwew==:")
RFC_BODY = b'{"hello": "world"}'
RFC_HEADERS = {"Host": "example.com", "Date": "Tue, 20 Apr 2021 02:07:55 GMT", "Content-Type": "application/json",
               "Content-Digest": RFC_CONTENT_DIGEST, "Content-Length": "18"}
RFC_URL = "https://example.com/foo?param=Value&Pet=dog"


def test_rfc9421_proxy_signature_vector_rsa_v1_5_sha256() -> None:
    """RFC 9421 §4.3: the proxy's rsa-v1_5-sha256 signature made with test-key-rsa (B.1.1)."""
    headers = {**RFC_HEADERS, "Host": "origin.host.internal.example", "Date": "Tue, 20 Apr 2021 02:07:56 GMT",
               "Forwarded": "for=192.0.2.123;host=example.com;proto=https",
               "Signature-Input": 'proxy_sig=("@method" "@authority" "@path" "content-digest" "content-type" '
                                  '"content-length" "forwarded");created=1618884480;keyid="test-key-rsa";'
                                  'alg="rsa-v1_5-sha256";expires=1618884540',
               "Signature": "proxy_sig=:S6ZzPXSdAMOPjN/6KXfXWNO/f7V6cHm7BXYUh3YD/fRad4BCaRZxP+JH+8XY1I6+8Cy+CM5g92iH"
                            "gxtRPz+MjniOaYmdkDcnL9cCpXJleXsOckpURl49GwiyUpZ10KHgOEe11sx3G2gxI8S0jnxQB+Pu68U9vVcasq"
                            "OWAEObtNKKZd8tSFu7LB5YAv0RAGhB8tmpv7sFnIm9y+7X5kXQfi8NMaZaA8i2ZHwpBdg7a6CMfwnnrtflzvZd"
                            "XAsD3LH2TwevU+/PBPv0B6NMNk93wUs/vfJvye+YuI87HU38lZHowtznbLVdp770I6VHR6WfgS9ddzirrswsE1"
                            "w5o0LV/g==:"}
    url = "https://origin.host.internal.example/foo?param=Value&Pet=dog"
    public_key = sig.load_public_key(RFC9421_TEST_KEY_RSA)
    now = datetime.fromtimestamp(1618884500, timezone.utc)
    assert sig.signature_key_id(headers) == "test-key-rsa"
    assert sig.verify_request("POST", url, headers, RFC_BODY, public_key, now) == "test-key-rsa"
    with pytest.raises(SignatureExpired, match="expired"):  # expires=1618884540
        sig.verify_rfc9421("POST", url, headers, RFC_BODY, public_key, now + timedelta(minutes=1))


def test_rfc9421_full_coverage_vector_rsa_pss_sha512() -> None:
    """RFC 9421 B.2.3: every component covered, signed with test-key-rsa-pss (B.1.2), no alg parameter."""
    headers = {**RFC_HEADERS,
               "Signature-Input": 'sig-b23=("date" "@method" "@path" "@query" "@authority" "content-type" '
                                  '"content-digest" "content-length");created=1618884473;keyid="test-key-rsa-pss"',
               "Signature": "sig-b23=:bbN8oArOxYoyylQQUU6QYwrTuaxLwjAC9fbY2F6SVWvh0yBiMIRGOnMYwZ/5MR6fb0Kh1rIRASVxFk"
                            "eGt683+qRpRRU5p2voTp768ZrCUb38K0fUxN0O0iC59DzYx8DFll5GmydPxSmme9v6ULbMFkl+V5B1TP/yPViV7K"
                            "sLNmvKiLJH1pFkh/aYA2HXXZzNBXmIkoQoLd7YfW91kE9o/CCoC1xMy7JA1ipwvKvfrs65ldmlu9bpG6A9BmzhuzF"
                            "8Eim5f8ui9eH8LZH896+QIF61ka39VBrohr9iyMUJpvRX2Zbhl5ZJzSRxpJyoEZAFL2FUo5fTIztsDZKEgM4c"
                            "UA==:"}
    parsed = sig.parse_rfc9421_signature(headers["Signature-Input"], headers["Signature"])
    # The signature base exactly as printed in the RFC.
    assert sig.rfc9421_signature_base("POST", RFC_URL, headers, parsed.components, parsed.signature_params) == (
        '"date": Tue, 20 Apr 2021 02:07:55 GMT\n'
        '"@method": POST\n'
        '"@path": /foo\n'
        '"@query": ?param=Value&Pet=dog\n'
        '"@authority": example.com\n'
        '"content-type": application/json\n'
        f'"content-digest": {RFC_CONTENT_DIGEST}\n'
        '"content-length": 18\n'
        '"@signature-params": ("date" "@method" "@path" "@query" "@authority" "content-type" "content-digest" '
        '"content-length");created=1618884473;keyid="test-key-rsa-pss"')
    public_key = sig.load_public_key(RFC9421_TEST_KEY_RSA_PSS)
    now = datetime.fromtimestamp(1618884473 + 60, timezone.utc)
    assert sig.verify_rfc9421("POST", RFC_URL, headers, RFC_BODY, public_key, now,
                              key_algorithm="rsa-pss-sha512") == "test-key-rsa-pss"
    with pytest.raises(SignatureInvalid):  # without knowing the key is used with PSS, v1.5 is assumed
        sig.verify_rfc9421("POST", RFC_URL, headers, RFC_BODY, public_key, now)
    with pytest.raises(SignatureInvalid):
        sig.verify_rfc9421("POST", RFC_URL.replace("dog", "cat"), headers, RFC_BODY, public_key, now,
                           key_algorithm="rsa-pss-sha512")


def test_rfc9421_minimal_vector_parses_but_is_too_weak() -> None:
    """RFC 9421 B.2.1: nothing but the parameters is signed; it verifies, yet an inbox must not accept it."""
    headers = {**RFC_HEADERS,
               "Signature-Input": 'sig-b21=();created=1618884473;keyid="test-key-rsa-pss";'
                                  'nonce="b3k2pp5k7z-50gnwp.yemd"',
               "Signature": "sig-b21=:d2pmTvmbncD3xQm8E9ZV2828BjQWGgiwAaw5bAkgibUopemLJcWDy/lkbbHAve4cRAtx31Iq786U7"
                            "it++wgGxbtRxf8Udx7zFZsckzXaJMkA7ChG52eSkFxykJeNqsrWH5S+oxNFlD4dzVuwe8DhTSja8xxbR/Z2cOGd"
                            "CbzR72rgFWhzx2VjBqJzsPLMIQKhO4DGezXehhWwE56YCE+O6c0mKZsfxVrogUvA4HELjVKWmAvtl6UnCh8jYzuV"
                            "G5WSb/QEVPnP5TmcAnLH1g+s++v6d4s8m0gCw1fV5/SITLq9mhho8K3+7EPYTU8IU1bLhdxO5Nyt8C8ssinQ98X"
                            "w9Q==:"}
    parsed = sig.parse_rfc9421_signature(headers["Signature-Input"], headers["Signature"])
    base = sig.rfc9421_signature_base("POST", RFC_URL, headers, parsed.components, parsed.signature_params)
    assert base == ('"@signature-params": ();created=1618884473;keyid="test-key-rsa-pss";'
                    'nonce="b3k2pp5k7z-50gnwp.yemd"')
    public_key = sig.load_public_key(RFC9421_TEST_KEY_RSA_PSS)
    public_key.verify(parsed.signature, base.encode(), padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=64),
                      hashes.SHA512())
    with pytest.raises(HeaderNotSigned, match="@method"):
        sig.verify_rfc9421("POST", RFC_URL, headers, RFC_BODY, public_key,
                           datetime.fromtimestamp(1618884473, timezone.utc), key_algorithm="rsa-pss-sha512")
