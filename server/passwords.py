"""Password hashing with argon2id.

Owns: hashing, verifying and the minimum length. Never: stores anything.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from server.errors import Invalid

MIN_LENGTH = 10
MAX_LENGTH = 200
_hasher = PasswordHasher()  # stateless: parameters only


def check_strength(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise Invalid("The password must be at least %(n)d characters long.", n=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        raise Invalid("The password may be at most %(n)d characters long.", n=MAX_LENGTH)


def hash_password(password: str) -> str:
    check_strength(password)
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        # Spend the same time as a real check so that unknown accounts are not told apart by timing.
        _hasher.hash(password[:MAX_LENGTH] or "x")
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
