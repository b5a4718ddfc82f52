"""`ambtenaar serve` and database commands fail as the README promises: one line on stderr, exit status 1, no
traceback and no password."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

from tests.helpers.nodes import REPO, free_port, node_env

PASSWORD = "Geheim-Wachtwoord-42"


def _run(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "server", *args, "--data-dir", str(tmp_path / "data")],
                          capture_output=True, text=True, env=node_env(), cwd=REPO, timeout=60)


def _closed_port() -> int:
    """A loopback port nothing listens on: bound (so nobody else takes it meanwhile) but not listening."""
    return free_port()


def test_serve_on_a_port_in_use_says_so_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        done = _run(["serve", "--host", "127.0.0.1", "--port", str(port),
                     "--database-url", f"postgresql://ambtenaar:{PASSWORD}@127.0.0.1:{_closed_port()}/ambtenaar"],
                    tmp_path)
    assert done.returncode == 1
    assert done.stderr == f"ambtenaar: error: port {port} is in use; choose another with --port\n"
    assert done.stdout == ""


def test_serve_with_an_unreachable_database_names_the_url_without_the_password(tmp_path: Path) -> None:
    port = _closed_port()
    url = f"postgresql://ambtenaar:{PASSWORD}@127.0.0.1:{port}/ambtenaar"
    done = _run(["serve", "--host", "127.0.0.1", "--port", str(free_port()), "--database-url", url], tmp_path)
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr == (f"ambtenaar: error: cannot reach the database at "
                           f"postgresql://ambtenaar@127.0.0.1:{port}/ambtenaar: connection refused\n")
    assert PASSWORD not in done.stderr + done.stdout
    assert "Traceback" not in done.stderr and "Error" not in done.stderr


def test_a_database_command_with_an_unreachable_database_gives_the_same_line(tmp_path: Path) -> None:
    port = _closed_port()
    # The password in the query string is hidden too, and DATABASE_URL is read like the flag.
    url = f"postgresql://ambtenaar@127.0.0.1:{port}/ambtenaar?password={PASSWORD}&sslmode=disable"
    done = subprocess.run([sys.executable, "-m", "server", "org", "list", "--data-dir", str(tmp_path / "data")],
                          capture_output=True, text=True, env=node_env({"DATABASE_URL": url}), cwd=REPO, timeout=60)
    assert done.returncode == 1
    assert done.stderr == (f"ambtenaar: error: cannot reach the database at "
                           f"postgresql://ambtenaar@127.0.0.1:{port}/ambtenaar?sslmode=disable: connection refused\n")
    assert PASSWORD not in done.stderr
