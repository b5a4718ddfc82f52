"""Every `ambtenaar ...` command and flag that README.md and docs/ name exists in the CLI, and every setting the
README's table names exists in server/config.py: a doc that names what is not there is a bug (issue 12)."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from server.cli import build_parser
from server.config import SPECS

REPO = Path(__file__).resolve().parents[2]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
_SPAN = re.compile(r"`(ambtenaar [^`]+)`")
_FENCED = re.compile(r"^\s*(ambtenaar [^#\n]+)", re.MULTILINE)


def _named_commands() -> list[tuple[str, str]]:
    found = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for match in [*_SPAN.finditer(text), *_FENCED.finditer(text)]:
            command = match.group(1).replace("\\|", "|").strip()
            if "COMMAND" not in command:  # the usage synopsis, `ambtenaar [settings] COMMAND [options]`
                found.append((doc.name, command))
    return sorted(set(found))


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _options(parser: argparse.ArgumentParser) -> set[str]:
    return {option for action in parser._actions for option in action.option_strings}


@pytest.mark.parametrize(("doc", "command"), _named_commands(), ids=lambda value: str(value)[:80])
def test_a_documented_command_exists(doc: str, command: str) -> None:
    words = [w for w in re.split(r"[\s\[\]]+", command) if w][1:]
    parsers = [build_parser()]
    flags: list[str] = []
    after_flag = False
    for word in words:
        if word.startswith("--"):
            flags += [f.split("=")[0] for f in word.split("|") if f.startswith("--")]
            after_flag = True
            continue
        choices = _subparsers(parsers[-1])
        names = word.split("|")
        if choices and all(name in choices for name in names):
            parsers.append(choices[names[0]])
        elif choices and not after_flag and word != "...":
            pytest.fail(f"{doc} names `{command}`, but `{word}` is no command of `{parsers[-1].prog}`")
        after_flag = False
    known = set().union(*(_options(p) for p in parsers))
    missing = [flag for flag in flags if flag not in known and flag != "..."]
    assert not missing, f"{doc} names `{command}` with {missing}, which the command does not take"


def test_the_settings_table_names_real_settings() -> None:
    names = {spec.name for spec in SPECS}
    table = re.findall(r"^\| `--([a-z0-9-]+)`", (REPO / "README.md").read_text(encoding="utf-8"), re.MULTILINE)
    assert table, "the README's settings table was not found"
    unknown = [flag for flag in table if flag.replace("-", "_") not in names]
    assert not unknown, f"the README's settings table names settings that do not exist: {unknown}"
