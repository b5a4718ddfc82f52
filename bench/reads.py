"""What people feel when they read: requests per second and p99 of the read endpoints of issue 18's table, each as a
share of a trivial Starlette app (1 KB of JSON) measured in the same run, so that figures compare across runs on a
noisy machine.

Owns: starting the yardstick app and one node (`serve`, one web process, no worker), filling that node with a small
realistic set of rows through its own CLI and API (or using a database seeded by bench/seed.py, `--seed-json`), and
driving every endpoint with `wrk` (Debian's package: `apt-get install -y wrk`) at a fixed number of connections.
Never: sends traffic outside 127.0.0.1; leaves a process running.

    python bench/reads.py --seconds 8 --connections 64
    python bench/reads.py --database-url postgresql://... --seed-json /tmp/seed.json   # at size (bench/seed.py)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import Cluster, create_poster, machine_line, postgres  # noqa: E402
from bench.yardstick import trivial_app, wrk  # noqa: E402

AP = "application/activity+json"

@dataclass(frozen=True)
class Target:
    name: str
    path: str
    headers: tuple[tuple[str, str], ...] = ()


def fill_small(base: str, node: object) -> dict[str, object]:
    """A poster with 60 posts from 12 accounts it follows in its home timeline, notifications, and a public post."""
    anna_id, token = create_poster(node, "anna")  # type: ignore[arg-type]
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, timeout=30) as client:
        for n in range(12):
            _, other = create_poster(node, f"p{n}")  # type: ignore[arg-type]
            other_auth = {"Authorization": f"Bearer {other}"}
            mine = client.get(f"/api/v1/accounts/lookup?acct=p{n}", headers=auth).json()["id"]
            client.post(f"/api/v1/accounts/{mine}/follow", headers=auth).raise_for_status()
            client.post(f"/api/v1/accounts/{anna_id}/follow", headers=other_auth).raise_for_status()
            for k in range(5):
                text = f"Bericht {k} van p{n} over de #begroting, @anna" if k == 0 else f"Bericht {k} van p{n}"
                client.post("/api/v1/statuses", headers=other_auth,
                            json={"status": text, "visibility": "public"}).raise_for_status()
        post = client.post("/api/v1/statuses", headers=auth,
                           json={"status": "De raad vergadert donderdag over de begroting.",
                                 "visibility": "public"}).json()
    return {"username": "anna", "token": token, "post_id": post["id"]}


def seed_ids(written: dict[str, Any]) -> dict[str, object]:
    """What bench/seed.py --out wrote: the public post and its author, and the reader (200 follows) for the API."""
    ids = written["ids"]
    return {"username": ids["public_post_author"], "post_id": ids["public_post_id"], "token": ids["reader_token"]}


def targets(domain: str, seed: dict[str, object]) -> list[Target]:
    user, post, token = seed["username"], seed["post_id"], seed["token"]
    bearer = (("Authorization", f"Bearer {token}"),)
    return [
        Target("WebFinger", f"/.well-known/webfinger?resource=acct:{user}@{domain}"),
        Target("actor JSON", f"/users/{user}", (("Accept", AP),)),
        Target("a post as ActivityPub JSON", f"/users/{user}/statuses/{post}", (("Accept", AP),)),
        Target("NodeInfo", "/nodeinfo/2.1"),
        Target("notifications (API)", "/api/v1/notifications", bearer),
        Target("a status (API)", f"/api/v1/statuses/{post}", bearer),
        Target("profile page", f"/@{user}"),
        Target("public timeline, 20 (API)", "/api/v1/timelines/public?limit=20", bearer),
        Target("post page", f"/@{user}/{post}"),
        Target("home timeline, 40 (API)", "/api/v1/timelines/home?limit=40", bearer),
    ]


def run(args: argparse.Namespace) -> None:
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install -y wrk")
    print(machine_line())
    with tempfile.TemporaryDirectory(prefix="bench-reads-") as tmp, postgres() as pg:
        database_url = args.database_url or pg.fresh_database()
        cluster = Cluster(database_url=database_url, data_dir=Path(tmp) / "data",
                          extra_env={"AMBTENAAR_WEB_PROCESSES": "1"}).start()
        try:
            assert cluster.web is not None
            base = cluster.web.url
            seed = seed_ids(json.loads(Path(args.seed_json).read_text())) if args.seed_json \
                else fill_small(base, cluster.web)
            rows = []
            with trivial_app() as yardstick_url:
                for target in targets(cluster.web.domain, seed):
                    if args.only and args.only not in target.name:
                        continue
                    # The yardstick right before each endpoint: the machine's load drifts within a run.
                    yard = wrk(yardstick_url, args.seconds, args.connections)
                    rows.append((target, yard, wrk(base + target.path, args.seconds, args.connections,
                                                   target.headers)))
        finally:
            cluster.stop()
    print(f"\n{args.connections} connections, {args.seconds} s per run, load now {os.getloadavg()[0]:.1f}; the "
          "yardstick is the trivial app (1 KB JSON) measured just before each endpoint\n")
    print("| what | req/s | p99 ms | yardstick req/s | share of the trivial app | non-2xx |")
    print("|---|---|---|---|---|---|")
    for target, yard, result in rows:
        print(f"| {target.name} | {result.rps:,.0f} | {result.p99_ms:.0f} | {yard.rps:,.0f} | "
              f"{result.rps / yard.rps:.2f} | {result.non_2xx} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=8, help="seconds per endpoint (after a 2 s warm-up)")
    parser.add_argument("--connections", type=int, default=64, help="connections held open by wrk")
    parser.add_argument("--database-url", default="", help="use this (seeded) database instead of a fresh one")
    parser.add_argument("--seed-json", default="", help="ids and token written by bench/seed.py --out")
    parser.add_argument("--only", default="", help="measure only endpoints whose name contains this")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
