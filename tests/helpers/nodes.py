"""Real node processes for tests: `python -m server serve` on a free loopback port with its own database."""

from __future__ import annotations

import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def node_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMBTENAAR_") and k != "DATABASE_URL"}
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("XDG_RUNTIME_DIR", tempfile.gettempdir())
    env.update(extra or {})
    return env


@dataclass
class CliResult:
    code: int
    out: str
    err: str


# Every server process the tests started, so the session can stop those a fixture left running when its set-up
# failed after start() (tests/conftest.py: pytest_sessionfinish): CI stops every process it started.
STARTED: list[subprocess.Popen[bytes]] = []


def stop_leftovers() -> int:
    """Stop (SIGTERM, then SIGKILL after 20 s) every started process still running; how many there were."""
    running = [p for p in STARTED if p.poll() is None]
    for process in running:
        process.send_signal(signal.SIGTERM)
    for process in running:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    STARTED.clear()
    return len(running)


@dataclass
class Node:
    database_url: str
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    # A public name and HTTPS (interop tests against other servers); by default http://host:port.
    public_domain: str = ""
    scheme: str = "http"
    tls_cert: str = ""
    tls_key: str = ""
    ca_bundle: str = ""
    # The node's default is "staff" (admins and moderators sign in with a second factor); nodes under test run
    # with "none" unless a test asks, so that the other suites' admins sign in with a password alone.
    require_2fa_for: str = "none"
    # One web process unless a test asks for more (the node's default is one per core): the suites start many
    # nodes, and CI's two cores would run twice the processes for nothing.
    web_processes: int = 1

    @property
    def domain(self) -> str:
        return self.public_domain or f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.domain}"

    def settings_flags(self) -> list[str]:
        flags = ["--domain", self.domain, "--data-dir", str(self.data_dir), "--host", self.host,
                 "--port", str(self.port), "--allow-private-addresses"]
        if self.database_url:
            flags += ["--database-url", self.database_url]
        if self.scheme != "http":
            flags += ["--scheme", self.scheme]
        if self.tls_cert:
            flags += ["--tls-cert", self.tls_cert, "--tls-key", self.tls_key]
        if self.ca_bundle:
            flags += ["--ca-bundle", self.ca_bundle]
        return flags + ["--require-2fa-for", self.require_2fa_for, "--web-processes", str(self.web_processes)]

    def verify(self) -> ssl.SSLContext | bool:
        """What httpx needs to trust this node: the CA bundle when one is set, else httpx's default."""
        return ssl.create_default_context(cafile=self.ca_bundle) if self.ca_bundle else True

    def cli(self, *args: str, stdin: str | None = None) -> CliResult:
        """Run `python -m server ARGS` against this node's database, as an admin would."""
        done = subprocess.run([sys.executable, "-m", "server", *args, *self.settings_flags()], input=stdin,
                              capture_output=True, text=True, env=node_env(self.extra_env), cwd=REPO, timeout=120)
        return CliResult(done.returncode, done.stdout, done.stderr)

    def spawn(self, command: str) -> subprocess.Popen[bytes]:
        """Another `python -m server COMMAND` process on this node's database (e.g. `worker`)."""
        log = (self.data_dir / f"{command}-{len(list(self.data_dir.glob(command + '-*.log')))}.log").open("wb")
        process = subprocess.Popen([sys.executable, "-m", "server", command, *self.settings_flags()], stdout=log,
                                   stderr=subprocess.STDOUT, env=node_env(self.extra_env), cwd=REPO)
        STARTED.append(process)
        return process

    def start(self, timeout: float = 60.0) -> Node:
        self.log_path = self.data_dir / "server.log"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("wb")
        self.process = subprocess.Popen([sys.executable, "-m", "server", "serve", *self.settings_flags()],
                                        stdout=log, stderr=subprocess.STDOUT, env=node_env(self.extra_env), cwd=REPO)
        STARTED.append(self.process)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"node exited early:\n{self.log_path.read_text()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1, verify=self.verify()).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"node did not become ready in {timeout}s:\n{self.log_path.read_text()}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
