"""Delivery-client benchmark: POSTs/s of 2 KB JSON bodies to many TLS "inboxes", per HTTP engine.

Owns: a throwaway HTTPS sink (its own process; self-signed CA + certificate made with `cryptography` in a temp dir;
listens on 127.0.0.1 and 127.0.0.10… on one port, each address a distinct "host"; answers 202) and the client loop
that measures each engine: httpx with one shared client, httpx with one client per host, httpx-aiohttp (if
installed), plain aiohttp, and federation.netguard.OutgoingClient (allow_private_addresses=True, since the sink is on
loopback). Each cell uses a fresh client; "warm" first opens connections to every host and then measures on kept-alive
connections, "cold" opens a new TCP+TLS connection for every request. Never: sends traffic outside 127.0.0.0/8 (and
::1), runs unbounded (every cell stops after --n requests or --seconds, whichever first), or signs requests.

    python bench/delivery_client.py --n 2000 --hosts 200 --concurrency 64
    python bench/delivery_client.py --concurrency 1,64,200 --engines aiohttp,outgoing --modes warm
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import ipaddress
import json
import multiprocessing
import os
import signal
import socket
import ssl
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import cast

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ENGINES = ("httpx-shared", "httpx-perhost", "httpx-aiohttp", "aiohttp", "outgoing")
BODY = json.dumps({
    "@context": "https://www.w3.org/ns/activitystreams", "type": "Create",
    "actor": "https://bench.invalid/users/anna", "object": {"type": "Note", "content": "x" * 1800},
}).encode()
HEADERS = {"Content-Type": "application/activity+json"}
USER_AGENT = "AmbtenaarOnline/0.1.0 (+https://bench.invalid/)"


# ---------------------------------------------------------------- certificates

def make_certs(directory: Path, addresses: list[str]) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for `addresses` (IP SANs) and localhost; returns (ca, cert, key) paths."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "netguard bench CA")])
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
    sans: list[x509.GeneralName] = [x509.DNSName("localhost")]
    sans += [x509.IPAddress(ipaddress.ip_address(a)) for a in addresses]
    sans.append(x509.IPAddress(ipaddress.ip_address("::1")))
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    ca_path, cert_path, key_path = directory / "ca.pem", directory / "cert.pem", directory / "key.pem"
    ca_path.write_bytes(ca.public_bytes(pem))
    cert_path.write_bytes(cert.public_bytes(pem))
    key_path.write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return ca_path, cert_path, key_path


# ---------------------------------------------------------------- the sink (separate process)

def run_sink(addresses: list[str], port: int, cert: str, key: str, ready: multiprocessing.synchronize.Event,
             lifetime: float) -> None:
    """Answer 202 to every request on every address, until killed or `lifetime` seconds passed."""
    import httptools

    try:
        import uvloop
        uvloop.install()
    except ImportError:
        pass

    response_keep = b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"
    response_close = b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"

    class Sink(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
            self.parser = httptools.HttpRequestParser(self)

        def data_received(self, data: bytes) -> None:
            try:
                self.parser.feed_data(data)
            except httptools.HttpParserError:
                self.transport.close()

        def on_message_complete(self) -> None:
            if self.parser.should_keep_alive():
                self.transport.write(response_keep)
            else:
                self.transport.write(response_close)
                self.transport.close()

    async def main() -> None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        loop = asyncio.get_running_loop()
        servers = []
        for address in addresses:
            servers.append(await loop.create_server(Sink, address, port, ssl=context, backlog=1024,
                                                    reuse_address=True))
        try:
            servers.append(await loop.create_server(Sink, "::1", port, ssl=context, backlog=1024))
        except OSError:
            pass
        ready.set()
        await asyncio.sleep(lifetime)

    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    asyncio.run(main())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- engines: each returns (post, close)

Post = Callable[[str], Awaitable[int]]


async def make_engine(name: str, ca: str, keepalive: bool, limit: int) -> tuple[Post, Callable[[], Awaitable[None]]]:
    context = ssl.create_default_context(cafile=ca)
    if name in ("httpx-shared", "httpx-perhost"):
        import httpx
        limits = httpx.Limits(max_connections=max(limit, 100), max_keepalive_connections=max(limit, 100)
                              if keepalive else 0)
        timeout = httpx.Timeout(10.0)
        if name == "httpx-shared":
            client = httpx.AsyncClient(verify=context, limits=limits, timeout=timeout)

            async def post(url: str) -> int:
                return (await client.post(url, content=BODY, headers=HEADERS)).status_code
            return post, client.aclose
        clients: dict[str, httpx.AsyncClient] = {}

        async def post(url: str) -> int:
            host = url.split("/", 3)[2]
            c = clients.get(host)
            if c is None:
                c = clients[host] = httpx.AsyncClient(verify=context, limits=limits, timeout=timeout)
            return (await c.post(url, content=BODY, headers=HEADERS)).status_code

        async def close() -> None:
            for c in clients.values():
                await c.aclose()
        return post, close
    if name == "httpx-aiohttp":
        import aiohttp
        import httpx
        from httpx_aiohttp import AiohttpTransport
        connector = (aiohttp.TCPConnector(ssl=context, limit=limit, keepalive_timeout=30) if keepalive
                     else aiohttp.TCPConnector(ssl=context, limit=limit, force_close=True))
        session = aiohttp.ClientSession(connector=connector)
        client = httpx.AsyncClient(transport=AiohttpTransport(client=session), timeout=httpx.Timeout(10.0))

        async def post(url: str) -> int:
            return (await client.post(url, content=BODY, headers=HEADERS)).status_code

        async def close() -> None:
            await client.aclose()
            await session.close()
        return post, close
    if name == "aiohttp":
        import aiohttp
        connector = (aiohttp.TCPConnector(ssl=context, limit=limit, keepalive_timeout=30) if keepalive
                     else aiohttp.TCPConnector(ssl=context, limit=limit, force_close=True))
        session = aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=10))

        async def post(url: str) -> int:
            async with session.post(url, data=BODY, headers=HEADERS) as response:
                await response.read()
                return response.status
        return post, session.close
    if name == "outgoing":
        from federation.netguard import OutgoingClient
        outgoing = OutgoingClient(user_agent=USER_AGENT, allow_private_addresses=True, verify=context,
                                  keepalive_seconds=30.0 if keepalive else 0.0, max_connections=limit)

        async def post(url: str) -> int:
            return (await outgoing.post(url, BODY, HEADERS)).status
        return post, outgoing.aclose
    raise SystemExit(f"unknown engine {name!r}; choose from {', '.join(ENGINES)}")


# ---------------------------------------------------------------- one cell

async def drive(post: Post, urls: list[str], concurrency: int, deadline: float) -> tuple[int, int]:
    """POST to urls[i] with `concurrency` workers until done or the deadline; returns (ok, errors)."""
    ok = errors = 0
    cursor = 0

    async def worker() -> None:
        nonlocal ok, errors, cursor
        while cursor < len(urls) and time.monotonic() < deadline:
            url = urls[cursor]
            cursor += 1
            try:
                status = await post(url)
            except Exception:
                errors += 1
            else:
                if status == 202:
                    ok += 1
                else:
                    errors += 1

    tasks = [asyncio.create_task(worker()) for _ in range(concurrency)]
    # Workers stop taking work at the deadline; what is still in flight gets 10 s more, then is cancelled.
    _, pending = await asyncio.wait(tasks, timeout=max(0.0, deadline - time.monotonic()) + 10.0)
    for task in pending:
        task.cancel()
    errors += len(pending)
    await asyncio.gather(*pending, return_exceptions=True)
    return ok, errors


async def run_cell(engine: str, mode: str, concurrency: int, hosts: list[str], port: int, n: int,
                   seconds: float, ca: str) -> dict[str, float]:
    post, close = await make_engine(engine, ca, keepalive=(mode == "warm"), limit=max(concurrency, 100))
    try:
        urls = [f"https://{hosts[i % len(hosts)]}:{port}/inbox/{i}" for i in range(n)]
        if mode == "warm":
            warm = [f"https://{h}:{port}/inbox/warm" for h in hosts]
            await drive(post, warm, min(concurrency, len(hosts)), time.monotonic() + seconds)
        cpu0, t0 = time.process_time(), time.monotonic()
        ok, errors = await drive(post, urls, concurrency, t0 + seconds)
        elapsed, cpu = time.monotonic() - t0, time.process_time() - cpu0
    finally:
        await close()
    return {"rps": ok / elapsed if elapsed else 0.0, "cpu_us": cpu / max(ok, 1) * 1e6, "ok": ok, "errors": errors}


# ---------------------------------------------------------------- main

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=2000, help="requests per cell (default 2000)")
    parser.add_argument("--hosts", type=int, default=200, help="distinct loopback hosts, 1–200 (default 200)")
    parser.add_argument("--concurrency", default="1,64,200",
                        help="comma-separated requests in flight; the default 1,64,200")
    parser.add_argument("--engines", default=",".join(ENGINES), help=f"comma-separated, from {', '.join(ENGINES)}")
    parser.add_argument("--modes", default="warm,cold", help="warm (kept-alive), cold (new TLS each), or both")
    parser.add_argument("--seconds", type=float, default=5.0, help="time cap per cell (default 5)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per cell; the median is shown (default 1)")
    parser.add_argument("--localhost", action="store_true",
                        help="also compare aiohttp and outgoing to the name 'localhost' (resolver path), 1 host")
    parser.add_argument("--no-uvloop", action="store_true", help="measure on the default asyncio loop")
    args = parser.parse_args()
    if not 1 <= args.hosts <= 200:
        raise SystemExit("--hosts must be between 1 and 200")
    engines = [e for e in args.engines.split(",") if e]
    if "httpx-aiohttp" in engines:
        try:
            import httpx_aiohttp  # noqa: F401
        except ImportError:
            print("httpx-aiohttp is not installed: skipping that engine", file=sys.stderr)
            engines.remove("httpx-aiohttp")
    concurrencies = [int(c) for c in args.concurrency.split(",") if c]
    modes = [m for m in args.modes.split(",") if m]
    addresses = ["127.0.0.1"] + [f"127.0.0.{10 + i}" for i in range(args.hosts - 1)]

    with tempfile.TemporaryDirectory(prefix="netguard-bench-") as tmp:
        ca, cert, key = make_certs(Path(tmp), addresses)
        port = free_port()
        budget = (len(engines) * len(concurrencies) * len(modes) * args.repeat + 2) * (args.seconds * 2 + 15) + 60
        ready = multiprocessing.get_context("spawn").Event()
        sink = multiprocessing.get_context("spawn").Process(
            target=run_sink, args=(addresses, port, str(cert), str(key), ready, budget), daemon=True)
        sink.start()
        try:
            if not ready.wait(30):
                raise SystemExit("the sink did not start within 30 s")
            if not args.no_uvloop:
                try:
                    import uvloop
                    uvloop.install()
                except ImportError:
                    pass
            rows = asyncio.run(measure(engines, modes, concurrencies, addresses, port, args, str(ca)))
        finally:
            sink.terminate()
            sink.join(5)
            if sink.is_alive():
                sink.kill()
    print_table(rows, args)


async def measure(engines: list[str], modes: list[str], concurrencies: list[int], addresses: list[str], port: int,
                  args: argparse.Namespace, ca: str) -> list[tuple[str, str, int, str, dict[str, float]]]:
    rows = []
    groups = [(m, c, addresses, f"{len(addresses)}", engines) for m in modes for c in concurrencies]
    if args.localhost:
        groups += [(m, 64, ["localhost"], "localhost", ["aiohttp", "outgoing"]) for m in modes]
    for mode, concurrency, hosts, label, group_engines in groups:
        # Repeats go round the engines, so drift in a noisy machine's load hits every engine alike.
        runs: dict[str, list[dict[str, float]]] = {e: [] for e in group_engines}
        for _ in range(args.repeat):
            for engine in group_engines:
                runs[engine].append(await run_cell(engine, mode, concurrency, hosts, port, args.n, args.seconds, ca))
        for engine in group_engines:
            ordered = sorted(runs[engine], key=lambda r: r["rps"])
            best = dict(ordered[len(ordered) // 2])
            best["cpu_us"] = statistics.median(r["cpu_us"] for r in ordered)
            best["low"], best["high"] = ordered[0]["rps"], ordered[-1]["rps"]
            rows.append((engine, mode, concurrency, label, best))
            print(f"  {engine:14} {mode:4} c={concurrency:<3} hosts={label:9} {best['rps']:8.0f} req/s "
                  f"({best['low']:.0f}–{best['high']:.0f}) {best['cpu_us']:7.0f} µs CPU/req  "
                  f"errors={best['errors']:.0f}",
                  file=sys.stderr, flush=True)
    return rows


def print_table(rows: list[tuple[str, str, int, str, dict[str, float]]], args: argparse.Namespace) -> None:
    print(f"\nPOST 2 KB JSON over TLS, n={args.n} per cell (cap {args.seconds:.0f} s), median of {args.repeat} "
          f"(range = slowest–fastest run); client CPU per request from time.process_time (sink in its own process); "
          f"load average at the end {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs\n")
    print(f"| {'engine':14} | {'mode':4} | {'in flight':>9} | {'hosts':>9} | {'req/s':>7} | {'range':>11} "
          f"| {'µs CPU/req':>10} | {'errors':>6} |")
    print(f"|{'-' * 16}|{'-' * 6}|{'-' * 11}|{'-' * 11}|{'-' * 9}|{'-' * 13}|{'-' * 12}|{'-' * 8}|")
    for engine, mode, concurrency, label, r in rows:
        spread = f"{r['low']:.0f}–{r['high']:.0f}"
        print(f"| {engine:14} | {mode:4} | {concurrency:>9} | {label:>9} | {r['rps']:>7.0f} | {spread:>11} "
              f"| {r['cpu_us']:>10.0f} | {r['errors']:>6.0f} |")


if __name__ == "__main__":
    main()
