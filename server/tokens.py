"""Random secrets handed to people (invite links, session cookies) and the hashes we keep of them.

Owns: making tokens and hashing them. Never: stores a token in clear text.
"""

from __future__ import annotations

import hashlib
import secrets


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()
