"""What the outgoing client remembers per host (federation/host_memory.py), alone and through OutgoingClient against
real loopback servers: a name looked up once, a TLS session resumed, a host whose connect timed out not tried
again at once."""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import ssl
from pathlib import Path
from typing import Any

import pytest

from federation.host_memory import DnsCache, resuming_context
from federation.netguard import FetchFailed, FetchTimeout, HostNotFound, OutgoingClient

UA = "AmbtenaarOnline/test"


def test_concurrent_lookups_of_one_name_are_one_lookup_and_the_answer_is_kept() -> None:
    calls: list[str] = []

    async def main() -> list[Any]:
        cache = DnsCache()
        gate = asyncio.Event()

        async def find() -> list[str]:
            calls.append("x")
            await gate.wait()
            return ["192.0.2.1"]
        waiting = [asyncio.create_task(cache.resolve("Inbox.example", 443, find, lambda _e: False)) for _ in range(5)]
        await asyncio.sleep(0)
        gate.set()
        answers = await asyncio.gather(*waiting)
        answers.append(await cache.resolve("inbox.example", 443, find, lambda _e: False))
        return answers
    assert asyncio.run(main()) == [["192.0.2.1"]] * 6
    assert calls == ["x"]


def test_a_lookup_goes_on_when_the_request_that_started_it_gives_up() -> None:
    async def main() -> tuple[Any, int]:
        cache = DnsCache()
        gate = asyncio.Event()

        async def find() -> list[str]:
            await gate.wait()
            return ["192.0.2.7"]
        first = asyncio.create_task(cache.resolve("slow-dns.example", 443, find, lambda _e: False))
        await asyncio.sleep(0)
        first.cancel()  # its time limit ran out while the DNS server took its time
        await asyncio.gather(first, return_exceptions=True)
        gate.set()
        answer = await cache.resolve("slow-dns.example", 443, find, lambda _e: False)
        return answer, cache.lookups
    assert asyncio.run(main()) == (["192.0.2.7"], 1)


def test_a_name_not_found_is_remembered_briefly_and_then_asked_again() -> None:
    now = [0.0]
    calls: list[str] = []

    async def main() -> None:
        cache = DnsCache(not_found_seconds=30, clock=lambda: now[0])

        async def find() -> list[str]:
            calls.append("x")
            raise HostNotFound("could not resolve host 'gone.example'")
        for moment in (0.0, 10.0, 31.0):
            now[0] = moment
            with pytest.raises(HostNotFound):
                await cache.resolve("gone.example", 443, find, lambda e: isinstance(e, HostNotFound))
    asyncio.run(main())
    assert calls == ["x", "x"]  # at 0 s and again after 30 s; not at 10 s


def _certificate(directory: Path) -> tuple[Path, Path, Path]:
    """A CA and a certificate for localhost signed by it; (ca, cert, key)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.timezone.utc)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "host memory test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
          .not_valid_after(now + dt.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True).sign(ca_key, hashes.SHA256()))
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    paths = directory / "ca.pem", directory / "cert.pem", directory / "key.pem"
    paths[0].write_bytes(ca.public_bytes(pem))
    paths[1].write_bytes(cert.public_bytes(pem))
    paths[2].write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return paths


def _dns(host: str, address: str, asked: list[str]) -> Any:
    async def getaddrinfo(name: str, port: int) -> list[tuple[Any, ...]]:
        asked.append(name)
        if name != host:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]
    return getaddrinfo


def test_a_server_is_looked_up_once_and_its_tls_session_resumed_on_the_next_connection(tmp_path: Path) -> None:
    ca, cert, key = _certificate(tmp_path)
    resumed: list[bool] = []
    asked: list[str] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        await reader.readexactly(2)
        resumed.append(bool(writer.get_extra_info("ssl_object").session_reused))
        writer.write(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()

    async def main() -> list[int]:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        server = await asyncio.start_server(answer, "127.0.0.1", 0, ssl=context)
        port = server.sockets[0].getsockname()[1]
        statuses = []
        async with server, OutgoingClient(user_agent=UA, allow_private_addresses=True, keepalive_seconds=0,
                                          verify=resuming_context(cafile=str(ca)),
                                          getaddrinfo=_dns("localhost", "127.0.0.1", asked)) as client:
            for _ in range(4):  # a new connection each time: the server closes it
                statuses.append((await client.post(f"https://localhost:{port}/inbox", b"{}", {})).status)
            assert client.memory()["tls_sessions"] == 1
        return statuses
    assert asyncio.run(main()) == [202] * 4
    assert asked == ["localhost"]
    # A session is kept from the second full handshake on (a host reached once keeps nothing).
    assert resumed == [False, False, True, True]


def test_a_host_whose_connect_timed_out_is_not_tried_again_at_once() -> None:
    accepted: list[bool] = []

    async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(True)  # accepts TCP, never answers the TLS handshake
        await reader.read()

    async def main() -> tuple[BaseException, BaseException]:
        server = await asyncio.start_server(hang, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server, OutgoingClient(user_agent=UA, allow_private_addresses=True, connect_timeout=0.3,
                                          getaddrinfo=_dns("down.example", "127.0.0.1", [])) as client:
            url = f"https://down.example:{port}/inbox"
            with pytest.raises(FetchTimeout) as first:
                await client.post(url, b"{}", {})
            with pytest.raises(FetchFailed) as second:
                await client.post(url, b"{}", {})
            return first.value, second.value
    first, second = asyncio.run(main())
    assert "could not connect" in str(first)
    assert "did not accept a connection" in str(second) and not isinstance(second, FetchTimeout)
    assert accepted == [True]  # the second POST did not connect
