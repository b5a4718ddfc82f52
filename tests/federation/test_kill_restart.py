"""A worker killed in the middle of a fan-out (issue 12, one queue module): SIGKILL of `ambtenaar serve` (embedded
PostgreSQL, in-process worker), or of a separate `ambtenaar worker`, while a post goes to 1,000 inboxes; then the
same command again on the same data dir. Every inbox gets the post, signed by the node, within 30 s of the restart;
none is lost; and only deliveries that were in flight at the kill (leased, not yet recorded) may arrive twice.

Before, the killed worker's leases ran 2 minutes: measured with 1,000 followers killed at 200 delivered, the last
inbox had the post 120 s after the restart. Now the starting worker sees that the killed one's advisory lock is
gone (server/db/queue.py) and takes its leases back at once.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import asyncpg
import httpx
import pytest

from federation import signatures
from server import accounts, follows
from server.accounts import RemoteProfile
from tests import factories
from tests.federation.conftest import token_for
from tests.helpers.database import fetch, scalar
from tests.helpers.inbox_sink import InboxSink
from tests.helpers.nodes import Node, free_port
from tests.helpers.polling import eventually

FOLLOWERS = 1000
KILL_AT = 200
RESTART_BUDGET = 30.0


def embedded_url(node: Node) -> str:
    from pgserver.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(node.data_dir.resolve() / "postgres")
    assert info is not None and info.is_running(), "the node's embedded PostgreSQL is not running"
    return str(info.get_uri(database="ambtenaar"))


def stop_embedded_postgres(data_dir: Path) -> None:
    """The killed process never let go of its handle, so pgserver would leave the server running: stop it (fast
    shutdown) by the pid in its own postmaster.pid."""
    from pgserver.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(data_dir.resolve() / "postgres")
    if info is None or not info.is_running():
        return
    os.kill(info.pid, signal.SIGINT)
    eventually(lambda: info.process is not None and info.process.is_running(), until=lambda running: not running,
               timeout=30, what="the embedded PostgreSQL stopping")


async def _insert_followers(url: str, followed: str, inboxes: list[str]) -> None:
    """Remote followers through the domain functions, one shared inbox each (on the sink's 20 hosts)."""
    conn = await asyncpg.connect(url)
    try:
        now = datetime.now(timezone.utc)
        async with conn.transaction():
            target = await accounts.get_account_by_username(conn, followed)
            assert target is not None
            for i, inbox in enumerate(inboxes):
                domain = inbox.split("/")[2]
                actor = f"http://{domain}/users/f{i}"
                follower = await accounts.upsert_remote_account(conn, RemoteProfile(
                    actor_uri=actor, username=f"f{i}", domain=domain, actor_type="Person", display_name=f"F {i}",
                    summary_html="", profile_url=actor, inbox_uri=f"{actor}/inbox", shared_inbox_uri=inbox,
                    followers_uri=None, key_id=f"{actor}#main-key", public_key_pem=None, avatar_url=None,
                    manually_approves_followers=False), now + timedelta(milliseconds=i))  # ids sort by time
                await follows.insert_follow(conn, follower.id, target.id, now)
    finally:
        await conn.close()


@pytest.fixture
def sink() -> Iterator[InboxSink]:
    farm = InboxSink(free_port(), free_port(), hosts=20, delay=0.3).start()
    yield farm
    farm.stop()


@pytest.fixture
def embedded_node(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Node]:
    """A node on its own embedded PostgreSQL (no --database-url), in-process worker on or off."""
    in_process = request.param == "serve"
    node = Node(database_url="", data_dir=tmp_path / "node",
                extra_env={"AMBTENAAR_IN_PROCESS_WORKER": "true" if in_process else "false"}).start(timeout=120)
    try:
        yield node
    finally:
        node.stop()
        stop_embedded_postgres(node.data_dir)


def _verified(arrival: dict[str, object], inbox: str, public_pem: str) -> bool:
    headers = dict(arrival["headers"])  # type: ignore[call-overload]
    body = str(arrival["body"]).encode()
    key = signatures.load_public_key(public_pem)
    try:
        signatures.verify_request("POST", inbox, headers, body, key, datetime.now(timezone.utc))
    except signatures.SignatureError:
        return False
    return True


@pytest.mark.parametrize("embedded_node", ["serve", "worker"], indirect=True)
def test_a_killed_worker_fan_out_continues_after_restart(embedded_node: Node, sink: InboxSink) -> None:
    node = embedded_node
    in_process = node.extra_env["AMBTENAAR_IN_PROCESS_WORKER"] == "true"
    factories.person(node, "anna", display_name="Anna")
    token = token_for(node, "anna")
    actor = httpx.get(f"{node.url}/users/anna", headers={"Accept": "application/activity+json"}).json()
    url = embedded_url(node)
    inboxes = [sink.inbox(i) for i in range(FOLLOWERS)]
    asyncio.run(_insert_followers(url, "anna", inboxes))
    worker: subprocess.Popen[bytes] | None = None if in_process else node.spawn("worker")

    post = httpx.post(f"{node.url}/api/v1/statuses", headers={"Authorization": f"Bearer {token}"},
                      data={"status": "Werkzaamheden aan de Stationsweg", "visibility": "public"}, timeout=30)
    assert post.status_code == 200, post.text
    eventually(lambda: len(sink.counts()), until=lambda n: n >= KILL_AT, timeout=60, interval=0.02,
               what=f"{KILL_AT} inboxes reached before the kill")
    victim = node.process if in_process else worker
    assert victim is not None
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    before = sink.counts()
    # What the killed worker held: leased, not recorded. Only these may be sent twice.
    in_flight = {r["inbox_uri"] for r in fetch(
        url, "SELECT inbox_uri FROM deliveries WHERE state = 'pending' AND locked_by IS NOT NULL")}
    sent_before = scalar(url, "SELECT count(*) FROM deliveries WHERE state = 'sent'")
    assert KILL_AT <= len(before) < FOLLOWERS, f"killed too late to show anything: {len(before)} reached"
    assert in_flight, "nothing was in flight at the kill"

    restarted = time.monotonic()
    if in_process:
        (node.data_dir / "server.log").rename(node.data_dir / "server-killed.log")
        node.start(timeout=RESTART_BUDGET)
    else:
        worker = node.spawn("worker")
    try:
        counts = eventually(sink.counts, until=lambda c: len(c) == FOLLOWERS, timeout=RESTART_BUDGET,
                            interval=0.1, what="every inbox reached after the restart")
        took = time.monotonic() - restarted
        eventually(lambda: scalar(url, "SELECT count(*) FROM deliveries WHERE state = 'sent'"),
                   until=lambda n: n == FOLLOWERS, timeout=10, what="every delivery recorded as sent")
    finally:
        if worker is not None and worker.poll() is None:
            worker.terminate()
            worker.wait(timeout=20)
    assert took <= RESTART_BUDGET
    twice = {path for path, n in counts.items() if n > 1}
    assert twice <= in_flight, f"sent twice though not in flight at the kill: {sorted(twice - in_flight)[:5]}"
    assert all(n <= 2 for n in counts.values())
    assert sent_before + len(in_flight) <= FOLLOWERS

    # Really signed by the node: every first arrival verifies with anna's key, and carries the post.
    arrivals = sink.arrivals()["first"]
    public_pem = actor["publicKey"]["publicKeyPem"]
    assert all(post.json()["uri"] in arrivals[i]["body"] for i in inboxes)
    assert all(_verified(arrivals[i], i, public_pem) for i in inboxes)
