"""Shared pieces of the federation benchmarks (delivery_fanout, inbox_ingest, post_latency, memory).

Owns: a PostgreSQL for one benchmark run (embedded pgserver in a temp folder, or DATABASE_URL), real node and worker
processes (tests/helpers/nodes.py), an account with an API token, bulk-inserted remote followers, a TLS "inbox
farm" sink process with per-host behaviour (live, slow, 503; refused = an address nothing listens on), RSS
sampling from /proc, and percentiles. Never: sends traffic outside 127.0.0.0/8; leaves a process running (every
process started here is stopped by the context managers, by its own pid).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import multiprocessing
import os
import platform
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.named_farm import NamedFarm, make_wildcard_cert, run_named_sink  # noqa: E402
from tests.helpers.database import fetch, scalar, test_postgres  # noqa: E402
from tests.helpers.nodes import Node, free_port  # noqa: E402

PASSWORD = "bench-password-Zq8!x"


# ---------------------------------------------------------------- environment

def sign_rate(seconds: float = 1.0) -> float:
    """RSA-2048 PKCS1v15-SHA256 signatures per second on one core right now: the yardstick for a noisy machine
    (docs/benchmarks.md divides by it; PERFORMANCE.md measured 4,040/s on a quiet day)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    message = b"x" * 300
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        key.sign(message, padding.PKCS1v15(), hashes.SHA256())
        count += 1
    return count / (time.perf_counter() - started)


def machine_line() -> str:
    load = os.getloadavg()
    return (f"{dt.date.today().isoformat()}, {platform.node()}: {os.cpu_count()} CPUs, Python "
            f"{platform.python_version()}, load average {load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f}, "
            f"RSA-2048 signs/s on one core now {sign_rate():.0f}")


@contextlib.contextmanager
def postgres() -> Iterator[Any]:
    """A PostgreSQL server with a migrated template (DATABASE_URL if set, else embedded pgserver, removed after)."""
    with test_postgres(os.environ.get("DATABASE_URL")) as server:
        yield server


# ---------------------------------------------------------------- nodes and workers

@dataclass
class Cluster:
    """One web node (`serve`) and any number of `ambtenaar worker` processes on one database."""

    database_url: str
    data_dir: Path
    in_process_worker: bool = False
    ca_bundle: str = ""
    log_level: str = "warning"
    extra_env: dict[str, str] = field(default_factory=dict)
    web: Node | None = None
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        return {"AMBTENAAR_IN_PROCESS_WORKER": "true" if self.in_process_worker else "false",
                "AMBTENAAR_API_RATE_LIMIT": "1000000", "AMBTENAAR_LOG_LEVEL": self.log_level,
                # The inbox limits stay on (their counting is part of the cost measured) but never trip.
                "AMBTENAAR_INBOX_RATE_LIMIT_DOMAIN": "100000000", "AMBTENAAR_INBOX_RATE_LIMIT_ACTOR": "100000000",
                **self.extra_env}

    def start(self) -> Cluster:
        self.web = Node(database_url=self.database_url, data_dir=self.data_dir, ca_bundle=self.ca_bundle,
                        extra_env=self.env()).start()
        return self

    def spawn_workers(self, count: int) -> None:
        assert self.web is not None
        for _ in range(count):
            self.workers.append(self.web.spawn("worker"))

    def stop_workers(self) -> None:
        for process in self.workers:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.workers:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.workers = []

    def stop(self) -> None:
        self.stop_workers()
        if self.web is not None:
            self.web.stop()

    @property
    def web_pid(self) -> int:
        assert self.web is not None and self.web.process is not None
        return self.web.process.pid


def create_poster(node: Node, username: str = "anna") -> tuple[int, str]:
    """A local person with an API token (read write); returns (account id, token)."""
    result = node.cli("user", "create", "--username", username, "--email", f"{username}@bench.invalid",
                      "--password-stdin", stdin=PASSWORD + "\n")
    if result.code != 0:
        raise RuntimeError(result.err)
    token = node.cli("token", "create", "--username", username, "--scopes", "read write")
    if token.code != 0:
        raise RuntimeError(token.err)
    account_id = scalar(node.database_url, "SELECT id FROM accounts WHERE username = $1 AND domain IS NULL", username)
    return int(account_id), token.out.strip()


