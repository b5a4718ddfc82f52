"""Inbox benchmark: N signed Create{Note} activities from many remote actors to a running node's shared inbox.

Owns: one web node (`serve`, fresh database; the in-process worker off unless --in-process-worker, so the figure is
the request path: read, digest, signature, parse, store, NOTIFY, 202), remote actors inserted straight into the
accounts table (A actors sharing K generated RSA-2048 key pairs, keyId = actor#main-key, so the inbox finds every
key in its accounts cache and never fetches), and a load generator in its own process (aiohttp, C requests in
flight, every request signed beforehand with federation.signatures.sign_request_cavage so that signing does not
compete with the server for the 2 cores). Figures: verified-and-stored activities/s (rows in inbox_items / time),
with --in-process-worker also the worker's side (stored items / time until none is pending any more),
latency p50/p95/p99 as the generator saw it, server CPU per request, and the node's RSS, and the yardstick of
issue 18: RSA-2048 signatures per second on one core (bench/harness.sign_rate), measured just before and just
after each run, and the ratio of verified-and-stored activities/s to it (the target is 1.0 or more). The warm-up
sends one activity from every actor first (--warmup), so the node holds every key in memory as it would in steady
use. Never: sends traffic outside 127.0.0.0/8 (actor URIs point at 127.0.1.x port 9, where nothing listens,
should anything be fetched).

    python bench/inbox_ingest.py --n 10000 --concurrency 16,64 --repeat 3
    python bench/inbox_ingest.py --log-level warning        # without uvicorn's access log line per request
    python bench/inbox_ingest.py --profile /tmp/prof        # py-spy raw stacks of the node
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (Cluster, RssSampler, cpu_seconds, fetch, machine_line, median,  # noqa: E402
                           percentile, postgres, rss_mib, scalar, sign_rate, temp_dir)


def actor_uri(j: int) -> str:
    return f"https://127.0.1.{1 + j % 250}:9/users/a{j}"


def insert_actors(database_url: str, actors: int, public_pems: list[str]) -> None:
    uris = [actor_uri(j) for j in range(actors)]
    fetch(database_url,
          """INSERT INTO accounts (id, username, kind, domain, actor_uri, inbox_uri, shared_inbox_uri, key_id,
                                   public_key_pem, fetched_at)
             SELECT 2000000 + i, 'a' || (i - 1), 'person', split_part(split_part(u, '://', 2), '/', 1), u,
                    u || '/inbox', 'https://' || split_part(split_part(u, '://', 2), '/', 1) || '/inbox',
                    u || '#main-key', pems[1 + (i - 1) % array_length(pems, 1)], now()
             FROM unnest($1::text[]) WITH ORDINALITY AS t(u, i), (SELECT $2::text[] AS pems) AS k""",
          uris, public_pems)


def make_requests(inbox_url: str, private_pems: list[str], actors: int, start: int, count: int,
                  run: str) -> list[tuple[bytes, dict[str, str]]]:
    from federation import signatures

    keys = [signatures.load_private_key(p) for p in private_pems]
    now = datetime.now(timezone.utc)
    out = []
    for i in range(start, start + count):
        j = i % actors
        actor = actor_uri(j)
        note = f"{actor}/statuses/{run}-{i}"
        body = json.dumps({
            "@context": "https://www.w3.org/ns/activitystreams", "id": f"{note}/activity", "type": "Create",
            "actor": actor, "published": now.isoformat(), "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "cc": [f"{actor}/followers"],
            "object": {"id": note, "type": "Note", "attributedTo": actor, "published": now.isoformat(),
                       "to": ["https://www.w3.org/ns/activitystreams#Public"], "cc": [f"{actor}/followers"],
                       "content": "<p>" + "Benchmark note with some words in it. " * 20 + "</p>"},
        }).encode()
        headers = {"Content-Type": "application/activity+json"}
        headers.update(signatures.sign_request_cavage("POST", inbox_url, headers, body, keys[j % len(keys)],
                                                      f"{actor}#main-key", now))
        out.append((body, headers))
    return out


def generator(inbox_url: str, private_pems: list[str], actors: int, n: int, warmup: int, concurrency: int,
              run: str, ready: Any, go: Any, results: Any) -> None:
    """The load generator process: sign everything, warm up, wait for `go`, then send with C in flight."""
    import aiohttp

    requests = make_requests(inbox_url, private_pems, actors, 0, warmup + n, run)

    async def send(batch: list[tuple[bytes, dict[str, str]]]) -> tuple[list[float], dict[int, int], float]:
        latencies: list[float] = []
        statuses: dict[int, int] = {}
        cursor = 0
        connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
        async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as session:
            async def worker() -> None:
                nonlocal cursor
                while cursor < len(batch):
                    body, headers = batch[cursor]
                    cursor += 1
                    started = time.perf_counter()
                    try:
                        async with session.post(inbox_url, data=body, headers=headers) as response:
                            await response.read()
                            status = response.status
                    except (aiohttp.ClientError, TimeoutError):
                        status = 0
                    latencies.append(time.perf_counter() - started)
                    statuses[status] = statuses.get(status, 0) + 1
            t0 = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            return latencies, statuses, time.perf_counter() - t0

    asyncio.run(send(requests[:warmup]))
    ready.set()
    go.wait()
    latencies, statuses, elapsed = asyncio.run(send(requests[warmup:]))
    results.put({"latencies": latencies, "statuses": statuses, "elapsed": elapsed})


def run_once(pg: Any, args: argparse.Namespace, concurrency: int, keys: tuple[list[str], list[str]],
             run: str) -> dict[str, Any]:
    private_pems, public_pems = keys
    with temp_dir("ao-inbox-") as tmp:
        database = pg.fresh_database()
        cluster = Cluster(database_url=database, data_dir=Path(tmp) / "node",
                          in_process_worker=args.in_process_worker, log_level=args.log_level)
        profiler = None
        try:
            cluster.start()
            assert cluster.web is not None
            insert_actors(database, args.actors, public_pems)
            inbox_url = f"{cluster.web.url}/inbox"
            ctx = multiprocessing.get_context("spawn")
            ready, go, results = ctx.Event(), ctx.Event(), ctx.Queue()
            warmup = args.warmup if args.warmup is not None else args.actors
            gen = ctx.Process(target=generator, daemon=True,
                              args=(inbox_url, private_pems, args.actors, args.n, warmup, concurrency, run,
                                    ready, go, results))
            gen.start()
            try:
                if not ready.wait(600):
                    raise RuntimeError("the load generator did not get ready in 600 s")
                stored_before = scalar(database, "SELECT count(*) FROM inbox_items")
                pid = cluster.web_pid
                idle = rss_mib(pid)
                if args.profile is not None:
                    args.profile.mkdir(parents=True, exist_ok=True)
                    profiler = subprocess.Popen(
                        [str(Path(sys.executable).parent / "py-spy"), "record", "-p", str(pid), "-r", "200", "-f",
                         "raw", "-o", str(args.profile / f"inbox-c{concurrency}-{run}-{pid}.txt"), "-d", "600"],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    time.sleep(1.0)
                yard_before = sign_rate()
                cpu0 = cpu_seconds(pid)
                with RssSampler({"web": pid}) as rss:
                    go.set()
                    started = time.monotonic()
                    result = results.get(timeout=600)
                    handled_s = None
                    if args.in_process_worker:  # the worker's side: until every stored item is handled
                        while time.monotonic() - started < 600:
                            if not scalar(database, "SELECT count(*) FROM inbox_items WHERE state = 'pending'"):
                                handled_s = time.monotonic() - started
                                break
                            time.sleep(0.1)
                cpu = cpu_seconds(pid) - cpu0
                yardstick = (yard_before + sign_rate()) / 2
                if profiler is not None:
                    profiler.send_signal(2)
                    profiler.wait(timeout=30)
                    profiler = None
            finally:
                gen.join(10)
                if gen.is_alive():
                    gen.kill()
                    gen.join()
            stored = scalar(database, "SELECT count(*) FROM inbox_items") - stored_before
        finally:
            if profiler is not None:
                profiler.kill()
                profiler.wait()
            cluster.stop()
    lat = [x * 1000 for x in result["latencies"]]
    return {"c": concurrency, "n": args.n, "stored": stored, "statuses": result["statuses"],
            "rate": stored / result["elapsed"], "yardstick": yardstick,
            "ratio": stored / result["elapsed"] / yardstick, "handled_rate": stored / handled_s if handled_s else None,
            "p50": percentile(lat, 50), "p95": percentile(lat, 95),
            "p99": percentile(lat, 99), "max": max(lat), "cpu_us": cpu / max(args.n, 1) * 1e6,
            "rss_idle": idle, "rss_peak": rss.peak["web"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10000, help="activities per run (default 10000)")
    parser.add_argument("--actors", type=int, default=2000, help="distinct remote actors (default 2000)")
    parser.add_argument("--warmup", type=int, default=None,
                        help="activities sent before measuring (default: one per actor)")
    parser.add_argument("--keys", type=int, default=20, help="distinct RSA key pairs among them (default 20)")
    parser.add_argument("--concurrency", default="16,64", help="requests in flight, comma-separated (default 16,64)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per cell; medians are shown (default 1)")
    parser.add_argument("--in-process-worker", action="store_true",
                        help="let the node's worker process the stored items meanwhile (default off)")
    parser.add_argument("--log-level", default="info", help="the node's log level (default info, as deployed)")
    parser.add_argument("--profile", type=Path, default=None, help="folder for py-spy raw stacks of the node")
    args = parser.parse_args()
    from federation import keys as keys_module
    pairs = [keys_module.new_key_pair() for _ in range(args.keys)]
    keys = ([p[0] for p in pairs], [p[1] for p in pairs])
    rows = []
    with postgres() as pg:
        for concurrency in [int(c) for c in args.concurrency.split(",")]:
            runs = []
            for k in range(args.repeat):
                r = run_once(pg, args, concurrency, keys, f"c{concurrency}r{k}")
                runs.append(r)
                print(f"  c={concurrency}: {r['stored']}/{r['n']} stored, {r['rate']:.0f}/s, "
                      f"yardstick {r['yardstick']:.0f} signs/s, ratio {r['ratio']:.2f}, p50 {r['p50']:.1f} ms, "
                      f"p99 {r['p99']:.1f} ms, {r['cpu_us']:.0f} µs node CPU/request, statuses {r['statuses']}, "
                      f"handled by the worker {r['handled_rate'] or 0:.0f}/s, "
                      f"RSS {r['rss_idle']:.0f}→{r['rss_peak']:.0f} MiB", file=sys.stderr, flush=True)
            row = dict(runs[-1])
            for key in ("rate", "yardstick", "ratio", "p50", "p95", "p99", "cpu_us", "rss_idle", "rss_peak", "stored"):
                row[key] = median([r[key] for r in runs])
            row["rates"] = [r["rate"] for r in runs]
            handled = [r["handled_rate"] for r in runs if r["handled_rate"]]
            row["handled_rate"] = median(handled) if handled else None
            rows.append(row)
    print(f"\nInbox ingest: N={args.n} signed Create{{Note}} from {args.actors} remote actors ({args.keys} RSA keys), "
          f"keys preloaded in the accounts cache (inserted in the DB, keyId = actor#main-key: no fetches), in-process "
          f"worker {'on' if args.in_process_worker else 'off'}, node log level {args.log_level}; median of "
          f"{args.repeat}; {machine_line()}\n")
    print("| in flight | stored/N | verified+stored/s | yardstick signs/s | ratio | handled by the worker/s | p50 ms "
          "| p95 ms | p99 ms | node CPU µs/request | node RSS idle → peak MiB |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        runs = f" ({', '.join(f'{x:.0f}' for x in r['rates'])})" if args.repeat > 1 else ""
        handled = "—" if r["handled_rate"] is None else f"{r['handled_rate']:.0f}"
        print(f"| {r['c']} | {r['stored']:.0f}/{r['n']} | {r['rate']:.0f}{runs} | {r['yardstick']:.0f} "
              f"| {r['ratio']:.2f} | {handled} | {r['p50']:.1f} | {r['p95']:.1f} "
              f"| {r['p99']:.1f} | {r['cpu_us']:.0f} | {r['rss_idle']:.0f} → {r['rss_peak']:.0f} |")


if __name__ == "__main__":
    main()
