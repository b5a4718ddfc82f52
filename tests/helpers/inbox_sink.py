"""A farm of remote inboxes for fan-out tests: one aiohttp process answering POSTs on several loopback addresses.

`python -m tests.helpers.inbox_sink --port P --hosts 20 --delay 0.3 --control C` listens on 127.0.0.20.. (one
address per simulated server, all on port P) and answers every POST with 202 after `delay` seconds (so a fan-out
has deliveries in flight). It records every arrival (path, count) and keeps the first one of each path with its
headers and body, so a test can verify the signature. GET http://127.0.0.1:C/arrivals returns
{"counts": {path: n}, "first": {path: {"headers": {...}, "body": "..."}}} (with ?counts=1 only the counts).
Never: listens outside 127.0.0.0/8. It prints "ready" once every address listens; SIGTERM stops it.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

FIRST_HOST = 20


def host(i: int) -> str:
    return f"127.0.0.{FIRST_HOST + i}"


async def serve(port: int, hosts: int, delay: float, control: int) -> None:
    from aiohttp import web

    counts: dict[str, int] = {}
    first: dict[str, dict[str, Any]] = {}

    async def inbox(request: web.Request) -> web.Response:
        body = await request.read()
        path = f"http://{request.host}{request.path}"
        counts[path] = counts.get(path, 0) + 1
        first.setdefault(path, {"headers": dict(request.headers), "body": body.decode("utf-8", "replace")})
        await asyncio.sleep(delay)
        return web.Response(status=202)

    async def arrivals(request: web.Request) -> web.Response:
        if request.query.get("counts"):
            return web.json_response({"counts": counts})
        return web.json_response({"counts": counts, "first": first})

    farm = web.Application()
    farm.router.add_post("/{tail:.*}", inbox)
    farm_runner = web.AppRunner(farm, access_log=None)
    await farm_runner.setup()
    for i in range(hosts):
        await web.TCPSite(farm_runner, host(i), port, backlog=1024).start()
    control_app = web.Application()
    control_app.router.add_get("/arrivals", arrivals)
    control_runner = web.AppRunner(control_app, access_log=None)
    await control_runner.setup()
    await web.TCPSite(control_runner, "127.0.0.1", control).start()
    print("ready", flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await farm_runner.cleanup()
    await control_runner.cleanup()


class InboxSink:
    """The sink as a child process of the test, stopped by its own pid."""

    def __init__(self, port: int, control: int, *, hosts: int = 20, delay: float = 0.3) -> None:
        self.port, self.control, self.hosts, self.delay = port, control, hosts, delay
        self.process: subprocess.Popen[str] | None = None

    def inbox(self, i: int) -> str:
        return f"http://{host(i % self.hosts)}:{self.port}/inbox/{i}"

    def start(self) -> InboxSink:
        repo = Path(__file__).resolve().parents[2]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.helpers.inbox_sink", "--port", str(self.port), "--hosts", str(self.hosts),
             "--delay", str(self.delay), "--control", str(self.control)], cwd=repo, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and self.process.poll() is None:
            if self.process.stdout.readline().strip() == "ready":
                return self
        self.stop()
        raise RuntimeError("the inbox sink did not start")

    def counts(self) -> dict[str, int]:
        return dict(httpx.get(f"http://127.0.0.1:{self.control}/arrivals?counts=1", timeout=10).json()["counts"])

    def arrivals(self) -> dict[str, Any]:
        return dict(httpx.get(f"http://127.0.0.1:{self.control}/arrivals", timeout=30).json())

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--delay", type=float, default=0.3)
    parser.add_argument("--control", type=int, required=True)
    args = parser.parse_args()
    asyncio.run(serve(args.port, args.hosts, args.delay, args.control))


if __name__ == "__main__":
    main()
