"""Memory and event latency of the streaming API with N open streams on one web process.

Owns: a fresh database and web node (`serve`, in-process worker off), N local accounts that follow one author, each
with a token (inserted in set-based statements), N WebSocket user streams opened from this process (asyncio
`websockets` client, which offers permessage-deflate as browsers do), then P posts by the author one after another:
each post's latency is the time from the start of its POST to its `update` event on a stream, for every stream.
RSS of the web process from /proc: idle, with the N streams open and quiet, and the peak while the posts go out.
The yardstick, measured in the same run on the same node: the median of GET /api/v1/statuses/:id (the REST read
of the same entity). Never: sends traffic outside 127.0.0.0/8; leaves processes running.

    python bench/streaming.py --streams 2000 --posts 20 [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402
from websockets.asyncio.client import ClientConnection, connect  # noqa: E402

from bench.harness import (Cluster, RssSampler, create_poster, fetch, machine_line, median, percentile,  # noqa: E402
                           postgres, rss_mib, temp_dir)
from server.tokens import token_hash  # noqa: E402


def insert_readers(database_url: str, author_id: int, count: int) -> list[str]:
    """`count` local people who follow the author, each with a read token; their tokens."""
    tokens = [f"bench-stream-token-{i}" for i in range(count)]
    fetch(database_url,
          """INSERT INTO accounts (id, username, email, password_hash, display_name, kind)
             SELECT 2000000 + i, 'reader' || i, 'reader' || i || '@bench.invalid', 'x', 'Reader ' || i, 'person'
             FROM generate_series(1, $1) AS i""", count)
    fetch(database_url,
          """INSERT INTO oauth_tokens (id, token_hash, account_id, scopes)
             SELECT 3000000 + i, h, 2000000 + i, 'read' FROM unnest($1::bytea[]) WITH ORDINALITY AS t(h, i)""",
          [token_hash(t) for t in tokens])
    fetch(database_url, "INSERT INTO follows (follower_id, followed_id, state) "
                        "SELECT 2000000 + i, $1, 'accepted' FROM generate_series(1, $2) AS i", author_id, count)
    return tokens


class Readers:
    """N open user streams and when each post's `update` reached each of them."""

    def __init__(self) -> None:
        self.arrivals: dict[str, list[float]] = {}
        self.sockets: list[ClientConnection] = []
        self.writers: list[asyncio.StreamWriter] = []
        self.tasks: list[asyncio.Task[None]] = []
        self.changed = asyncio.Event()

    async def open(self, url: str, tokens: list[str], parallel: int = 50) -> None:
        gate = asyncio.Semaphore(parallel)

        async def one(token: str) -> None:
            async with gate:
                socket = await connect(f"{url}?stream=user", additional_headers={"Authorization": f"Bearer {token}"},
                                       max_queue=None, ping_interval=None)
            self.sockets.append(socket)
            self.tasks.append(asyncio.create_task(self._read(socket)))

        await asyncio.gather(*(one(t) for t in tokens))

    async def open_event_streams(self, host: str, port: int, tokens: list[str], parallel: int = 50) -> None:
        """The same streams as server-sent events (GET /api/v1/streaming/user), read with plain asyncio streams."""
        gate = asyncio.Semaphore(parallel)

        async def one(token: str) -> None:
            async with gate:
                reader, writer = await asyncio.open_connection(host, port)
                writer.write(f"GET /api/v1/streaming/user HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}"
                             f"\r\nAccept: text/event-stream\r\n\r\n".encode())
                status = await reader.readline()
                if b" 200 " not in status:
                    raise RuntimeError(f"event stream refused: {status!r}")
            self.writers.append(writer)
            self.tasks.append(asyncio.create_task(self._read_events(reader)))

        await asyncio.gather(*(one(t) for t in tokens))

    async def _read_events(self, reader: asyncio.StreamReader) -> None:
        event = ""
        while line := await reader.readline():
            text = line.decode(errors="replace").strip()
            if text.startswith("event: "):
                event = text[7:]
            elif text.startswith("data: ") and event == "update":
                now = time.perf_counter()
                self.arrivals.setdefault(json.loads(text[6:])["id"], []).append(now)
                self.changed.set()

    async def _read(self, socket: ClientConnection) -> None:
        async for raw in socket:
            now = time.perf_counter()
            message = json.loads(raw)
            if message.get("event") == "update":
                self.arrivals.setdefault(json.loads(message["payload"])["id"], []).append(now)
                self.changed.set()

    async def wait_all(self, post_id: str, count: int, timeout: float = 60.0) -> list[float]:
        deadline = time.perf_counter() + timeout
        while len(self.arrivals.get(post_id, [])) < count:
            if time.perf_counter() > deadline:
                raise RuntimeError(f"only {len(self.arrivals.get(post_id, []))} of {count} streams got {post_id}")
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), timeout=1)
            except TimeoutError:
                pass
        return self.arrivals[post_id]

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*(s.close() for s in self.sockets), return_exceptions=True)
        for writer in self.writers:
            writer.close()


