"""The Fedify peer harness (peers/README.md) seen from pytest: where it is, whether this machine is set up for it,
and a small client for one peer (its `peer` CLI to start and stop it, its JSON control API for everything else).

The harness folder is `$AMBTENAAR_PEERS_DIR`, else /tmp/peers: a writable copy of the shared, read-only peers/
folder on which `setup.sh` has run (hosts, CA and certificates, trust store, npm packages).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
from pathlib import Path
from typing import Any

import httpx

from tests.helpers.nodes import Node

DEFAULT_DIR = Path("/tmp/peers")
SYSTEM_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
OUR_HOST = "gemeente.test"
OUR_ADDRESS = "127.0.0.2"
PEER_ADDRESSES = {"burger.test": "127.0.0.10", "burger2.test": "127.0.0.11", "burger3.test": "127.0.0.12"}
CAVAGE = "draft-cavage-http-signatures-12"
RFC9421 = "rfc9421"


def peers_dir() -> Path:
    configured = os.environ.get("AMBTENAAR_PEERS_DIR", "").strip()
    return Path(configured) if configured else DEFAULT_DIR


def _resolves_to(host: str) -> str | None:
    try:
        return socket.gethostbyname(host)
    except OSError:
        return None


def harness_problem() -> str | None:
    """Why the interop tests cannot run on this machine, or None when everything they need is there."""
    folder = peers_dir()
    setup = f"copy the shared peers/ folder to {folder} (or set AMBTENAAR_PEERS_DIR) and run its setup.sh as root"
    if not (folder / "peer").is_file() or not (folder / "fedify-peer.mjs").is_file():
        return f"no Fedify peer harness in {folder}: {setup}"
    if not os.access(folder, os.W_OK):
        return f"{folder} is read-only (the peers keep pids and keys in run/): {setup}"
    node = shutil.which("node")
    if node is None:
        return "node is not installed (the peers need Node 20 or later)"
    version = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    if not version.startswith("v") or not version[1:].split(".")[0].isdigit() or int(version[1:].split(".")[0]) < 20:
        return f"node {version or '(unknown version)'} is too old; the peers need Node 20 or later"
    if not (folder / "node_modules" / "@fedify" / "fedify").is_dir():
        return f"the npm packages are missing in {folder}: run its setup.sh"
    for host in (OUR_HOST, *PEER_ADDRESSES):
        if not (folder / "certs" / f"{host}.crt").is_file() or not (folder / "certs" / f"{host}.key").is_file():
            return f"no certificate for {host} in {folder}/certs: run its setup.sh"
    for host, address in {OUR_HOST: OUR_ADDRESS, **PEER_ADDRESSES}.items():
        resolved = _resolves_to(host)
        if resolved != address:
            return f"{host} resolves to {resolved or 'nothing'}, not {address}: run {folder}/setup.sh"
    try:
        ca = (folder / "certs" / "ca.crt").read_text().strip()
        trusted = ca in SYSTEM_CA_BUNDLE.read_text()
    except OSError as exc:
        return f"cannot read the test CA or {SYSTEM_CA_BUNDLE}: {exc}"
    if not trusted:
        return f"the harness CA is not in {SYSTEM_CA_BUNDLE}: run {folder}/setup.sh"
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((OUR_ADDRESS, 443))
        except OSError as exc:
            return f"cannot listen on {OUR_ADDRESS}:443 ({exc.strerror}); it needs root and a free port"
    return None


def start_our_node(database_url: str, data_dir: Path, extra_env: dict[str, str] | None = None) -> Node:
    """Our node as gemeente.test: real HTTPS on 127.0.0.2:443 with the harness's certificate, trusting its CA."""
    certs = peers_dir() / "certs"
    return Node(database_url=database_url, data_dir=data_dir, host=OUR_ADDRESS, port=443, public_domain=OUR_HOST,
                scheme="https", tls_cert=str(certs / f"{OUR_HOST}.crt"), tls_key=str(certs / f"{OUR_HOST}.key"),
                ca_bundle=str(SYSTEM_CA_BUNDLE), extra_env=dict(extra_env or {})).start()


class Peer:
    """One Fedify peer: `start`/`stop` through the CLI, `call` and `received` through the control API."""

    def __init__(self, host: str, folder: Path | None = None) -> None:
        self.host = host
        self.folder = folder or peers_dir()
        self.control = f"http://127.0.0.1:{9000 + int(PEER_ADDRESSES[host].rsplit('.', 1)[1])}"
        self.api = httpx.Client(base_url=self.control, timeout=60)

    def actor(self, user: str = "jan") -> str:
        return f"https://{self.host}/users/{user}"

    @property
    def handle(self) -> str:
        return f"@jan@{self.host}"

    def cli(self, *args: str) -> dict[str, Any]:
        done = subprocess.run([str(self.folder / "peer"), *args], capture_output=True, text=True, timeout=120,
                              cwd=self.folder)
        try:
            answer: dict[str, Any] = json.loads(done.stdout)
        except ValueError:
            raise AssertionError(f"peer {' '.join(args)} answered no JSON (status {done.returncode}):\n"
                                 f"{done.stdout[-2000:]}\n{done.stderr[-2000:]}") from None
        return answer

    def start(self, *options: str) -> Peer:
        """A fresh peer (its state is in memory only): whatever ran on this host before is stopped first."""
        self.cli("stop", self.host)
        answer = self.cli("start", self.host, *options)
        assert answer.get("ok") and not answer.get("already_running"), answer
        return self

    def stop(self) -> None:
        self.api.close()
        self.cli("stop", self.host)

    def call(self, method: str, path: str, **body: Any) -> dict[str, Any]:
        response = self.api.request(method, path, json=body if method != "GET" else None,
                                    params=body if method == "GET" else None)
        answer: dict[str, Any] = response.json()
        return answer

    def received(self, **query: Any) -> list[dict[str, Any]]:
        """What arrived (POST /received); waits up to `wait` seconds for `min` matches, like the CLI."""
        answer = self.call("POST", "/received", **query)
        assert answer.get("ok") is not False or "count" in answer, answer
        return list(answer.get("activities", []))

    def outgoing_posts(self, to_host: str) -> list[dict[str, Any]]:
        """Every POST this peer sent to `to_host`, with its signature scheme and the status it got."""
        entries = self.call("GET", "/log/outgoing")["entries"]
        return [e for e in entries if e.get("method") == "POST" and e.get("url", "").startswith(f"https://{to_host}/")]
