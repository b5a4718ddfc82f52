"""The SignatureError hierarchy: one class per way a signed request is refused.

Owns: the error classes and their one-line meaning; the messages themselves are written where the error is raised,
so a person can act on them. Never: HTTP status codes (the inbox maps errors to answers), logic of any kind.
"""

from __future__ import annotations


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
