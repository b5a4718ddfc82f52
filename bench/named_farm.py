"""A farm of many distinct named servers for the cold fan-out (issue 18, item 4): N host names, each its own server
as far as the node can tell (its own DNS lookup, TCP connection, TLS handshake and session), behind a small DNS
server that the benchmark's processes use instead of the machine's.

Owns: the plan (which names are live, slow, hung or refused), the DNS responder (UDP, A records only, an optional
delay per answer as a real recursive resolver has on a cache miss), the TLS server that plays the live, slow and
503 hosts (one wildcard certificate `*.farm.test` from the throwaway CA; the kind comes from the Host header), the
hung listener (accepts TCP, never answers: the TLS handshake times out, as with a host that is down behind a
firewall that drops) and `private_resolver`, which runs the benchmark in a mount namespace of its own where
/etc/resolv.conf names that DNS server (nothing outside the benchmark's process tree sees it).
Never: listens outside 127.0.0.0/8, or changes the machine's own /etc/resolv.conf.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import random
import signal
import ssl
import struct
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DOMAIN = "farm.test"
DNS_ADDRESS = "127.0.0.153"  # port 53: resolv.conf cannot name another port
LISTEN = tuple(f"127.0.0.{10 + i}" for i in range(200))  # live, slow and 503 hosts, spread over 200 addresses
HUNG_ADDRESS = "127.0.0.240"
REFUSED_ADDRESS = "127.0.0.250"  # nothing listens here
_NAMESPACE_FLAG = "AO_BENCH_PRIVATE_RESOLVER"


@dataclass(frozen=True)
class NamedFarm:
    """Which host names play which kind of server; all on one port. `kinds[i]` is the kind of `name(i)`."""

    port: int
    kinds: tuple[str, ...]  # live | slow | unavailable (503) | hung | refused
    slow_seconds: float = 5.0
    dns_delay_ms: float = 0.0

    @staticmethod
    def name(i: int) -> str:
        return f"h{i}.{DOMAIN}"

    @property
    def hosts(self) -> tuple[str, ...]:
        return tuple(self.name(i) for i in range(len(self.kinds)))

    @property
    def live(self) -> tuple[str, ...]:
        return tuple(self.name(i) for i, kind in enumerate(self.kinds) if kind == "live")

    def address(self, i: int) -> str:
        kind = self.kinds[i]
        if kind == "hung":
            return HUNG_ADDRESS
        if kind == "refused":
            return REFUSED_ADDRESS
        return LISTEN[i % len(LISTEN)]


def plan_named_farm(port: int, bad: str, hosts: int, dns_delay_ms: float = 0.0) -> NamedFarm:
    """`hosts` names; bad = none | dead (10 %: half refused, half hung) | slow (10 %, 5 s) | mixed (5 % dead as
    before, 5 % slow). Bad names are picked at random (fixed seed), so they are spread through the claim order."""
    shares = {"none": {}, "dead": {"refused": 0.05, "hung": 0.05}, "slow": {"slow": 0.10},
              "mixed": {"refused": 0.025, "hung": 0.025, "slow": 0.05}}
    if bad not in shares:
        raise SystemExit(f"--bad must be one of {', '.join(shares)}, not {bad!r}")
    kinds = ["live"] * hosts
    order = list(range(hosts))
    random.Random(18).shuffle(order)
    start = 0
    for kind, share in shares[bad].items():
        count = round(hosts * share)
        for i in order[start:start + count]:
            kinds[i] = kind
        start += count
    return NamedFarm(port, tuple(kinds), dns_delay_ms=dns_delay_ms)


def make_wildcard_cert(directory: Path) -> Path:
    """A CA (ca.pem) and a certificate for *.farm.test (cert.pem, key.pem); returns the CA's path."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ambtenaar bench CA (named farm)")])
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
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"*.{DOMAIN}")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(f"*.{DOMAIN}")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    (directory / "ca.pem").write_bytes(ca.public_bytes(pem))
    (directory / "cert.pem").write_bytes(cert.public_bytes(pem))
    (directory / "key.pem").write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                                          serialization.NoEncryption()))
    return directory / "ca.pem"


def dns_answer(query: bytes, addresses: dict[str, str]) -> bytes | None:
    """The answer to one DNS query: an A record for a farm name, no records (NOERROR) for its other types,
    NXDOMAIN for any other name; None for something that is not a query."""
    if len(query) < 17:
        return None
    qid, flags = struct.unpack("!HH", query[:4])
    labels, pos = [], 12
    while pos < len(query) and query[pos]:
        length = query[pos]
        labels.append(query[pos + 1:pos + 1 + length].decode("ascii", "replace"))
        pos += 1 + length
    end = pos + 5
    if end > len(query):
        return None
    qtype = struct.unpack("!H", query[pos + 1:pos + 3])[0]
    question = query[12:end]
    address = addresses.get(".".join(labels).lower())
    rd = flags & 0x0100
    if address is None:
        return struct.pack("!HHHHHH", qid, 0x8083 | rd, 1, 0, 0, 0) + question
    if qtype != 1:
        return struct.pack("!HHHHHH", qid, 0x8080 | rd, 1, 0, 0, 0) + question
    record = struct.pack("!HHHIH", 0xC00C, 1, 1, 300, 4) + bytes(int(x) for x in address.split("."))
    return struct.pack("!HHHHHH", qid, 0x8080 | rd, 1, 1, 0, 0) + question + record


