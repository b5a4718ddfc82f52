"""The visibility rule for a remote viewer known by its signature: a node in authorized-fetch mode serves a
followers-only Note to a signed request from a follower, and to nobody else; a held post to no remote actor at all.

The remote actors are a hostile server's (tests/helpers/xss.py): one follows Anna through a real signed Follow,
the other does not.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from federation import signatures
from tests import factories
from tests.federation.conftest import token_for
from tests.helpers.database import TestPostgres, scalar
from tests.helpers.nodes import Node
from tests.helpers.polling import eventually
from tests.helpers.xss import HostileServer


@pytest.fixture(scope="module")
def guarded(postgres: TestPostgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    node = Node(database_url=postgres.fresh_database(), data_dir=tmp_path_factory.mktemp("guarded"),
                extra_env={"AMBTENAAR_AUTHORIZED_FETCH": "true"}).start()
    yield node
    node.stop()


def _signed_get(hostile: HostileServer, actor: str, url: str) -> httpx.Response:
    headers = {"Accept": "application/activity+json"}
    headers.update(signatures.sign_request_cavage("GET", url, headers, None, hostile.key, f"{actor}#main-key",
                                                  datetime.now(UTC)))
    return httpx.get(url, headers=headers, timeout=30)


def test_a_signed_fetch_sees_what_the_signer_may_see(guarded: Node) -> None:
    factories.organisation(guarded)
    factories.person(guarded, "anna", org="gemeente-ede")
    factories.person(guarded, "rita", org="gemeente-ede", role="reviewer")
    assert guarded.cli("policy", "set", "--org", "gemeente-ede", "--check", "four-eyes", "--action",
                       "hold").code == 0
    anna = httpx.Client(base_url=guarded.url, timeout=30,
                        headers={"Authorization": f"Bearer {token_for(guarded, 'anna')}"})
    hostile = HostileServer()
    try:
        fan, stranger = hostile.actor("fan"), hostile.actor("stranger")
        anna_uri = f"{guarded.url}/users/anna"
        follow = {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{fan}/follows/{secrets.token_hex(4)}",
                  "type": "Follow", "actor": fan, "object": anna_uri}
        assert hostile.deliver(guarded, fan, follow).status_code == 202
        eventually(lambda: scalar(guarded.database_url, "SELECT count(*) FROM follows f JOIN accounts a "
                                  "ON a.id = f.follower_id WHERE a.actor_uri = $1 AND f.state = 'accepted'", fan),
                   until=lambda n: n == 1, what="the fan's follow")
        private = anna.post("/api/v1/statuses", json={"status": "Alleen voor volgers", "visibility": "private",
                                                      "voice": "personal"}).json()
        held = anna.post("/api/v1/statuses", json={"status": "Wacht op Rita", "voice": "official"}).json()
        held_uri = f"{anna_uri}/statuses/{held['policy']['status_id']}"

        assert httpx.get(private["uri"], headers={"Accept": "application/activity+json"}).status_code == 401
        assert _signed_get(hostile, fan, private["uri"]).status_code == 200
        assert "Alleen voor volgers" in _signed_get(hostile, fan, private["uri"]).text
        assert _signed_get(hostile, stranger, private["uri"]).status_code == 404
        for actor in (fan, stranger):
            assert _signed_get(hostile, actor, held_uri).status_code == 404
    finally:
        hostile.close()
        anna.close()
