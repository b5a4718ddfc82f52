"""A database outage under load (issue 12): the node's own PostgreSQL is stopped while posts, pages and
deliveries run, then started again. No request answers 500 at any time; while it is down the node answers 503
with Retry-After; every write acknowledged before or after the outage is kept; deliveries resume without a
restart of the node.

The node runs on its embedded PostgreSQL (no database URL), which the test stops and starts with pg_ctl, as an
operator's restart or a failover would.
"""

from __future__ import annotations

import os
import pathlib
import shlex
import subprocess
from collections.abc import Iterator

import httpx
import pgserver
import pytest

from tests import factories
from tests.federation.conftest import api, follow_remote
from tests.helpers.database import scalar
from tests.helpers.nodes import Node
from tests.helpers.polling import eventually

PG_CTL = pathlib.Path(pgserver.__file__).parent / "pginstall" / "bin" / "pg_ctl"


def _pg_ctl(pgdata: pathlib.Path, *args: str) -> None:
    command = [str(PG_CTL), "-D", str(pgdata), "-w", "-t", "60", *args]
    if os.geteuid() == 0:  # pgserver runs the server as its own user when started by root
        command = ["su", "pgserver", "-s", "/bin/sh", "-c", shlex.join(command)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, f"pg_ctl {args[0]}: {done.stdout} {done.stderr}"


def _restart_options(pgdata: pathlib.Path) -> str:
    """The options the server was started with (postmaster.opts), without the binary and the data dir."""
    words = shlex.split((pgdata / "postmaster.opts").read_text())[1:]
    kept = [w for i, w in enumerate(words) if w != "-D" and (i == 0 or words[i - 1] != "-D")]
    return shlex.join(kept)


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    node = Node(database_url="", data_dir=tmp_path_factory.mktemp("embedded")).start(timeout=120)
    yield node
    node.stop()
    # The server the test started again with pg_ctl is no longer pgserver's to stop: stop it here.
    pgdata = node.data_dir / "postgres"
    if (pgdata / "postmaster.pid").exists():
        _pg_ctl(pgdata, "stop", "-m", "fast")


def test_an_outage_answers_503_keeps_every_write_and_deliveries_resume(embedded: Node, burger: Node) -> None:
    factories.person(embedded, "anna")
    anna = api(embedded, "anna")
    bert = api(burger, "bert")
    follow_remote(bert, f"@anna@{embedded.domain}")
    before = anna.post("/api/v1/statuses", json={"status": "Voor de storing", "voice": "personal"})
    assert before.status_code == 200
    pgdata = embedded.data_dir / "postgres"
    options = _restart_options(pgdata)

    _pg_ctl(pgdata, "stop", "-m", "fast")
    answers: list[tuple[str, int, str | None]] = []
    for _ in range(3):
        for method, path, body in (("POST", "/api/v1/statuses", {"status": "Tijdens de storing"}),
                                   ("GET", "/api/v1/timelines/public", None), ("GET", "/public", None),
                                   ("GET", "/@anna", None), ("GET", "/api/v1/accounts/verify_credentials", None)):
            response = anna.request(method, path, json=body)
            answers.append((path, response.status_code, response.headers.get("retry-after")))
    assert all(status == 503 and retry for _, status, retry in answers), answers
    assert httpx.get(f"{embedded.url}/readyz").status_code == 503
    assert "Exception in ASGI application" not in embedded.log_path.read_text()

    _pg_ctl(pgdata, "start", "-o", options, "-l", str(pgdata / "restart.log"))
    after = eventually(lambda: anna.post("/api/v1/statuses", json={"status": "Na de storing", "voice": "personal"}),
                       until=lambda r: r.status_code == 200, timeout=60, what="a post after the outage")
    statuses = anna.get(f"/api/v1/accounts/{before.json()['account']['id']}/statuses").json()
    assert {s["id"] for s in statuses} >= {before.json()["id"], after.json()["id"]}
    eventually(lambda: scalar(burger.database_url, "SELECT count(*) FROM posts WHERE uri = $1", after.json()["uri"]),
               until=lambda n: n == 1, timeout=60, what="the post after the outage at burger")
    assert scalar(burger.database_url, "SELECT count(*) FROM posts WHERE uri = $1", before.json()["uri"]) == 1
    assert "Exception in ASGI application" not in embedded.log_path.read_text()
