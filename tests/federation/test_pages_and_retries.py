"""Remote people on our pages, a receiver that was down, and several workers sharing one queue."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from tests import factories
from tests.federation.conftest import api
from tests.helpers.database import TestPostgres, fetch, scalar
from tests.helpers.nodes import Node, free_port
from tests.helpers.polling import eventually
from tests.helpers.web import WebClient


def test_remote_reply_on_our_post_page_and_search(gemeente: Node, burger: Node) -> None:
    person = WebClient(burger.url, language="en")
    assert person.login("bert", factories.PASSWORD).status_code == 303
    results = person.get("/search", params={"q": f"@anna@{gemeente.domain}"})
    assert results.status_code == 200 and f"@anna@{gemeente.domain}" in results.text
    remote_id = scalar(burger.database_url, "SELECT id FROM accounts WHERE username = 'anna' AND domain = $1",
                       gemeente.domain)
    assert person.post(f"/accounts/{remote_id}/follow").status_code == 303
    eventually(lambda: scalar(burger.database_url, "SELECT state FROM follows WHERE followed_id = $1", remote_id),
               lambda s: s == "accepted", what="the accepted follow")
    profile = person.get(f"/accounts/{remote_id}").text
    assert "Dit account staat op een andere server." in profile and "Ontvolgen" in profile  # bert reads Dutch

    anna = api(gemeente, "anna")
    post = anna.post("/api/v1/statuses", json={"status": "Wie komt er naar de inloopavond?", "voice": "official"}
                     ).json()
    copy_id = eventually(lambda: scalar(burger.database_url, "SELECT id FROM posts WHERE uri = $1", post["uri"]),
                         what="the post at bert's node")
    page = person.get(f"/posts/{copy_id}").text
    assert "Wie komt er naar de inloopavond?" in page and f"Origineel op {gemeente.domain}" in page
    reply = person.post("/compose", {"text": "Ik kom!", "visibility": "public", "voice": "personal",
                                     "in_reply_to_id": str(copy_id)})
    assert reply.status_code == 303
    eventually(lambda: WebClient(gemeente.url, language="en").get(f"/@anna/{post['id']}").text,
               lambda html: "Ik kom!" in html and f"@bert@{burger.domain}" in html,
               what="bert's reply on anna's post page")
    person.post(f"/accounts/{remote_id}/unfollow")


def test_a_receiver_that_was_down_gets_the_post_when_it_is_back(gemeente: Node, postgres: TestPostgres,
                                                                tmp_path_factory: pytest.TempPathFactory) -> None:
    receiver = Node(database_url=postgres.fresh_database(), data_dir=tmp_path_factory.mktemp("receiver")).start()
    try:
        factories.person(receiver, "carla")
        carla = api(receiver, "carla")
        found = carla.get("/api/v2/search", params={"q": f"@anna@{gemeente.domain}", "resolve": "true"}).json()
        carla.post(f"/api/v1/accounts/{found['accounts'][0]['id']}/follow")
        eventually(lambda: scalar(receiver.database_url, "SELECT state FROM follows"), lambda s: s == "accepted",
                   what="carla's follow accepted")
        receiver.stop()
        post = api(gemeente, "anna").post("/api/v1/statuses", json={"status": "Terwijl Carla weg was"}).json()
        failed = eventually(lambda: fetch(gemeente.database_url, "SELECT attempts, state, next_attempt_at FROM "
                                          "deliveries WHERE inbox_uri LIKE $1 AND last_error IS NOT NULL",
                                          f"{receiver.url}%"), bool, what="a failed first attempt")
        assert failed[0]["state"] == "pending"
        # Bring the receiver back on the same address, and make the retry due now rather than in 30 s.
        receiver.start()
        fetch(gemeente.database_url, "UPDATE deliveries SET next_attempt_at = now() WHERE state = 'pending'")
        eventually(lambda: scalar(receiver.database_url, "SELECT count(*) FROM posts WHERE uri = $1", post["uri"]),
                   lambda n: n == 1, timeout=30, what="the post after the receiver came back")
    finally:
        receiver.stop()


class _Sink(BaseHTTPRequestHandler):
    counts: Counter[str] = Counter()
    lock = threading.Lock()

    def do_POST(self) -> None:  # noqa: N802 - the name http.server expects
        self.rfile.read(int(self.headers.get("content-length", "0")))
        with self.lock:
            self.counts[self.path] += 1
        self.send_response(202)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def sink() -> Iterator[tuple[str, Counter[str]]]:
    _Sink.counts = Counter()
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), _Sink)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Sink.counts
    server.shutdown()


def test_two_workers_deliver_each_item_once(postgres: TestPostgres, tmp_path_factory: pytest.TempPathFactory,
                                            sink: tuple[str, Counter[str]]) -> None:
    """Two `ambtenaar worker` processes on one queue: 300 inboxes, each gets the activity exactly once."""
    url, counts = sink
    database = postgres.fresh_database()
    web = Node(database_url=database, data_dir=tmp_path_factory.mktemp("queue"),
               extra_env={"AMBTENAAR_IN_PROCESS_WORKER": "false"}).start()
    workers = []
    try:
        factories.person(web, "anna")
        httpx.get(f"{web.url}/users/anna", headers={"Accept": "application/activity+json"})  # makes her key
        inboxes = [f"{url}/inbox/{i}" for i in range(300)]
        activity = {"id": f"{web.url}/users/anna#test/1", "type": "Create", "actor": f"{web.url}/users/anna"}
        fetch(database, "WITH a AS (INSERT INTO outbound_activities (activity_uri, signer_id, body) "
              "SELECT $1, id, $2 FROM accounts WHERE username = 'anna' RETURNING id) "
              "INSERT INTO deliveries (activity_id, inbox_uri, domain) SELECT a.id, i, '127.0.0.1' "
              "FROM a, unnest($3::text[]) AS i", activity["id"], json.dumps(activity).encode(), inboxes)
        for _ in range(2):
            worker = Node(database_url=database, data_dir=web.data_dir, port=web.port)
            workers.append(worker.spawn("worker"))
        eventually(lambda: sum(counts.values()), lambda n: n >= 300, timeout=60, what="all 300 deliveries")
        assert set(counts) == {f"/inbox/{i}" for i in range(300)}
        assert max(counts.values()) == 1
        eventually(lambda: scalar(database, "SELECT count(*) FROM deliveries WHERE state = 'sent'"),
                   lambda n: n == 300, what="every delivery recorded as sent")
        assert max(counts.values()) == 1
    finally:
        for process in workers:
            process.terminate()
            process.wait(timeout=20)
        web.stop()
