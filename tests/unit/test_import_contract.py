"""The import-linter contract in pyproject.toml: kept by the code, broken by a deliberate violation, complete.

The contract is the written form of "who may import whom" (docs/architecture.md). A contract that cannot fail
proves nothing, so one test copies the packages, adds a forbidden import and expects `lint-imports` to refuse it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("server", "federation", "moderation", "web")


def lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    executable = Path(sys.executable).parent / "lint-imports"
    if not executable.exists():
        found = shutil.which("lint-imports")
        if found is None:
            pytest.fail("lint-imports is not installed: pip install -e '.[test]'")
        executable = Path(found)
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.run([str(executable), "--config", str(cwd / "pyproject.toml"), "--no-cache"], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=120)


def copy_of_the_code(tmp_path: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package,
                        ignore=shutil.ignore_patterns("__pycache__", "static", "templates", "translations",
                                                      "migrations"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_code_keeps_the_contract() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "broken" not in result.stdout.split("Contracts:")[-1].replace("0 broken", "")


@pytest.mark.parametrize(("module", "violation", "reported"), [
    ("server/posts.py", "from web import routes as _violation", "server.posts -> web.routes"),
    ("server/db/pool.py", "from federation import outbox as _violation", "server.db.pool -> federation.outbox"),
    ("server/publishing.py", "from moderation import reports as _violation",
     "server.publishing -> moderation.reports"),
    ("moderation/policy/bsn.py", "from server import accounts as _violation",
     "moderation.policy.bsn -> server.accounts"),
    ("federation/outbox.py", "from web import context as _violation", "federation.outbox -> web.context"),
])
def test_a_deliberate_violation_breaks_it(tmp_path: Path, module: str, violation: str, reported: str) -> None:
    copy = copy_of_the_code(tmp_path)
    target = copy / module
    target.write_text(target.read_text() + f"\n{violation}  # deliberate, for the test\n")
    result = lint_imports(copy)
    assert result.returncode == 1, result.stdout + result.stderr
    assert reported in result.stdout
    assert "BROKEN" in result.stdout


def test_every_moderation_module_but_policy_is_forbidden_to_the_domain() -> None:
    """A new module in moderation/ must be named in the contract, or the domain could import it unnoticed."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    forbidden = set(next(c for c in config if c["id"] == "server-moderation")["forbidden_modules"])
    modules = {f"moderation.{p.stem}" for p in (ROOT / "moderation").glob("*.py") if p.stem != "__init__"}
    modules |= {f"moderation.{p.name}" for p in (ROOT / "moderation").iterdir()
                if p.is_dir() and (p / "__init__.py").exists() and p.name != "policy"}
    assert modules == forbidden
