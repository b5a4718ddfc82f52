"""What federation code needs at run time: the node's Deps plus the one outgoing HTTP client.

Owns: the Federation record built in the app lifespan (or by `ambtenaar worker`). Never: module globals.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from federation import signatures
from federation.netguard import OutgoingClient
from server.deps import Deps


@dataclass
class Federation:
    deps: Deps
    client: OutgoingClient
    # Parsed private keys by PEM: parsing an RSA key costs milliseconds, signing with it a quarter of one.
    _parsed_keys: dict[str, RSAPrivateKey] = field(default_factory=dict)

    def private_key(self, pem: str) -> RSAPrivateKey:
        key = self._parsed_keys.get(pem)
        if key is None:
            key = signatures.load_private_key(pem)
            if len(self._parsed_keys) > 10_000:
                self._parsed_keys.clear()
            self._parsed_keys[pem] = key
        return key
