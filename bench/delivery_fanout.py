"""Fan-out benchmark: one post through POST /api/v1/statuses to N remote followers on N distinct shared inboxes.

Owns: one run per cell of (N, workers, connections, bad hosts). Each cell gets a fresh database, a TLS inbox farm in
its own process (200 loopback hosts 127.0.0.10-209, one port; the node trusts its CA through --ca-bundle and has
--allow-private-addresses on), a web node (`serve`, in-process worker off unless workers=inproc) and 1 or 2
`ambtenaar worker` processes. N remote followers are inserted in one SQL statement (follower i has the shared inbox
https://127.0.0.<10 + i mod 200>:PORT/inbox/i), then one post is published through the API, so the real outbox path
(outbox event -> enqueue N deliveries -> claim, sign, POST, record) does the work. The farm records the first
arrival of every inbox path (CLOCK_MONOTONIC, shared by all processes), from which the figures come:

- signed deliveries/s: live inboxes reached between the 5 % and 95 % marks, divided by that time (steady rate);
- t95: seconds from the POST until 95 % of the live inboxes had the activity (also t_first, t50, t100);
- RSS of the web node and of each worker process, idle (before the post) and peak (sampled every 0.2 s).

Connections: `keep` = the farm keeps connections alive (one TLS handshake per host, then reuse); `cold` = the farm
answers `Connection: close`, so every delivery pays a new TCP + TLS handshake. Bad hosts (10 % of the hosts, so
10 % of the inboxes): `dead` = half refuse connections (nothing listens), half answer 503; `slow` = they answer
202 after 5 s. Never: sends traffic outside 127.0.0.0/8, runs unbounded (each cell stops at --timeout), or leaves a
process running.

Distinct servers (`--hosts N`, any N but 200; issue 18): follower i's inbox is on its own named server
h<i mod N>.farm.test, each needing its own DNS lookup, TCP connection and TLS handshake, behind the farm's own DNS
server (bench/named_farm.py; the run goes into a private mount namespace whose /etc/resolv.conf names it). Bad
hosts there: `dead` = half refused, half hung (they accept TCP and never answer, so the connect times out),
`mixed` = 5 % dead (2.5 % refused, 2.5 % hung) and 5 % slow. The line per run also gives the yardstick (one-core
RSA-2048 signs/s just before the post), TLS sessions the farm saw resumed and the DNS queries it answered.

    python bench/delivery_fanout.py --n 1000,10000 --workers 1,2 --conn keep,cold --bad none,dead,slow
    python bench/delivery_fanout.py --n 10000 --workers 2 --conn keep --bad none --repeat 3
    python bench/delivery_fanout.py --n 10000 --workers inproc --profile /tmp/prof   # py-spy on the worker(s)
    python bench/delivery_fanout.py --n 10000 --hosts 10000 --workers 2 --conn cold --bad mixed --repeat 3
"""

from __future__ import annotations

import argparse
import itertools
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402

from bench.harness import (Cluster, Farm, RssSampler, Sink, create_poster, fetch, free_port, insert_followers,  # noqa: E402
                           cpu_seconds, machine_line, median, plan_farm, postgres, rss_mib, sign_rate,
                           temp_dir)
from bench.named_farm import NamedFarm, plan_named_farm, private_resolver  # noqa: E402


def mark(times: list[float], share: float) -> float | None:
    if not times:
        return None
    index = max(0, int(len(times) * share + 0.999999) - 1)
    return times[index] if index < len(times) else None


