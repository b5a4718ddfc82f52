"""server/voice.py's one decision on another server's official post: verified, or only claimed."""

from __future__ import annotations

from server import voice

TRUSTED = {"ede.gov.example", "node.example:8443"}


def test_our_own_official_posts_are_verified() -> None:
    assert voice.organisation_verified(None, set())


def test_another_servers_organisation_is_verified_only_on_a_trusted_node() -> None:
    assert voice.organisation_verified("https://ede.gov.example/users/gemeente_ede", TRUSTED)
    assert voice.organisation_verified("https://EDE.gov.example/users/gemeente_ede", TRUSTED)
    assert voice.organisation_verified("https://node.example:8443/users/gemeente_ede", TRUSTED)
    assert not voice.organisation_verified("https://ede-gov.example/users/gemeente_ede", TRUSTED)  # a look-alike
    assert not voice.organisation_verified("https://ede.gov.example.evil.example/users/x", TRUSTED)
    assert not voice.organisation_verified("https://node.example/users/gemeente_ede", TRUSTED)  # another port
    assert not voice.organisation_verified("https://x@ede.gov.example/users/gemeente_ede", TRUSTED)
