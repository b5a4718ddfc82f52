"""`ambtenaar serve --web-processes 2`: two real web processes on one port, one PostgreSQL, real HTTP.

Which process answered is the `pid` in /readyz; the children of the serving process are read from /proc. Shown
here: both processes answer on the one port and exactly one of them runs the in-process worker; a streaming event
made through one process reaches a stream held by the other (PostgreSQL NOTIFY); a child that dies is replaced; a
child that cannot start stops the node with one line; SIGTERM stops every child and the embedded PostgreSQL the
supervisor started once; a bad --web-processes is one line and exit status 1.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests import factories
from tests.federation.conftest import token_for
from tests.helpers.database import TestPostgres
from tests.helpers.nodes import REPO, Node, free_port, node_env
from tests.helpers.polling import eventually

MAX_TRIES = 400  # fresh connections to ask before concluding that a process never answers


def children(pid: int, *, only_web: bool = True) -> set[int]:
    """The web processes under `pid`: its spawned children (not multiprocessing's resource tracker, unless
    `only_web` is false)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:  # it ended meanwhile
            continue
        parent = int(stat.rpartition(")")[2].split()[1])
        if parent == pid and (b"spawn_main" in cmdline or not only_web):
            found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def readiness(node: Node) -> dict[str, object]:
    """/readyz on a new connection, so that any of the processes may take it."""
    answer = httpx.get(f"{node.url}/readyz", timeout=30, headers={"Connection": "close"})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def answers_by_pid(node: Node, want: int) -> dict[int, dict[str, object]]:
    """Ask on fresh connections, four at a time, until `want` processes have answered (or MAX_TRIES)."""
    seen: dict[int, dict[str, object]] = {}
    with ThreadPoolExecutor(4) as pool:
        for _ in range(MAX_TRIES // 4):
            for ready in pool.map(lambda _: readiness(node), range(4)):
                seen[int(ready["pid"])] = ready  # type: ignore[call-overload]
            if len(seen) >= want:
                break
    return seen


def client_port(answer: httpx.Response) -> int:
    """The local port of the connection an answer came on: the same port, the same connection and process."""
    return int(answer.extensions["network_stream"].get_extra_info("client_addr")[1])


def client_on(node: Node, pid: int, headers: dict[str, str]) -> tuple[httpx.Client, int]:
    """A client whose one kept-alive connection is served by `pid`, and that connection's local port."""
    for _ in range(MAX_TRIES):
        client = httpx.Client(base_url=node.url, headers=headers, timeout=30,
                              limits=httpx.Limits(max_connections=1, max_keepalive_connections=1))
        with client.stream("GET", "/readyz") as answer:
            answer.read()
            if answer.json()["pid"] == pid:
                return client, client_port(answer)
        client.close()
    raise AssertionError(f"process {pid} took none of {MAX_TRIES} connections")


@pytest.fixture(scope="module")
def two(postgres: TestPostgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    node = Node(database_url=postgres.fresh_database(), data_dir=tmp_path_factory.mktemp("two"),
                web_processes=2).start(timeout=120)
    try:
        factories.person(node, "anna", display_name="Anna")
        factories.person(node, "fien", display_name="Fien")
        yield node
    finally:
        node.stop()


def test_two_processes_answer_on_one_port_and_one_runs_the_worker(two: Node) -> None:
    assert two.process is not None
    pids = children(two.process.pid)
    assert len(pids) == 2
    seen = answers_by_pid(two, 2)
    assert set(seen) == pids
    assert sorted(str(ready["worker"]) for ready in seen.values()) == ["ok", "separate"]
    assert two.log_path is not None
    started = [json.loads(line) for line in two.log_path.read_text().splitlines()
               if '"web process started"' in line]
    assert sorted(entry["worker"] for entry in started) == [False, True]


def test_an_event_made_through_one_process_reaches_a_stream_on_the_other(two: Node) -> None:
    assert two.process is not None
    first, second = sorted(children(two.process.pid))
    anna = {"Authorization": f"Bearer {token_for(two, 'anna')}"}
    fien = {"Authorization": f"Bearer {token_for(two, 'fien')}"}
    writer, writer_port = client_on(two, first, anna)
    reader, port = client_on(two, second, fien)
    try:
        with reader.stream("GET", "/api/v1/streaming/public/local") as stream:
            assert stream.status_code == 200
            # The same connection as the /readyz that `second` answered: the stream is held by that process.
            assert client_port(stream) == port
            lines = stream.iter_lines()
            assert next(lines) == ":)"
            post = writer.post("/api/v1/statuses", json={"status": "Via het andere proces", "visibility": "public"})
            assert post.status_code == 200, post.text
            assert client_port(post) == writer_port  # the post went through the other process
            event = next(line for line in lines if line.startswith("event: "))
            assert event == "event: update"
            assert json.loads(next(lines).removeprefix("data: "))["id"] == post.json()["id"]
    finally:
        writer.close()
        reader.close()


def test_a_child_that_dies_is_replaced_and_the_worker_stays_single(two: Node) -> None:
    assert two.process is not None
    before = children(two.process.pid)
    seen = answers_by_pid(two, 2)
    worker_pid = next(pid for pid, ready in seen.items() if ready["worker"] == "ok")
    os.kill(worker_pid, signal.SIGKILL)
    after = eventually(lambda: children(two.process.pid), lambda now: len(now) == 2 and worker_pid not in now,  # type: ignore[union-attr]
                       timeout=60, what="a replacement web process")
    assert len(after - before) == 1
    seen = eventually(lambda: answers_by_pid(two, 2), lambda s: set(s) == after, timeout=120,
                      what="both processes answering")
    assert sorted(str(ready["worker"]) for ready in seen.values()) == ["ok", "separate"]
    assert seen[next(iter(after - before))]["worker"] == "ok"  # the replacement took the worker over


def test_sigterm_stops_every_child_and_the_embedded_postgresql(tmp_path: Path) -> None:
    from pgserver.utils import PostmasterInfo

    node = Node(database_url="", data_dir=tmp_path / "node", web_processes=2).start(timeout=180)
    try:
        assert node.process is not None and node.log_path is not None
        pids = children(node.process.pid)
        assert len(pids) == 2 and len(answers_by_pid(node, 2)) == 2
        everyone = children(node.process.pid, only_web=False)  # and multiprocessing's resource tracker
        postmaster = PostmasterInfo.read_from_pgdata(node.data_dir.resolve() / "postgres")
        assert postmaster is not None and postmaster.is_running()
        node.process.send_signal(signal.SIGTERM)
        assert node.process.wait(timeout=60) == 0
        log = node.log_path.read_text()
    finally:
        node.stop()
    assert not [pid for pid in pids if alive(pid)]  # the supervisor waited for its web processes
    eventually(lambda: [pid for pid in everyone if alive(pid)], lambda left: not left, timeout=30,
               what="every process the node started ending")
    assert not alive(postmaster.pid)
    # Started once, by the supervisor: the children were given its URL.
    assert log.count('"embedded PostgreSQL started"') == 1


def _serve(*flags: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "server", "serve", "--host", "127.0.0.1",
                           "--port", str(free_port()), "--data-dir", str(data_dir), *flags],
                          capture_output=True, text=True, env=node_env(), cwd=REPO, timeout=120)


@pytest.mark.parametrize(("value", "message"), [
    ("twee", "--web-processes / AMBTENAAR_WEB_PROCESSES must be a whole number, not 'twee'"),
    ("-1", "--web-processes / AMBTENAAR_WEB_PROCESSES must not be negative"),
    ("1000", "--web-processes must be at most 64 (0: one per core), not 1000"),
])
def test_a_bad_number_of_processes_is_one_line(tmp_path: Path, value: str, message: str) -> None:
    done = _serve(f"--web-processes={value}", data_dir=tmp_path)
    assert (done.returncode, done.stderr, done.stdout) == (1, f"ambtenaar: error: {message}\n", "")


def test_a_child_that_cannot_start_stops_the_node_with_one_line(postgres: TestPostgres, tmp_path: Path) -> None:
    missing = str(tmp_path / "no-such-cert.pem")
    done = _serve("--web-processes", "2", "--database-url", postgres.fresh_database(), "--tls-cert", missing,
                  "--tls-key", missing, data_dir=tmp_path)
    assert done.returncode == 1
    last = done.stderr.splitlines()[-1]
    assert re.fullmatch(r"ambtenaar: error: web process [01] did not start; the log above says why", last), last
