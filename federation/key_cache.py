"""Remote signing keys kept in memory, so a verified activity costs no database read for its key (issue 18).

Owns: one process's keyId -> (signer, parsed public key) cache, with an expiry and a size bound. Never: trusted
alone. The inbox stores an activity only when its signer's row still holds what the cache held (the same key, not
suspended or deleted since: the `Stamp`, checked inside the one storing statement, federation/inbox.py), and
otherwise forgets the entry and verifies again from the database. So a key rotation (an actor's Update, stored by
any process's worker), a Delete of the actor, or a moderator's suspension takes effect at the next activity in
every web process, with no listener and without waiting for the expiry. A signature that fails with the cached
key forgets it too, and the key is read again (and fetched at most once) before the request is refused.

The expiry only bounds how long a quiet sender's key stays in memory (and so the memory itself, with
`max_keys`): 5 minutes and 4,096 keys, about 2.5 KiB each (half of it the parsed key), 10 MiB at most.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric import rsa

from server.accounts import Account


@dataclass(frozen=True)
class Stamp:
    """What the store statement compares with the signer's row: changed means the cached verdict may be wrong."""

    account_id: int
    key_id: str
    pem_md5: str
    suspended_at: datetime | None
    suspended_by_origin: bool


def pem_md5(pem: str | None) -> str:
    return hashlib.md5((pem or "").encode()).hexdigest()


def stamp_of(account: Account, key_id: str) -> Stamp:
    return Stamp(account.id, key_id, pem_md5(account.public_key_pem), account.suspended_at,
                 account.suspended_by_origin)


@dataclass(frozen=True)
class CachedKey:
    signer: Account  # without its PEM and texts (`put`)
    public_key: rsa.RSAPublicKey
    stamp: Stamp
    expires: float


class KeyCache:
    def __init__(self, *, ttl: float = 300.0, max_keys: int = 4096,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.max_keys = max_keys
        self.clock = clock
        self._entries: dict[str, CachedKey] = {}

    def get(self, key_id: str) -> CachedKey | None:
        entry = self._entries.get(key_id)
        if entry is not None and entry.expires <= self.clock():
            del self._entries[key_id]
            return None
        return entry

    def put(self, key_id: str, signer: Account, public_key: rsa.RSAPublicKey) -> CachedKey:
        if len(self._entries) >= self.max_keys and key_id not in self._entries:
            for old in list(self._entries)[: self.max_keys // 4]:  # the oldest quarter
                del self._entries[old]
        # What the inbox reads of a signer is its id, actor and standing: the rest (PEM, texts, badge) stays out
        # of memory, about half of an entry.
        slim = dataclasses.replace(signer, public_key_pem=None, bio="", display_name="", remote_badge=None,
                                   avatar_url=None, profile_url=None, followers_uri=None)
        entry = CachedKey(slim, public_key, stamp_of(signer, key_id), self.clock() + self.ttl)
        self._entries[key_id] = entry
        return entry

    def forget(self, key_id: str) -> None:
        self._entries.pop(key_id, None)

    def __len__(self) -> int:
        return len(self._entries)