def insert_followers(database_url: str, followed_id: int, inboxes: Sequence[str]) -> float:
    """One remote follower per inbox (each its own shared inbox), in two set-based statements; seconds taken."""
    started = time.monotonic()
    fetch(database_url,
          """WITH src AS (SELECT ordinality AS i, inbox, split_part(split_part(inbox, '://', 2), '/', 1) AS host
                          FROM unnest($1::text[]) WITH ORDINALITY AS t(inbox))
             INSERT INTO accounts (id, username, kind, domain, actor_uri, inbox_uri, shared_inbox_uri, fetched_at)
             SELECT 1000000 + i, 'f' || i, 'person', host, 'https://' || host || '/users/f' || i,
                    'https://' || host || '/users/f' || i || '/inbox', inbox, now() FROM src""", list(inboxes))
    fetch(database_url,
          "INSERT INTO follows (follower_id, followed_id, state) "
          "SELECT 1000000 + i, $1, 'accepted' FROM generate_series(1, $2) AS i", followed_id, len(inboxes))
    return time.monotonic() - started


# ---------------------------------------------------------------- memory

def rss_mib(pid: int) -> float:
    """VmRSS of a process in MiB (0 if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (0 if it is gone): robust to a noisy machine, unlike wall time."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


class RssSampler:
    """Samples the RSS of some processes every `interval` seconds in a thread; keeps the peak of each."""

    def __init__(self, pids: dict[str, int], interval: float = 0.2) -> None:
        self.pids = pids
        self.interval = interval
        self.peak = {name: rss_mib(pid) for name, pid in pids.items()}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            for name, pid in self.pids.items():
                self.peak[name] = max(self.peak[name], rss_mib(pid))

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


# ---------------------------------------------------------------- statistics

def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def median(values: Sequence[float]) -> float:
    return percentile(values, 50)


# ---------------------------------------------------------------- the inbox farm (TLS sink, separate process)

def make_farm_certs(directory: Path, addresses: Sequence[str]) -> Path:
    """A CA (ca.pem) and, per address, a certificate naming only that IP (ADDRESS.pem, one shared key in key.pem).

    One certificate per host, as real servers have: a single certificate with 200 IP SANs makes every client
    handshake pay for matching and decoding 200 names (it showed as 12 % of worker CPU in getpeercert).
    """
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ambtenaar bench CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
          .not_valid_after(now + dt.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    pem = serialization.Encoding.PEM
    (directory / "ca.pem").write_bytes(ca.public_bytes(pem))
    (directory / "key.pem").write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                                          serialization.NoEncryption()))
    for address in addresses:
        cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, address)]))
                .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
                .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(address))]),
                               critical=False)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                               critical=False)
                .sign(ca_key, hashes.SHA256()))
        (directory / f"{address}.pem").write_bytes(cert.public_bytes(pem))
    return directory / "ca.pem"


@dataclass(frozen=True)
class Farm:
    """Which loopback addresses play which kind of server; all on one port."""

    port: int
    live: tuple[str, ...]
    slow: tuple[str, ...] = ()
    unavailable: tuple[str, ...] = ()  # answers 503
    refused: tuple[str, ...] = ()  # nothing listens: connection refused
    slow_seconds: float = 5.0

    @property
    def hosts(self) -> tuple[str, ...]:
        return self.live + self.slow + self.unavailable + self.refused


def plan_farm(port: int, bad: str, hosts: int = 200, bad_share: float = 0.1) -> Farm:
    """`hosts` addresses 127.0.0.10..; `bad` = none | dead (half refused, half 503) | slow; bad_share of the hosts."""
    addresses = [f"127.0.0.{10 + i}" for i in range(hosts)]
    n_bad = round(hosts * bad_share) if bad != "none" else 0
    live, bad_hosts = tuple(addresses[: hosts - n_bad]), addresses[hosts - n_bad:]
    if bad == "dead":
        return Farm(port, live, unavailable=tuple(bad_hosts[: n_bad // 2]), refused=tuple(bad_hosts[n_bad // 2:]))
    if bad == "slow":
        return Farm(port, live, slow=tuple(bad_hosts))
    return Farm(port, live)


def _run_sink(farm: Farm, certs: str, cold: bool, control_port: int,
              ready: Any, lifetime: float) -> None:
    """Answer inbox POSTs per host kind; record the first arrival (CLOCK_MONOTONIC, shared by all processes) of each
    path on live hosts. GET /stats on 127.0.0.1:control_port (plain HTTP) returns them as JSON."""
    import httptools

    with contextlib.suppress(ImportError):
        import uvloop
        uvloop.install()

    close_hdr = b"Connection: close\r\n" if cold else b""
    ok = b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n" + close_hdr + b"\r\n"
    ok_close = b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    busy = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n" + close_hdr + b"\r\nbusy"
    first: dict[str, float] = {}
    counts = {"live": 0, "duplicates": 0, "slow": 0, "unavailable": 0, "signed": 0, "connections": 0}

    class Inbox(asyncio.Protocol):
        kind = "live"

        def connection_made(self, transport: Any) -> None:
            counts["connections"] += 1
            self.transport = transport
            self.parser = httptools.HttpRequestParser(self)
            self.url = b""
            self.signed = False

        def on_url(self, url: bytes) -> None:
            self.url = url

        def on_header(self, name: bytes, value: bytes) -> None:
            if name.lower() == b"signature":
                self.signed = True

        def data_received(self, data: bytes) -> None:
            try:
                self.parser.feed_data(data)
            except httptools.HttpParserError:
                self.transport.close()

        def on_message_complete(self) -> None:
            keep = self.parser.should_keep_alive() and not cold
            if self.kind == "unavailable":
                counts["unavailable"] += 1
                self._send(busy, keep)
                return
            if self.signed:
                counts["signed"] += 1
            if self.kind == "slow":
                counts["slow"] += 1
                asyncio.get_running_loop().call_later(farm.slow_seconds, self._send, ok if keep else ok_close, keep)
                return
            path = self.url.decode()
            if path in first:
                counts["duplicates"] += 1
            else:
                first[path] = time.monotonic()
                counts["live"] += 1
            self._send(ok if keep else ok_close, keep)

        def _send(self, response: bytes, keep: bool) -> None:
            if self.transport.is_closing():
                return
            self.transport.write(response)
            if not keep:
                self.transport.close()

    def protocol_for(kind: str) -> type[Inbox]:
        return type(f"Inbox_{kind}", (Inbox,), {"kind": kind})

    class Control(asyncio.Protocol):
        def connection_made(self, transport: Any) -> None:
            self.transport = transport

        def data_received(self, data: bytes) -> None:
            if data.startswith(b"GET /reset"):
                first.clear()
                for k in counts:
                    counts[k] = 0
                body = b"{}"
            else:
                body = json.dumps({"counts": counts, "first": sorted(first.values())}).encode()
            self.transport.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                                 b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
            self.transport.close()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        servers = [await loop.create_server(Control, "127.0.0.1", control_port)]
        for kind, addresses in (("live", farm.live), ("slow", farm.slow), ("unavailable", farm.unavailable)):
            for address in addresses:
                context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
                context.load_cert_chain(f"{certs}/{address}.pem", f"{certs}/key.pem")
                servers.append(await loop.create_server(protocol_for(kind), address, farm.port, ssl=context,
                                                        backlog=4096, reuse_address=True))
        ready.set()
        await asyncio.sleep(lifetime)

    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    asyncio.run(main())


class Sink:
    """The inbox farm in its own process, with its CA file for the node's --ca-bundle."""

    def __init__(self, farm: Farm | NamedFarm, directory: Path, *, cold: bool = False,
                 lifetime: float = 3600.0) -> None:
        self.farm = farm
        self.cold = cold
        self.certs = directory / "certs"
        self.certs.mkdir(exist_ok=True)
        if isinstance(farm, NamedFarm):
            self.ca, self._target = make_wildcard_cert(self.certs), run_named_sink
        else:
            self.ca, self._target = make_farm_certs(self.certs, farm.hosts), _run_sink
        self.control_port = free_port()
        self.lifetime = lifetime
        self.process: multiprocessing.process.BaseProcess | None = None

    def __enter__(self) -> Sink:
        ctx = multiprocessing.get_context("spawn")
        ready = ctx.Event()
        self.process = ctx.Process(target=self._target, daemon=True,
                                   args=(self.farm, str(self.certs), self.cold, self.control_port,
                                         ready, self.lifetime))
        self.process.start()
        if not ready.wait(30):
            self.__exit__()
            raise RuntimeError("the sink did not start within 30 s")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.join(5)
            if self.process.is_alive():
                self.process.kill()
                self.process.join()
            self.process = None

    @property
    def pid(self) -> int:
        assert self.process is not None and self.process.pid is not None
        return self.process.pid

    def _get(self, path: str) -> dict[str, Any]:
        with socket.create_connection(("127.0.0.1", self.control_port), timeout=10) as sock:
            sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            chunks = []
            while chunk := sock.recv(1 << 20):
                chunks.append(chunk)
        body = b"".join(chunks).split(b"\r\n\r\n", 1)[1]
        return json.loads(body)  # type: ignore[no-any-return]

    def stats(self) -> dict[str, Any]:
        return self._get("/stats")

    def reset(self) -> None:
        self._get("/reset")


def temp_dir(prefix: str) -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix=prefix)
