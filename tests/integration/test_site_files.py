"""robots.txt and the favicon, served by a real node."""

from __future__ import annotations

import httpx

from tests.helpers.nodes import Node


def _rules(text: str) -> dict[str, set[str]]:
    rules: dict[str, set[str]] = {"Allow": set(), "Disallow": set()}
    for line in text.splitlines():
        field, _, value = line.partition(":")
        if field in rules:
            rules[field].add(value.strip())
    return rules


def test_robots_txt_keeps_crawlers_to_public_pages(node: Node) -> None:
    response = httpx.get(f"{node.url}/robots.txt")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    assert response.text.splitlines()[0] == "User-agent: *"
    rules = _rules(response.text)
    assert {"/admin/", "/api/", "/settings", "/login", "/oauth/"} <= rules["Disallow"]
    assert rules["Allow"] == {"/"}
    for public in ("/@", "/orgs/", "/public", "/tags/", "/toegankelijkheid"):
        assert not any(public.startswith(prefix) for prefix in rules["Disallow"]), public


def test_favicon_is_served_and_announced(node: Node) -> None:
    icon = httpx.get(f"{node.url}/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/vnd.microsoft.icon"
    assert icon.content[:4] == b"\x00\x00\x01\x00"  # an ICO file header
    svg = httpx.get(f"{node.url}/static/favicon.svg")
    assert svg.status_code == 200 and svg.text.startswith("<svg")
    head = httpx.get(f"{node.url}/public").text.split("</head>")[0]
    assert '<link rel="icon" href="/favicon.ico"' in head and 'href="/static/favicon.svg"' in head
    assert httpx.get(f"{node.url}/static/apple-touch-icon.png").status_code == 200
