"""The OAuth authorization flow as a person goes through it: sign in, look at the consent page, allow."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

from tests.helpers.web import WebClient

_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
_CODE = re.compile(r'id="code" readonly value="([^"]+)"')


def authorize(base_url: str, authorize_url: str, username: str, password: str, *, allow: bool = True) -> str:
    """Follow an authorize URL in a fresh 'browser'; return the code (oob page) or the redirect location."""
    person = WebClient(base_url)
    parts = urlsplit(authorize_url)
    first = person.get(f"{parts.path}?{parts.query}")
    assert first.status_code == 303 and first.headers["location"].startswith("/login?next="), first.text[:300]
    signed_in = person.post("/login", {"username": username, "password": password,
                                       "next": unescape(parse_qs(urlsplit(first.headers["location"]).query)["next"][0])})
    assert signed_in.status_code == 303, signed_in.text[:500]
    consent = person.get(signed_in.headers["location"])
    assert consent.status_code == 200, consent.text[:500]
    fields = {name: unescape(value) for name, value in _HIDDEN.findall(consent.text)}
    decided = person.post("/oauth/authorize", {**fields, "decision": "allow" if allow else "deny"})
    if decided.status_code == 303:
        return decided.headers["location"]
    match = _CODE.search(decided.text)
    assert match, decided.text[:500]
    return match.group(1)
