"""The pure parts of two-factor sign-in: the secret's encryption, which time step a code belongs to, recovery
codes as typed from paper."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from server import two_factor

KEY = "k" * 48
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
NOW = datetime(2026, 12, 5, 12, 0, 10, tzinfo=UTC)


def test_the_secret_is_sealed_to_the_node_key_and_the_account() -> None:
    sealed = two_factor.encrypt_secret(KEY, 7, SECRET)
    assert SECRET.encode() not in sealed and len(sealed) > 12 + len(SECRET)
    assert two_factor.encrypt_secret(KEY, 7, SECRET) != sealed  # a fresh nonce each time
    assert two_factor.decrypt_secret(KEY, 7, sealed) == SECRET
    for key, account in ((KEY, 8), ("x" * 48, 7)):
        with pytest.raises(two_factor.SecretUnreadable):
            two_factor.decrypt_secret(key, account, sealed)
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(two_factor.SecretUnreadable):
        two_factor.decrypt_secret(KEY, 7, tampered)


def test_a_code_matches_its_step_and_one_step_either_side_only() -> None:
    totp = pyotp.TOTP(SECRET)
    step = int(NOW.timestamp()) // 30
    assert two_factor.matching_step(SECRET, totp.at(NOW), NOW) == step
    assert two_factor.matching_step(SECRET, totp.at(NOW - timedelta(seconds=30)), NOW) == step - 1
    assert two_factor.matching_step(SECRET, " ".join(totp.at(NOW + timedelta(seconds=30))), NOW) == step + 1
    for far in (-90, -60, 60, 90):
        code = totp.at(NOW + timedelta(seconds=far))
        if code not in {totp.at(NOW + timedelta(seconds=s)) for s in (-30, 0, 30)}:
            assert two_factor.matching_step(SECRET, code, NOW) is None
    for junk in ("", "12345", "1234567", "abcdef", "12 34 5"):
        assert two_factor.matching_step(SECRET, junk, NOW) is None


def test_recovery_codes_are_read_as_typed_from_paper() -> None:
    codes = {two_factor.new_recovery_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert len(code) == 11 and code[5] == "-" and not set(code) & set("01ilo")
        assert two_factor.normalise_recovery_code(f" {code.upper().replace('-', ' ')} ") == code.replace("-", "")
