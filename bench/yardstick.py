"""The read benchmarks' yardstick and load generator: a trivial Starlette app (1 KB of JSON, one process) that
each run measures beside the node, and one `wrk` run (Debian's package: `apt-get install -y wrk`) parsed into
requests/s, the 99th percentile and the count of non-2xx/3xx answers.

Owns: starting and stopping the trivial app, and running wrk. Never: sends traffic outside 127.0.0.1.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.helpers.nodes import free_port  # noqa: E402

TRIVIAL_APP = """
import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
DOC = {"items": [{"id": i, "name": "x" * 40, "ok": True} for i in range(16)]}
async def doc(request):
    return JSONResponse(DOC)
app = Starlette(routes=[Route("/json", doc)])
uvicorn.run(app, host="127.0.0.1", port=int(__import__("sys").argv[1]), log_level="warning", access_log=False)
"""


@dataclass(frozen=True)
class Result:
    rps: float
    p99_ms: float
    non_2xx: int


def wrk(url: str, seconds: int, connections: int, headers: tuple[tuple[str, str], ...] = ()) -> Result:
    """One wrk run after a 2 s warm-up."""
    args = ["wrk", "-t1", f"-c{connections}", "--latency"]
    for name, value in headers:
        args += ["-H", f"{name}: {value}"]
    subprocess.run([*args, "-d2s", url], capture_output=True, check=True)
    out = subprocess.run([*args, f"-d{seconds}s", url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    assert p99 is not None, out
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return Result(rps, float(p99.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)],
                  int(bad.group(1)) if bad else 0)


@contextmanager
def trivial_app() -> Iterator[str]:
    """The yardstick's URL while it runs."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-c", TRIVIAL_APP, str(port)])
    try:
        for _ in range(100):
            try:
                httpx.get(f"http://127.0.0.1:{port}/json", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/json"
    finally:
        process.terminate()
        process.wait(timeout=10)
