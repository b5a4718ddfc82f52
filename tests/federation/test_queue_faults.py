"""Federation keeps running through a fault in one item (issue 12's poison item): an outbox event whose builder
raises records its error and is retried later, while a post published after it still reaches the other node and
the worker stays alive. Before, the whole batch failed with it, for ever, and an unexpected exception type ended
the worker loop.
"""

from __future__ import annotations

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
