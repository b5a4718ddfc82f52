"""Our node as gemeente.test (real HTTPS on 127.0.0.2:443) with alice, an official, and Fedify peers beside it."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests import factories
from tests.helpers.database import TestPostgres
from tests.helpers.nodes import Node
from tests.interop.peers import Peer, start_our_node


@pytest.fixture(scope="module")
def gemeente(postgres: TestPostgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    node = start_our_node(postgres.fresh_database(), tmp_path_factory.mktemp("gemeente.test"))
    try:
        factories.organisation(node)
        factories.person(node, "alice", org="gemeente-ede", display_name="Alice de Vries")
        factories.person(node, "kees", org="gemeente-ede", role="org-admin")
        issued = node.cli("badge", "issue", "--username", "alice", "--function", "Woordvoerder", "--by", "kees")
        assert issued.code == 0, issued.err
        yield node
    finally:
        node.stop()


@pytest.fixture(scope="module")
def alice(gemeente: Node) -> Iterator[httpx.Client]:
    """alice's Mastodon client API session on gemeente.test."""
    token = gemeente.cli("token", "create", "--username", "alice", "--scopes", "read write follow")
    assert token.code == 0, token.err
    with httpx.Client(base_url=gemeente.url, verify=gemeente.verify(), timeout=30,
                      headers={"Authorization": f"Bearer {token.out.strip()}"}) as client:
        yield client


def _peer(host: str, *options: str) -> Iterator[Peer]:
    peer = Peer(host).start(*options)
    try:
        yield peer
    finally:
        peer.stop()


@pytest.fixture(scope="module")
def burger(gemeente: Node) -> Iterator[Peer]:
    """A Fedify peer as Fedify ships: RFC 9421 on the first knock."""
    yield from _peer("burger.test")


@pytest.fixture(scope="module")
def burger2(gemeente: Node) -> Iterator[Peer]:
    """A Fedify peer that signs with draft-cavage first, as Mastodon does."""
    yield from _peer("burger2.test", "--first-knock", "cavage")


@pytest.fixture(scope="module")
def burger3(gemeente: Node) -> Iterator[Peer]:
    """A Fedify peer whose account approves followers by hand, and whose posts need a signed GET."""
    yield from _peer("burger3.test", "--manual-approval", "--authorized-fetch")
