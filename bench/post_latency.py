"""POST /api/v1/statuses latency for an account with F remote followers on F distinct shared inboxes.

Owns: per mode a fresh database and web node, F followers inserted in one SQL statement (each its own shared inbox
on the TLS inbox farm of bench/harness.py: 200 loopback hosts, one port), a warm-up, then P posts one after another
over one kept-alive connection, timing each request. Modes: `off` = the in-process worker is off, so this is the
request path alone (validate, store, outbox event, NOTIFY); `on` = the in-process worker runs in the same process and
turns each post into F deliveries and sends them to the farm meanwhile (the event loop is shared). Never: sends
traffic outside 127.0.0.0/8; leaves processes running.

    python bench/post_latency.py --followers 10000 --posts 200 --modes off,on --repeat 3
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402

from bench.harness import (Cluster, RssSampler, Sink, create_poster, free_port, insert_followers,  # noqa: E402
                           machine_line, median, percentile, plan_farm, postgres, rss_mib, scalar, temp_dir)


def run_once(pg: Any, followers: int, posts: int, mode: str, profile: Path | None = None) -> dict[str, Any]:
    with temp_dir("ao-post-") as tmp:
        port = free_port("127.0.0.10")
        farm = plan_farm(port, "none")
        with Sink(farm, Path(tmp)) as sink:
            database = pg.fresh_database()
            cluster = Cluster(database_url=database, data_dir=Path(tmp) / "node", ca_bundle=str(sink.ca),
                              in_process_worker=(mode == "on"))
            try:
                cluster.start()
                assert cluster.web is not None
                account_id, token = create_poster(cluster.web)
                httpx.get(f"{cluster.web.url}/users/anna", headers={"Accept": "application/activity+json"})
                hosts = farm.hosts
                insert_followers(database, account_id, [f"https://{hosts[i % len(hosts)]}:{port}/inbox/{i}"
                                                        for i in range(followers)])
                pid = cluster.web_pid
                idle = rss_mib(pid)
                latencies = []
                profiler = None
                if profile is not None:
                    profile.mkdir(parents=True, exist_ok=True)
                    profiler = subprocess.Popen(
                        [str(Path(sys.executable).parent / "py-spy"), "record", "-p", str(pid), "-r", "200", "-f",
                         "raw", "-o", str(profile / f"post-{mode}-{pid}.txt"), "-d", "600"],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    time.sleep(1.0)
                with httpx.Client(base_url=cluster.web.url, headers={"Authorization": f"Bearer {token}"},
                                  timeout=60) as client:
                    for i in range(10):
                        client.post("/api/v1/statuses", data={"status": f"warm-up {i}"}).raise_for_status()
                    with RssSampler({"web": pid}) as rss:
                        for i in range(posts):
                            started = time.perf_counter()
                            response = client.post("/api/v1/statuses", data={"status": f"Post number {i}"})
                            latencies.append((time.perf_counter() - started) * 1000)
                            if response.status_code != 200:
                                raise RuntimeError(f"POST /api/v1/statuses: {response.status_code} "
                                                   f"{response.text[:300]}")
                if profiler is not None:
                    profiler.send_signal(2)
                    profiler.wait(timeout=30)
                queued = scalar(database, "SELECT count(*) FROM deliveries")
                delivered = sink.stats()["counts"]["live"]
            finally:
                cluster.stop()
    return {"mode": mode, "p50": percentile(latencies, 50), "p95": percentile(latencies, 95),
            "p99": percentile(latencies, 99), "max": max(latencies), "queued": queued, "delivered": delivered,
            "rss_idle": idle, "rss_peak": rss.peak["web"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--followers", type=int, default=10000, help="remote followers, each its own inbox")
    parser.add_argument("--posts", type=int, default=200, help="posts timed per run (default 200)")
    parser.add_argument("--modes", default="off,on", help="in-process worker off and/or on (default both)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per mode; medians are shown (default 1)")
    parser.add_argument("--profile", type=Path, default=None, help="folder for py-spy raw stacks of the node")
    args = parser.parse_args()
    rows = []
    with postgres() as pg:
        for mode in args.modes.split(","):
            runs = []
            for _ in range(args.repeat):
                r = run_once(pg, args.followers, args.posts, mode, args.profile)
                runs.append(r)
                print(f"  worker {mode}: p50 {r['p50']:.1f} ms, p95 {r['p95']:.1f}, p99 {r['p99']:.1f}, max "
                      f"{r['max']:.1f}; deliveries queued {r['queued']}, delivered {r['delivered']}; RSS "
                      f"{r['rss_idle']:.0f}→{r['rss_peak']:.0f} MiB", file=sys.stderr, flush=True)
            row = dict(runs[-1])
            for key in ("p50", "p95", "p99", "max", "queued", "delivered", "rss_idle", "rss_peak"):
                row[key] = median([r[key] for r in runs])
            row["p99s"] = [r["p99"] for r in runs]
            rows.append(row)
    print(f"\nPOST /api/v1/statuses, {args.posts} posts one after another (after 10 warm-up posts), author with "
          f"{args.followers} remote followers on as many inboxes; median of {args.repeat}; {machine_line()}\n")
    print("| in-process worker | p50 ms | p95 ms | p99 ms | max ms | deliveries queued meanwhile | delivered meanwhile "
          "| node RSS idle → peak MiB |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        runs = f" ({', '.join(f'{x:.0f}' for x in r['p99s'])})" if args.repeat > 1 else ""
        print(f"| {r['mode']} | {r['p50']:.1f} | {r['p95']:.1f} | {r['p99']:.1f}{runs} | {r['max']:.1f} "
              f"| {r['queued']:.0f} | {r['delivered']:.0f} | {r['rss_idle']:.0f} → {r['rss_peak']:.0f} |")


if __name__ == "__main__":
    main()
