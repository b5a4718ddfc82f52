"""Key pairs of our actors, and the remote keys we verify with.

Owns: the actor_keys table (RSA-2048, as Mastodon requires for HTTP signatures) and looking up a remote key by
its keyId in the accounts cache. Never: verifies a request (federation/signatures/ does).
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from server import uris
from server.accounts import Account
from server.config import Settings


@dataclass(frozen=True)
class SigningKey:
    key_id: str
    private_key_pem: str
    public_key_pem: str


def new_key_pair() -> tuple[str, str]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()).decode()
    public_pem = private.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private_pem, public_pem


async def _get_or_create(conn: asyncpg.Connection, account_id: int | None) -> tuple[str, str]:
    condition = "account_id = $1" if account_id is not None else "account_id IS NULL"
    args = [account_id] if account_id is not None else []
    row = await conn.fetchrow(f"SELECT private_key_pem, public_key_pem FROM actor_keys WHERE {condition}", *args)
    if row:
        return row["private_key_pem"], row["public_key_pem"]
    private_pem, public_pem = new_key_pair()
    # Two processes may race to make the first key: the unique index keeps one, and both read it back.
    await conn.execute("INSERT INTO actor_keys (account_id, private_key_pem, public_key_pem) VALUES ($1, $2, $3) "
                       "ON CONFLICT DO NOTHING", account_id, private_pem, public_pem)
    row = await conn.fetchrow(f"SELECT private_key_pem, public_key_pem FROM actor_keys WHERE {condition}", *args)
    return row["private_key_pem"], row["public_key_pem"]


async def account_key(conn: asyncpg.Connection, settings: Settings, account: Account) -> SigningKey:
    private_pem, public_pem = await _get_or_create(conn, account.id)
    return SigningKey(uris.key_id(settings, account.username), private_pem, public_pem)


async def instance_key(conn: asyncpg.Connection, settings: Settings) -> SigningKey:
    private_pem, public_pem = await _get_or_create(conn, None)
    return SigningKey(uris.instance_key_id(settings), private_pem, public_pem)


async def signer_key(conn: asyncpg.Connection, settings: Settings, account: Account | None) -> SigningKey:
    return await account_key(conn, settings, account) if account is not None else await instance_key(conn, settings)
