"""Summarise py-spy raw (collapsed) stacks: the functions with the most inclusive and self samples.

    python bench/pyspy_top.py /tmp/prof/fanout-10000-2-keep-none-1234.txt [--top 25] [--idle]

Owns: reading `py-spy record -f raw` output (one "frame;frame;... count" line per distinct stack). Never: runs
py-spy itself (delivery_fanout.py --profile and inbox_ingest.py --profile do). Idle samples (the event loop waiting
in select/epoll) are left out unless --idle, so percentages are of busy time.
"""

from __future__ import annotations

import argparse
import collections
import re
from pathlib import Path

IDLE = re.compile(r"\b(select|poll|epoll_wait|_run_once \(uvloop|run_forever \(uvloop|wait \(threading)")


def short(frame: str) -> str:
    # "function (path/to/module.py:123)" -> "function (module.py)"
    match = re.match(r"(.*) \((.*?):?\d*\)$", frame)
    if not match:
        return frame
    name, path = match.groups()
    parts = Path(path).parts
    where = "/".join(parts[-2:]) if len(parts) >= 2 else path
    return f"{name} ({where.split(':')[0]})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--idle", action="store_true", help="count idle samples too")
    args = parser.parse_args()
    inclusive: collections.Counter[str] = collections.Counter()
    self_time: collections.Counter[str] = collections.Counter()
    total = idle = 0
    for file in args.files:
        for line in file.read_text().splitlines():
            stack, _, count_text = line.rpartition(" ")
            if not count_text.isdigit():
                continue
            count = int(count_text)
            frames = [short(f) for f in stack.split(";") if f]
            if not frames:
                continue
            leaf = frames[-1]
            if not args.idle and (IDLE.search(leaf) or leaf.startswith("<") and "idle" in leaf):
                idle += count
                continue
            total += count
            self_time[leaf] += count
            for frame in set(frames):
                inclusive[frame] += count
    print(f"{total} busy samples ({idle} idle left out)\n\ninclusive:")
    for frame, count in inclusive.most_common(args.top):
        print(f"  {100 * count / max(total, 1):5.1f}%  {frame}")
    print("\nself:")
    for frame, count in self_time.most_common(args.top):
        print(f"  {100 * count / max(total, 1):5.1f}%  {frame}")


if __name__ == "__main__":
    main()
