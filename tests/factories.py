"""Accounts and organisations made the way an admin makes them: through the `ambtenaar` CLI of a running node."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tests.helpers.nodes import Node

PASSWORD = "correct-horse-battery"


@dataclass(frozen=True)
class Person:
    username: str
    password: str = PASSWORD


def organisation(node: Node, slug: str = "gemeente-ede", name: str = "Gemeente Ede", kind: str = "gemeente",
                 website: str = "https://www.ede.nl") -> str:
    result = node.cli("org", "create", "--name", name, "--slug", slug, "--kind", kind, "--website", website)
    assert result.code == 0, result.err
    return slug


def person(node: Node, username: str, *, org: str | None = None, role: str | None = None,
           display_name: str = "") -> Person:
    args = ["user", "create", "--username", username, "--email", f"{username}@example.org", "--password-stdin"]
    if org:
        args += ["--org", org, "--role", role or "official"]
    if display_name:
        args += ["--display-name", display_name]
    result = node.cli(*args, stdin=PASSWORD + "\n")
    assert result.code == 0, result.err
    return Person(username)


def invite(node: Node, org: str, role: str = "official") -> str:
    result = node.cli("user", "invite", "--org", org, "--role", role)
    assert result.code == 0, result.err
    url = result.out.strip()
    assert re.match(rf"^{re.escape(node.url)}/invite/[A-Za-z0-9_-]+$", url), url
    return url