def run_cell(pg: Any, n: int, workers: str, conn: str, bad: str, timeout: float,
             profile_dir: Path | None, hosts_wanted: int = 200, dns_ms: float = 0.0) -> dict[str, Any]:
    with temp_dir("ao-fanout-") as tmp:
        port = free_port("127.0.0.10")
        farm: Farm | NamedFarm = (plan_farm(port, bad) if hosts_wanted == 200
                                  else plan_named_farm(port, bad, hosts_wanted, dns_ms))
        with Sink(farm, Path(tmp), cold=(conn == "cold"), lifetime=timeout + 600) as sink:
            database = pg.fresh_database()
            cluster = Cluster(database_url=database, data_dir=Path(tmp) / "node", ca_bundle=str(sink.ca),
                              in_process_worker=(workers == "inproc"))
            profilers: list[subprocess.Popen[bytes]] = []
            try:
                cluster.start()
                assert cluster.web is not None
                account_id, token = create_poster(cluster.web)
                # Makes anna's key now, so that RSA key generation is not part of the measurement.
                httpx.get(f"{cluster.web.url}/users/anna", headers={"Accept": "application/activity+json"})
                hosts = farm.hosts
                inboxes = [f"https://{hosts[i % len(hosts)]}:{port}/inbox/{i}" for i in range(n)]
                live_hosts = set(farm.live)
                expected_live = sum(1 for i in range(n) if hosts[i % len(hosts)] in live_hosts)
                seed_seconds = insert_followers(database, account_id, inboxes)
                if workers != "inproc":
                    cluster.spawn_workers(int(workers))
                time.sleep(3.0)  # workers connect, listen, and settle
                pids = {"web": cluster.web_pid} | {f"worker{k + 1}": p.pid for k, p in enumerate(cluster.workers)}
                idle = {name: rss_mib(pid) for name, pid in pids.items()}
                if profile_dir is not None:
                    profile_dir.mkdir(parents=True, exist_ok=True)
                    targets = [p for name, p in pids.items() if name != "web" or workers == "inproc"]
                    for pid in targets:
                        out = profile_dir / f"fanout-{n}-{workers}-{conn}-{bad}-{pid}.txt"
                        profilers.append(subprocess.Popen(
                            [str(Path(sys.executable).parent / "py-spy"), "record", "-p", str(pid), "-r", "200",
                             "-f", "raw", "-o", str(out), "-d", str(int(timeout))],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
                    time.sleep(1.0)
                signs = sign_rate(0.5)  # this run's yardstick, just before the post
                sink.reset()
                delivering = [pid for name, pid in pids.items() if name != "web" or workers == "inproc"]
                cpu0 = sum(cpu_seconds(pid) for pid in delivering)
                sink_cpu0 = cpu_seconds(sink.pid)
                with RssSampler(pids) as rss, httpx.Client(timeout=30) as client:
                    t0 = time.monotonic()
                    response = client.post(f"{cluster.web.url}/api/v1/statuses",
                                            headers={"Authorization": f"Bearer {token}"},
                                            data={"status": "Benchmark fan-out", "visibility": "public"})
                    post_ms = (time.monotonic() - t0) * 1000
                    if response.status_code != 200:
                        raise RuntimeError(f"POST /api/v1/statuses: {response.status_code} {response.text[:300]}")
                    deadline = t0 + timeout
                    stats = sink.stats()
                    while stats["counts"]["live"] < expected_live and time.monotonic() < deadline:
                        time.sleep(0.25)
                        stats = sink.stats()
                    ended = time.monotonic()
                    cpu = sum(cpu_seconds(pid) for pid in delivering) - cpu0
                    sink_cpu = cpu_seconds(sink.pid) - sink_cpu0
                for profiler in profilers:
                    profiler.send_signal(2)  # SIGINT: py-spy writes what it has
                for profiler in profilers:
                    try:
                        profiler.wait(timeout=30)
                    except subprocess.TimeoutExpired:
                        profiler.kill()
                profilers = []
                states = {r["state"]: r["n"] for r in fetch(
                    database, "SELECT state, count(*) AS n FROM deliveries GROUP BY state")}
            finally:
                for profiler in profilers:
                    profiler.kill()
                    profiler.wait()
                cluster.stop()
    times = [t - t0 for t in stats["first"]]
    reached = len(times)
    t5, t95 = mark(times, 0.05), mark(times, 0.95) if reached >= 0.95 * expected_live else None
    steady = None
    if t5 is not None and reached >= 0.95 * expected_live:
        i5, i95 = int(0.05 * expected_live), int(0.95 * expected_live) - 1
        span = times[i95] - times[i5]
        steady = (i95 - i5) / span if span > 0 else None
    overall = reached / (times[-1] - times[0]) if reached > 1 and times[-1] > times[0] else None
    return {
        "n": n, "workers": workers, "conn": conn, "bad": bad, "expected_live": expected_live, "reached": reached,
        "signs": signs, "dns": stats["counts"].get("dns"), "resumed": stats["counts"].get("resumed"),
        "duplicates": stats["counts"]["duplicates"], "connections": stats["counts"]["connections"], "signed": stats["counts"]["signed"], "post_ms": post_ms,
        "t_first": times[0] if times else None, "t50": mark(times, 0.5) if reached >= 0.5 * expected_live else None,
        "t95": t95, "t100": times[-1] if reached >= expected_live else None, "rate": steady, "overall": overall,
        "wall": ended - t0, "cpu_us": cpu / max(stats["counts"]["signed"], 1) * 1e6,
        "sink_cpu_us": sink_cpu / max(stats["counts"]["signed"], 1) * 1e6, "seed_s": seed_seconds, "states": states,
        "rss_idle": idle, "rss_peak": dict(rss.peak),
    }


def fmt(value: float | None, spec: str = ".1f") -> str:
    return "—" if value is None else format(value, spec)


def combine(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Median of each figure over repeated runs (a missing figure counts as missing)."""
    out = dict(runs[-1])
    for key in ("t_first", "t50", "t95", "t100", "rate", "overall", "post_ms", "reached", "cpu_us", "connections",
                "signs"):
        values = [r[key] for r in runs if r[key] is not None]
        out[key] = median(values) if len(values) > len(runs) / 2 else None
    out["rates"] = [r["rate"] for r in runs]
    out["t95s"] = [r["t95"] for r in runs]
    for key in ("rss_idle", "rss_peak"):
        out[key] = {name: median([r[key].get(name, 0.0) for r in runs]) for name in runs[-1][key]}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", default="1000,10000", help="comma-separated follower counts (default 1000,10000)")
    parser.add_argument("--workers", default="1,2",
                        help="comma-separated: number of `ambtenaar worker` processes, or inproc (default 1,2)")
    parser.add_argument("--conn", default="keep,cold", help="keep and/or cold (default both)")
    parser.add_argument("--bad", default="none,dead,slow",
                        help="none, dead, slow (default all three); mixed (5 %% dead, 5 %% slow) with --hosts")
    parser.add_argument("--hosts", type=int, default=200,
                        help="distinct servers: 200 (default) = the farm of 200 loopback IP addresses; any other "
                             "number = that many named servers h<i>.farm.test behind the farm's own DNS server (run "
                             "in a private mount namespace: needs root or user namespaces)")
    parser.add_argument("--dns-ms", type=float, default=0.0,
                        help="with named servers: milliseconds the farm's DNS takes to answer (default 0)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per cell; medians are shown (default 1)")
    parser.add_argument("--timeout", type=float, default=150.0, help="seconds per run at most (default 150)")
    parser.add_argument("--profile", type=Path, default=None,
                        help="folder for py-spy raw (collapsed) stacks of the delivering processes")
    args = parser.parse_args()
    if args.hosts != 200:
        private_resolver(sys.argv)
    cells = list(itertools.product([int(x) for x in args.n.split(",")], args.workers.split(","),
                                   args.conn.split(","), args.bad.split(",")))
    rows = []
    with postgres() as pg:
        for n, workers, conn, bad in cells:
            runs = []
            for _ in range(args.repeat):
                result = run_cell(pg, n, workers, conn, bad, args.timeout, args.profile, args.hosts, args.dns_ms)
                runs.append(result)
                print(f"  n={n} workers={workers} conn={conn} bad={bad}: {result['reached']}/{result['expected_live']}"
                      f" live, {result['cpu_us']:.0f} µs worker CPU/delivery (sink {result['sink_cpu_us']:.0f}), rate {fmt(result['rate'], '.0f')}/s, t95 {fmt(result['t95'])} s, yardstick {result['signs']:.0f} signs/s, "
                      f"post {result['post_ms']:.0f} ms, TLS connections {result['connections']} (resumed {result['resumed']}, DNS queries {result['dns']}), states {result['states']}, dup {result['duplicates']}, "
                      f"RSS idle {result['rss_idle']} peak {result['rss_peak']}", file=sys.stderr, flush=True)
            rows.append(combine(runs))
    print(f"\nDelivery fan-out, one post via POST /api/v1/statuses to N distinct TLS inboxes "
          f"({args.hosts} distinct servers); median of {args.repeat} run(s); {machine_line()}\n")
    print("| N | workers | conn | bad hosts | live reached | signed deliveries/s (5–95 %) | t_first s | t50 s "
          "| t95 s | t100 s | worker CPU µs/delivery | TLS conns | RSS idle → peak MiB (web; workers) | yardstick signs/s "
          "| POST ms |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        memory = "; ".join(f"{name} {r['rss_idle'][name]:.0f}→{r['rss_peak'][name]:.0f}" for name in r["rss_idle"])
        runs = ""
        if args.repeat > 1:
            runs = " (" + ", ".join(fmt(x, ".0f") for x in r["rates"]) + ")"
        print(f"| {r['n']} | {r['workers']} | {r['conn']} | {r['bad']} | {fmt(r['reached'], '.0f')}/{r['expected_live']} "
              f"| {fmt(r['rate'], '.0f')}{runs} | {fmt(r['t_first'], '.2f')} | {fmt(r['t50'])} | {fmt(r['t95'])} "
              f"| {fmt(r['t100'])} | {fmt(r['cpu_us'], '.0f')} | {fmt(r['connections'], '.0f')} | {memory} "
              f"| {fmt(r['signs'], '.0f')} | {fmt(r['post_ms'], '.0f')} |")


if __name__ == "__main__":
    main()