async def measure(cluster: Cluster, token: str, tokens: list[str], posts: int, settle: float,
                  transport: str = "websocket") -> dict[str, Any]:
    assert cluster.web is not None
    pid = cluster.web_pid
    readers = Readers()
    async with httpx.AsyncClient(base_url=cluster.web.url, headers={"Authorization": f"Bearer {token}"},
                                 timeout=60) as client:
        first = (await client.post("/api/v1/statuses", data={"status": "warm-up"})).json()
        reads = []
        for _ in range(100):
            started = time.perf_counter()
            (await client.get(f"/api/v1/statuses/{first['id']}")).raise_for_status()
            reads.append((time.perf_counter() - started) * 1000)
        await asyncio.sleep(settle)
        idle = rss_mib(pid)
        opened_at = time.perf_counter()
        if transport == "sse":
            host, _, port = cluster.web.domain.partition(":")
            await readers.open_event_streams(host, int(port), tokens)
        else:
            await readers.open(f"ws://{cluster.web.domain}/api/v1/streaming", tokens)
        open_seconds = time.perf_counter() - opened_at
        # Every stream is subscribed once a post reached all of them (this also warms the fan-out).
        warm = (await client.post("/api/v1/statuses", data={"status": "all here?"})).json()
        await readers.wait_all(warm["id"], len(tokens))
        await asyncio.sleep(settle)
        with_streams = rss_mib(pid)
        latencies: list[float] = []
        last: list[float] = []
        post_ms: list[float] = []
        with RssSampler({"web": pid}) as rss:
            for i in range(posts):
                started = time.perf_counter()
                response = await client.post("/api/v1/statuses", data={"status": f"Bericht {i}"})
                post_ms.append((time.perf_counter() - started) * 1000)
                response.raise_for_status()
                arrived = await readers.wait_all(response.json()["id"], len(tokens))
                latencies += [(t - started) * 1000 for t in arrived]
                last.append((max(arrived) - started) * 1000)
        await readers.close()
        await asyncio.sleep(settle)
        after = rss_mib(pid)
    return {"streams": len(tokens), "open_s": open_seconds, "rss_idle": idle, "rss_streams": with_streams,
            "rss_peak": max(rss.peak["web"], with_streams), "rss_after": after, "p50": percentile(latencies, 50),
            "p99": percentile(latencies, 99), "max": max(latencies), "last": median(last), "post": median(post_ms),
            "yardstick": median(reads), "deliveries": len(latencies)}


def run_once(pg: Any, streams: int, posts: int, settle: float, transport: str = "websocket") -> dict[str, Any]:
    with temp_dir("ao-stream-") as tmp:
        database = pg.fresh_database()
        cluster = Cluster(database_url=database, data_dir=Path(tmp) / "node")
        try:
            cluster.start()
            assert cluster.web is not None
            author_id, token = create_poster(cluster.web)
            tokens = insert_readers(database, author_id, streams)
            return asyncio.run(measure(cluster, token, tokens, posts, settle, transport))
        finally:
            cluster.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", default="2000", help="open user streams, comma-separated (default 2000)")
    parser.add_argument("--posts", type=int, default=20, help="posts timed per run (default 20)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per stream count (default 1)")
    parser.add_argument("--settle", type=float, default=3.0, help="seconds before each RSS reading (default 3)")
    parser.add_argument("--transport", choices=("websocket", "sse"), default="websocket",
                        help="WebSockets (default) or server-sent events (GET /api/v1/streaming/user)")
    args = parser.parse_args()
    rows = []
    with postgres() as pg:
        for streams in (int(s) for s in args.streams.split(",")):
            for _ in range(args.repeat):
                r = run_once(pg, streams, args.posts, args.settle, args.transport)
                rows.append(r)
                print(f"  {streams} streams: RSS {r['rss_idle']:.0f} → {r['rss_streams']:.0f} (peak "
                      f"{r['rss_peak']:.0f}, after closing {r['rss_after']:.0f}) MiB; p50 {r['p50']:.1f} ms, p99 "
                      f"{r['p99']:.1f} ms; GET status {r['yardstick']:.2f} ms", file=sys.stderr, flush=True)
    kind = "WebSocket" if args.transport == "websocket" else "server-sent-events"
    print(f"\nStreaming API: N {kind} user streams of followers, {args.posts} posts one after another; "
          f"{machine_line()}\n")
    print("| streams | opened in s | RSS idle → N streams open MiB | KiB per stream | peak while posting | after "
          "closing | latency p50 ms | p99 ms | max ms | last stream per post (median) ms | POST ms | yardstick: GET "
          "status ms | p99 ÷ yardstick |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        per_stream = (r["rss_streams"] - r["rss_idle"]) * 1024 / r["streams"]
        print(f"| {r['streams']} | {r['open_s']:.1f} | {r['rss_idle']:.0f} → {r['rss_streams']:.0f} | "
              f"{per_stream:.1f} | {r['rss_peak']:.0f} | {r['rss_after']:.0f} | {r['p50']:.1f} | {r['p99']:.1f} | "
              f"{r['max']:.1f} | {r['last']:.1f} | {r['post']:.1f} | {r['yardstick']:.2f} | "
              f"{r['p99'] / r['yardstick']:.0f} |")


if __name__ == "__main__":
    main()
