"""Benchmark: one web process against several on one port (`serve --web-processes N`): requests/s on a cheap
endpoint with `wrk`, as a share of a trivial Starlette app measured in the same run, and the RSS of every web
process after start-up, at the end of the load, and of the supervisor.

Owns: starting the yardstick app and one node per process count (fresh database, in-process worker on, as `serve`
runs by default). Never: sends traffic outside 127.0.0.1; leaves a process running.

    python bench/web_processes.py --processes 1,2 --seconds 8 --connections 64
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import rss_mib  # noqa: E402
from bench.yardstick import trivial_app, wrk  # noqa: E402
from tests.helpers.database import test_postgres  # noqa: E402
from tests.helpers.nodes import Node  # noqa: E402

def web_pids(node: Node) -> list[int]:
    """The processes that serve: the node's own, or its spawned children when it supervises several."""
    assert node.process is not None
    pid = node.process.pid
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if int(stat.rpartition(")")[2].split()[1]) == pid and b"spawn_main" in cmdline:
                found.append(int(entry.name))
    return sorted(found) or [pid]


def measure(database_url: str, processes: int, seconds: int, connections: int, path: str) -> str:
    with tempfile.TemporaryDirectory() as folder:
        node = Node(database_url=database_url, data_dir=Path(folder), web_processes=processes).start(timeout=180)
        try:
            time.sleep(3)  # quiet after start-up
            pids = web_pids(node)
            idle = [rss_mib(pid) for pid in pids]
            peak = dict.fromkeys(pids, 0.0)
            done = threading.Event()

            def sample() -> None:
                while not done.wait(0.5):
                    for pid in pids:
                        peak[pid] = max(peak[pid], rss_mib(pid))

            sampler = threading.Thread(target=sample)
            sampler.start()
            try:
                result = wrk(node.url + path, seconds, connections)
            finally:
                done.set()
                sampler.join()
            assert node.process is not None
            supervisor = f"{rss_mib(node.process.pid):.0f}" if processes > 1 else "-"
        finally:
            node.stop()
    rss = ", ".join(f"{a:.0f} → {peak[p]:.0f}" for a, p in zip(idle, pids))
    return f"{result.rps:,.0f} | {result.p99_ms:.0f} | {result.non_2xx} | {rss} | {supervisor}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--processes", default="1,2", help="process counts to compare, comma-separated")
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--path", default="/api/v1/instance", help="the endpoint driven by wrk")
    args = parser.parse_args()
    counts = [int(n) for n in args.processes.split(",")]
    rows = []
    with test_postgres(os.environ.get("DATABASE_URL")) as server, trivial_app() as yardstick:
        before = wrk(yardstick, args.seconds, args.connections)
        for count in counts:
            rows.append((count, measure(server.fresh_database(), count, args.seconds, args.connections, args.path)))
        after = wrk(yardstick, args.seconds, args.connections)
    yard = (before.rps + after.rps) / 2
    print(f"\nyardstick (trivial app, one process): {before.rps:,.0f} and {after.rps:,.0f} req/s; "
          f"{args.connections} connections, {args.seconds} s, GET {args.path}; load {os.getloadavg()[0]:.1f}, "
          f"{os.cpu_count()} cores\n")
    print("| web processes | req/s | share of the trivial app | p99 ms | non-2xx | RSS MiB per web process, "
          "after start-up → peak under load | supervisor RSS MiB |")
    print("|---|---|---|---|---|---|---|")
    for count, row in rows:
        rps = float(row.split(" | ")[0].replace(",", ""))
        first, rest = row.split(" | ", 1)
        print(f"| {count} | {first} | {rps / yard:.2f} | {rest} |")


if __name__ == "__main__":
    main()
