"""A post the organisation's checks hold does not leave the node until a reviewer approves it, then once."""

from __future__ import annotations

from tests import factories
from tests.federation.conftest import api, follow_remote
from tests.helpers.database import scalar
from tests.helpers.nodes import Node
from tests.helpers.polling import eventually


def test_held_post_reaches_the_other_node_only_after_approval_and_once(gemeente: Node, burger: Node) -> None:
    factories.person(gemeente, "rita", org="gemeente-ede", role="reviewer")
    assert gemeente.cli("policy", "set", "--org", "gemeente-ede", "--check", "four-eyes", "--action", "hold").code == 0
    anna, bert = api(gemeente, "anna"), api(burger, "bert")
    follow_remote(bert, f"@anna@{gemeente.domain}")

    held = anna.post("/api/v1/statuses", json={"status": "Eerst langs de controleur", "voice": "official"}).json()
    post_id = held["policy"]["status_id"]
    uri = f"{gemeente.url}/users/anna/statuses/{post_id}"
    rejected = anna.post("/api/v1/statuses", json={"status": "Dit gaat nooit weg", "voice": "official"}).json()
    assert gemeente.cli("review", "reject", rejected["policy"]["status_id"], "--by", "rita", "--reason", "Nee").code == 0
    personal = anna.post("/api/v1/statuses", json={"status": "Persoonlijk en meteen", "voice": "personal"}).json()
    # A personal post (no check holds it) arrives; by then the held one would have too, had it been sent.
    eventually(lambda: scalar(burger.database_url, "SELECT count(*) FROM posts WHERE uri = $1", personal["uri"]),
               lambda n: n == 1, what="the personal post at bert's node")
    assert scalar(gemeente.database_url, "SELECT count(*) FROM outbox_events WHERE subject_id = $1",
                  int(post_id)) == 0
    assert scalar(burger.database_url, "SELECT count(*) FROM posts WHERE uri = $1", uri) == 0

    assert gemeente.cli("review", "approve", post_id, "--by", "rita").code == 0
    eventually(lambda: scalar(burger.database_url, "SELECT count(*) FROM posts WHERE uri = $1", uri),
               lambda n: n == 1, what="the approved post at bert's node")
    assert scalar(burger.database_url, "SELECT count(*) FROM inbox_items WHERE activity_uri = $1",
                  f"{uri}/activity") == 1
    rejected_uri = f"{gemeente.url}/users/anna/statuses/{rejected['policy']['status_id']}"
    assert scalar(burger.database_url, "SELECT count(*) FROM posts WHERE uri = $1", rejected_uri) == 0
    assert gemeente.cli("policy", "set", "--org", "gemeente-ede", "--check", "four-eyes", "--action", "off").code == 0
