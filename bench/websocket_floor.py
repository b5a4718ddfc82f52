"""The floor under the streaming API's memory: what one idle WebSocket costs in uvicorn itself, with nothing of ours.

Owns: a uvicorn process started with `serve`'s options (httptools, uvloop, no permessage-deflate, default pings)
around an app whose WebSocket endpoint only accepts and then waits for the client's messages, either a raw ASGI
callable or a bare Starlette app; N WebSockets opened to it from this process (the asyncio `websockets` client,
as bench/streaming.py uses); the server process's VmRSS (/proc) before and with the N connections open and quiet,
for each of uvicorn's WebSocket implementations (`websockets-sansio`, which `serve`'s default `auto` picks in
uvicorn 0.55; the legacy `websockets`; `wsproto`). What bench/streaming.py measures per stream above this floor is
ours. Never: sends traffic outside 127.0.0.0/8; leaves the server process running (it
is stopped by its own pid).

    python bench/websocket_floor.py --connections 2000 [--ws websockets-sansio,websockets,wsproto] [--app asgi,starlette]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


async def raw_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Accept, then read until the client goes: no framework at all."""
    if scope["type"] == "websocket":
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        while (await receive())["type"] != "websocket.disconnect":
            pass
    elif scope["type"] == "lifespan":
        while (message := await receive())["type"] != "lifespan.shutdown":
            await send({"type": message["type"] + ".complete"})
        await send({"type": "lifespan.shutdown.complete"})


def starlette_app() -> Any:
    """The same in Starlette, as web/api/streaming.py is routed (a WebSocketRoute, `websocket.receive()`)."""
    from starlette.applications import Starlette
    from starlette.routing import WebSocketRoute
    from starlette.websockets import WebSocket

    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        while (await websocket.receive())["type"] != "websocket.disconnect":
            pass

    return Starlette(routes=[WebSocketRoute("/ws", endpoint)])


def serve(port: int, ws: str, app: str) -> None:
    """The server side (a child process): uvicorn with the options of server/cli/process.py's `serve`."""
    import uvicorn

    uvicorn.run(raw_app if app == "asgi" else starlette_app(), host="127.0.0.1", port=port, loop="uvloop",
                http="httptools", ws=ws, ws_per_message_deflate=False, log_level="warning", server_header=False)


@contextlib.contextmanager
def server(ws: str, app: str) -> Iterator[tuple[int, int]]:
    """(pid, port) of a running floor server; stopped by its pid on leaving."""
    from bench.harness import free_port

    port = free_port()
    process = subprocess.Popen([sys.executable, __file__, "--serve", str(port), "--ws", ws, "--app", app])
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the floor server ({ws}, {app}) did not start")
            time.sleep(0.1)
        yield process.pid, port
    finally:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def measure(pid: int, port: int, connections: int, settle: float) -> dict[str, float]:
    from websockets.asyncio.client import ClientConnection, connect

    from bench.harness import rss_mib

    url = f"ws://127.0.0.1:{port}/ws"
    # A few connections first, so that what is allocated once (imports on first use, the loop's first buffers)
    # is in the idle figure, as bench/streaming.py's idle figure comes after its warm-up requests.
    warm = [await connect(url, ping_interval=None) for _ in range(5)]
    await asyncio.gather(*(s.close() for s in warm))
    await asyncio.sleep(settle)
    idle = rss_mib(pid)
    sockets: list[ClientConnection] = []
    gate = asyncio.Semaphore(50)

    async def one() -> None:
        async with gate:
            sockets.append(await connect(url, ping_interval=None, max_queue=None))

    await asyncio.gather(*(one() for _ in range(connections)))
    await asyncio.sleep(settle)
    opened = rss_mib(pid)
    await asyncio.gather(*(s.close() for s in sockets), return_exceptions=True)
    return {"idle": idle, "open": opened, "per": (opened - idle) * 1024 / connections}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=2000, help="open WebSockets (default 2000)")
    parser.add_argument("--ws", default="websockets-sansio,websockets,wsproto",
                        help="uvicorn's implementations, comma-separated (websockets-sansio is what serve runs)")
    parser.add_argument("--app", default="asgi,starlette", help="asgi (raw), starlette, or both")
    parser.add_argument("--settle", type=float, default=3.0, help="seconds before each RSS reading (default 3)")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)  # the child process: serve on this port
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.ws, args.app)
        return
    from bench.harness import machine_line  # not in the server process, whose idle RSS it would swell

    rows = []
    for ws in args.ws.split(","):
        for app in args.app.split(","):
            with server(ws, app) as (pid, port):
                r = asyncio.run(measure(pid, port, args.connections, args.settle))
            rows.append((ws, app, r))
            print(f"  {ws}, {app}: {r['idle']:.1f} → {r['open']:.1f} MiB, {r['per']:.1f} KiB per connection",
                  file=sys.stderr, flush=True)
    print(f"\nWebSocket floor: {args.connections} idle WebSockets on uvicorn (httptools, uvloop, no "
          f"permessage-deflate); {machine_line()}\n")
    print("| uvicorn ws | app | RSS idle → N open MiB | KiB per connection |")
    print("|---|---|---|---|")
    for ws, app, r in rows:
        print(f"| {ws} | {app} | {r['idle']:.1f} → {r['open']:.1f} | {r['per']:.1f} |")


if __name__ == "__main__":
    main()
