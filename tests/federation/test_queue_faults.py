"""Federation keeps running through a fault in one item (issue 12's poison item): an outbox event whose builder
raises records its error and is retried later, while a post published after it still reaches the other node and
the worker stays alive. Before, the whole batch failed with it, for ever, and an unexpected exception type ended
the worker loop.
"""

from __future__ import annotations

import json

import httpx

from tests.federation.conftest import api, follow_remote
from tests.helpers.database import fetch, scalar
from tests.helpers.nodes import Node
from tests.helpers.polling import eventually


def test_a_poison_event_does_not_hold_up_the_posts_after_it(gemeente: Node, burger: Node) -> None:
    anna, bert = api(gemeente, "anna"), api(burger, "bert")
    follow_remote(bert, f"@anna@{gemeente.domain}")
    anna_id = scalar(gemeente.database_url, "SELECT id FROM accounts WHERE username = 'anna' AND domain IS NULL")
    # A malformed row, as a bug in an older version could leave behind: its builder raises ValueError.
    poison = scalar(gemeente.database_url, "INSERT INTO outbox_events (kind, subject_id, actor_id, detail) VALUES "
                    "('report.forwarded', 1, $1, '{\"account_id\": \"geen getal\"}') RETURNING id", anna_id)
    post = anna.post("/api/v1/statuses", json={"status": "Na het giftige bericht", "voice": "personal"}).json()
    eventually(lambda: scalar(burger.database_url, "SELECT count(*) FROM posts WHERE uri = $1", post["uri"]),
               until=lambda n: n == 1, what="the post at burger, past the poison event")
    row = fetch(gemeente.database_url, "SELECT attempts, last_error, processed_at, next_attempt_at > now() AS later "
                "FROM outbox_events WHERE id = $1", poison)[0]
    assert row["attempts"] == 1 and row["processed_at"] is None and row["later"]
    assert row["last_error"].startswith("ValueError")
    ready = httpx.get(f"{gemeente.url}/readyz").json()
    assert ready["worker"] == "ok", ready
    # A second post still goes: the worker is alive, not just past one batch.
    again = anna.post("/api/v1/statuses", json={"status": "En nog een", "voice": "personal"}).json()
    eventually(lambda: scalar(burger.database_url, "SELECT count(*) FROM posts WHERE uri = $1", again["uri"]),
               until=lambda n: n == 1, what="the second post at burger")


def test_a_poison_inbox_item_and_delivery_do_not_hold_up_the_others(gemeente: Node, burger: Node) -> None:
    """The same for the other two queues: an inbox item whose activity cannot be read (at burger) and a delivery to
    an address that cannot be sent to (at gemeente) record their errors on their rows and are tried again later;
    the post after them arrives all the same."""
    anna = api(gemeente, "anna")
    anna_uri = f"{gemeente.url}/users/anna"
    bad_item = scalar(burger.database_url, "INSERT INTO inbox_items (activity_uri, actor_uri, activity) VALUES "
                      "($1, $2, $3::jsonb) RETURNING id", f"{anna_uri}#giftig", anna_uri,
                      json.dumps({"id": f"{anna_uri}#giftig", "actor": anna_uri, "object": 42}))  # no type
    bad_delivery = scalar(gemeente.database_url, """
        WITH a AS (INSERT INTO outbound_activities (activity_uri, signer_id, body)
                   SELECT $1, id, '{}' FROM accounts WHERE username = 'anna' AND domain IS NULL RETURNING id)
        INSERT INTO deliveries (activity_id, inbox_uri, domain) SELECT id, 'http://[nergens/inbox', '[nergens'
        FROM a RETURNING id""", f"{anna_uri}#giftig")
    post = anna.post("/api/v1/statuses", json={"status": "Langs de giftige rijen", "voice": "personal"}).json()
    eventually(lambda: scalar(burger.database_url, "SELECT count(*) FROM posts WHERE uri = $1", post["uri"]),
               until=lambda n: n == 1, what="the post at burger, past the poison rows")
    item = eventually(lambda: fetch(burger.database_url, "SELECT state, attempts, last_error, locked_by, "
                                    "next_attempt_at > now() AS later FROM inbox_items WHERE id = $1", bad_item)[0],
                      until=lambda r: r["attempts"] == 1 and r["last_error"], what="the inbox item's error")
    assert item["state"] == "pending" and item["later"] and item["locked_by"] is None, item
    sent = eventually(lambda: fetch(gemeente.database_url, "SELECT state, attempts, last_error, locked_by, "
                                    "next_attempt_at > now() AS later FROM deliveries WHERE id = $1", bad_delivery)[0],
                      until=lambda r: r["attempts"] == 1 and r["last_error"], what="the delivery's error")
    assert sent["state"] == "pending" and sent["later"] and sent["locked_by"] is None, sent
    for node in (gemeente, burger):
        ready = httpx.get(f"{node.url}/readyz").json()
        assert ready["worker"] == "ok", ready
