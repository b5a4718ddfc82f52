"""A badge issued on one node shows as verified on a node that trusts it, and as only claimed elsewhere."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests import factories
from tests.federation.conftest import api
from tests.helpers.database import TestPostgres
from tests.helpers.nodes import Node
from tests.helpers.polling import eventually
from tests.helpers.web import WebClient


@pytest.fixture(scope="module")
def elders(postgres: TestPostgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    """A third node that does not trust the issuing node."""
    node = Node(database_url=postgres.fresh_database(), data_dir=tmp_path_factory.mktemp("elders")).start()
    factories.person(node, "carla")
    yield node
    node.stop()


def remote_anna(client: httpx.Client, gemeente: Node) -> dict:  # type: ignore[type-arg]
    found = client.get("/api/v2/search", params={"q": f"@anna@{gemeente.domain}", "resolve": "true"}).json()
    return dict(found["accounts"][0])


def test_badge_verified_where_trusted_claimed_elsewhere_and_revocation_travels(
        gemeente: Node, burger: Node, elders: Node) -> None:
    factories.person(gemeente, "kees", org="gemeente-ede", role="org-admin")
    issued = gemeente.cli("badge", "issue", "--username", "anna", "--function", "Teamleider informatievoorziening",
                          "--by", "kees")
    assert issued.code == 0, issued.err
    actor = httpx.get(f"{gemeente.url}/users/anna", headers={"Accept": "application/activity+json"}).json()
    field = next(a for a in actor["attachment"] if a["name"] == "Ambtenaar")
    assert "Gemeente Ede — Teamleider informatievoorziening" in field["value"] and 'rel="me' in field["value"]
    assert actor["ambtenaarBadge"]["proof"]["creator"] == f"{gemeente.url}/users/gemeente_ede#main-key"

    assert burger.cli("trust", "add", gemeente.domain).code == 0
    assert gemeente.domain in burger.cli("trust", "list").out
    bert, carla = api(burger, "bert"), api(elders, "carla")
    on_burger = remote_anna(bert, gemeente)
    assert on_burger["ambtenaar"]["verified"] is True
    assert on_burger["ambtenaar"]["function"] == "Teamleider informatievoorziening"
    on_elders = remote_anna(carla, gemeente)
    assert on_elders["ambtenaar"]["verified"] is False
    assert "not a trusted issuer" in on_elders["ambtenaar"]["unverified_reason"]
    page = WebClient(burger.url, language="en").get(f"/accounts/{on_burger['id']}").text
    assert "Verified: Teamleider informatievoorziening, Gemeente Ede" in page
    assert "Badge claimed, not verified" in WebClient(elders.url, language="en").get(
        f"/accounts/{on_elders['id']}").text

    bert.post(f"/api/v1/accounts/{on_burger['id']}/follow")
    eventually(lambda: bert.get("/api/v1/accounts/relationships", params={"id[]": on_burger["id"]}).json()[0],
               lambda r: r["following"], what="bert follows anna")
    revoked = gemeente.cli("badge", "revoke", "--username", "anna", "--reason", "Andere functie", "--by", "kees")
    assert revoked.code == 0, revoked.err
    eventually(lambda: bert.get(f"/api/v1/accounts/{on_burger['id']}").json()["ambtenaar"],
               lambda badge: badge is None or badge["verified"] is False, what="the revocation at bert's node")
