"""A person's browser without the browser: cookies, CSRF tokens and forms over real HTTP."""

from __future__ import annotations

import re
from typing import Any

import httpx

_CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


class WebClient:
    def __init__(self, base_url: str, *, language: str = "nl") -> None:
        self.http = httpx.Client(base_url=base_url, follow_redirects=False, timeout=30,
                                 headers={"Accept-Language": language})

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.get(path, **kwargs)

    def csrf_token(self) -> str:
        token = self.http.cookies.get("ao_csrf")
        if not token:
            page = self.http.get("/login")
            match = _CSRF_FIELD.search(page.text)
            assert match, "the sign-in page has no CSRF field"
            token = match.group(1)
        return token

    def post(self, path: str, data: dict[str, str] | None = None, *, csrf: bool = True) -> httpx.Response:
        form = dict(data or {})
        if csrf:
            form.setdefault("csrf_token", self.csrf_token())
        return self.http.post(path, data=form)

    def login(self, username: str, password: str) -> httpx.Response:
        return self.post("/login", {"username": username, "password": password, "next": "/"})

    def review_version(self, post_id: str | int) -> str:
        """The version of a held post the reviewers' queue shows now, as its decision forms carry it."""
        page = self.get("/review").text
        match = re.search(rf'action="/review/{post_id}/approve".*?name="version" value="([0-9a-f]+)"', page, re.S)
        assert match, f"post {post_id} is not in the review queue"
        return match.group(1)

    def review(self, post_id: str | int, decision: str, reason: str = "") -> httpx.Response:
        """Decide on a held post as a reviewer who just read it in the queue."""
        return self.post(f"/review/{post_id}/{decision}", {"reason": reason,
                                                             "version": self.review_version(post_id)})

    def compose(self, text: str = "", **fields: str) -> httpx.Response:
        return self.post("/compose", {"text": text, "visibility": "public", **fields})

    def close(self) -> None:
        self.http.close()