def run_named_sink(farm: NamedFarm, certs: str, cold: bool, control_port: int, ready: Any, lifetime: float) -> None:
    """The farm's process: DNS, the TLS hosts and the hung listener; GET /stats on 127.0.0.1:control_port."""
    import httptools

    with contextlib.suppress(ImportError):
        import uvloop
        uvloop.install()

    close_hdr = b"Connection: close\r\n" if cold else b""
    ok = b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n" + close_hdr + b"\r\n"
    ok_close = b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    busy = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n" + close_hdr + b"\r\nbusy"
    kind_of = {farm.name(i): kind for i, kind in enumerate(farm.kinds)}
    addresses = {farm.name(i): farm.address(i) for i in range(len(farm.kinds))}
    first: dict[str, float] = {}
    counts = {"live": 0, "duplicates": 0, "slow": 0, "unavailable": 0, "signed": 0, "connections": 0,
              "resumed": 0, "dns": 0, "hung": 0}

    class Dns(asyncio.DatagramProtocol):
        def connection_made(self, transport: Any) -> None:
            self.transport = transport

        def datagram_received(self, data: bytes, addr: Any) -> None:
            answer = dns_answer(data, addresses)
            if answer is None:
                return
            counts["dns"] += 1
            if farm.dns_delay_ms > 0:
                asyncio.get_running_loop().call_later(farm.dns_delay_ms / 1000, self.transport.sendto, answer, addr)
            else:
                self.transport.sendto(answer, addr)

    class Hung(asyncio.Protocol):
        def connection_made(self, transport: Any) -> None:
            counts["hung"] += 1
            self.transport = transport

    class Inbox(asyncio.Protocol):
        def connection_made(self, transport: Any) -> None:
            counts["connections"] += 1
            self.transport = transport
            self.parser = httptools.HttpRequestParser(self)
            self.url = b""
            self.host = ""
            self.signed = False
            self.counted = False

        def on_url(self, url: bytes) -> None:
            self.url = url

        def on_header(self, name: bytes, value: bytes) -> None:
            lower = name.lower()
            if lower == b"signature":
                self.signed = True
            elif lower == b"host":
                self.host = value.decode("ascii", "replace").rsplit(":", 1)[0].lower()

        def data_received(self, data: bytes) -> None:
            if not self.counted:
                self.counted = True
                ssl_object = self.transport.get_extra_info("ssl_object")
                if ssl_object is not None and ssl_object.session_reused:
                    counts["resumed"] += 1
            try:
                self.parser.feed_data(data)
            except httptools.HttpParserError:
                self.transport.close()

        def on_message_complete(self) -> None:
            keep = self.parser.should_keep_alive() and not cold
            kind = kind_of.get(self.host, "live")
            if kind == "unavailable":
                counts["unavailable"] += 1
                self._send(busy, keep)
                return
            if self.signed:
                counts["signed"] += 1
            if kind == "slow":
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
        servers: list[Any] = [await loop.create_server(Control, "127.0.0.1", control_port)]
        await loop.create_datagram_endpoint(Dns, local_addr=(DNS_ADDRESS, 53))
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(f"{certs}/cert.pem", f"{certs}/key.pem")  # session tickets: on, as by default
        for address in LISTEN:
            servers.append(await loop.create_server(Inbox, address, farm.port, ssl=context, backlog=4096,
                                                    reuse_address=True))
        servers.append(await loop.create_server(Hung, HUNG_ADDRESS, farm.port, backlog=4096, reuse_address=True))
        ready.set()
        await asyncio.sleep(lifetime)

    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    asyncio.run(main())


def private_resolver(argv: Sequence[str]) -> None:
    """Run this benchmark again in a mount namespace of its own whose /etc/resolv.conf names the farm's DNS server
    (needs root, or user namespaces, and util-linux `unshare`); returns at once when already inside it. Every
    process the benchmark starts (node, workers, farm) inherits that resolver; the machine's stays as it is."""
    if os.environ.get(_NAMESPACE_FLAG) == "1":
        resolv = Path(os.environ["AO_BENCH_RESOLV_CONF"])
        subprocess.run(["mount", "--bind", str(resolv), "/etc/resolv.conf"], check=True)
        return
    resolv = Path(f"/tmp/ao-bench-resolv-{os.getpid()}.conf")
    resolv.write_text(f"nameserver {DNS_ADDRESS}\noptions timeout:2 attempts:2\n")
    env = {**os.environ, _NAMESPACE_FLAG: "1", "AO_BENCH_RESOLV_CONF": str(resolv)}
    try:
        code = subprocess.call(["unshare", "--mount", "--propagation", "private", "--", sys.executable, *argv],
                               env=env)
    finally:
        resolv.unlink(missing_ok=True)
    raise SystemExit(code)
