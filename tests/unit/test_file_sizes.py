"""No product file over 600 lines (issue 12): a module that grows past that holds more than one thing and is split
the way the signatures, the CLI and the resolver were."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 600


def test_no_product_file_is_over_600_lines() -> None:
    sizes = {str(path.relative_to(ROOT)): len(path.read_text().splitlines())
             for package in ("server", "federation", "moderation", "web") for path in (ROOT / package).rglob("*.py")}
    assert len(sizes) > 100
    assert {name: n for name, n in sizes.items() if n > LIMIT} == {}
