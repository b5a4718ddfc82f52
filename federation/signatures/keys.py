"""RSA key pairs for signing: generating them, PEM in and out, and the check that a key is RSA.

Owns: RSA-2048 generation, PKCS#8/PKCS#1/SPKI PEM (de)serialisation, `require_rsa`. Never: storing or fetching
keys (`federation/keys.py` owns `actor_keys`; federation/actors.py fetches remote ones), signing or verifying requests.
"""

from __future__ import annotations

from cryptography.exceptions import UnsupportedAlgorithm as _CryptoUnsupported
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from federation.signatures.errors import SignatureMalformed, UnsupportedAlgorithm


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


def require_rsa(key: object, role: str) -> None:
    wanted = rsa.RSAPublicKey if role == "public" else rsa.RSAPrivateKey
    if not isinstance(key, wanted):
        raise UnsupportedAlgorithm(f"The {role} key is {type(key).__name__}; only RSA keys are supported.")
