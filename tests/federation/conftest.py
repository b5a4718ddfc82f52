"""Two real nodes of ours, each with its own database and port, talking over real HTTP on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests import factories
from tests.helpers.database import TestPostgres
from tests.helpers.nodes import Node
from tests.helpers.polling import eventually


def token_for(node: Node, username: str, scopes: str = "read write follow") -> str:
    result = node.cli("token", "create", "--username", username, "--scopes", scopes)
    assert result.code == 0, result.err
    return result.out.strip()


def api(node: Node, username: str) -> httpx.Client:
    return httpx.Client(base_url=node.url, headers={"Authorization": f"Bearer {token_for(node, username)}"},
                        timeout=30)


def follow_remote(client: httpx.Client, handle: str) -> str:
    """Follow `@user@host` from the node `client` speaks to, as an app would (search with resolve, follow), and
    wait until the other server accepted; the followed account's id on this node."""
    found = client.get("/api/v2/search", params={"q": handle, "resolve": "true", "type": "accounts"}).json()
    assert found["accounts"], f"{handle} not found"
    remote_id = str(found["accounts"][0]["id"])
    assert client.post(f"/api/v1/accounts/{remote_id}/follow").status_code == 200
    eventually(lambda: client.get("/api/v1/accounts/relationships", params={"id[]": remote_id}).json()[0],
               lambda r: r["following"], what=f"the follow of {handle}")
    return remote_id


@pytest.fixture(scope="module")
def gemeente(postgres: TestPostgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    node = Node(database_url=postgres.fresh_database(), data_dir=tmp_path_factory.mktemp("gemeente")).start()
    factories.organisation(node)
    factories.person(node, "anna", org="gemeente-ede", display_name="Anna de Vries")
    yield node
    node.stop()


@pytest.fixture(scope="module")
def burger(postgres: TestPostgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    node = Node(database_url=postgres.fresh_database(), data_dir=tmp_path_factory.mktemp("burger")).start()
    factories.person(node, "bert", display_name="Bert Burger")
    yield node
    node.stop()
