"""Plain text in, safe HTML out: the way a post's words become markup.

Owns: finding links, #hashtags and @mentions in plain text and rendering escaped HTML in the shape Mastodon uses
(`<p>`, `<br>`, `a.hashtag`, `span.h-card > a.u-url.mention`). Never: reads the database; mentions are resolved by
the caller and passed in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from html import escape
from urllib.parse import quote

_URL = r"(?P<url>https?://[^\s<>\"']+)"
_TAG = r"(?<![\w/&#])#(?P<tag>\w{1,100})"
_MENTION = r"(?<![\w/@])@(?P<user>[A-Za-z0-9_]{1,30})(?:@(?P<host>[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*(?::\d{1,5})?))?"
_TOKEN = re.compile(f"{_URL}|{_TAG}|{_MENTION}")
_TRAILING = ".,;:!?'\""


@dataclass(frozen=True)
class Mention:
    username: str
    host: str | None

    @property
    def handle(self) -> str:
        return f"{self.username}@{self.host}" if self.host else self.username


@dataclass(frozen=True)
class RenderedText:
    html: str
    tags: tuple[str, ...]
    mentions: tuple[Mention, ...]


def _trim_url(url: str) -> str:
    """Drop punctuation that ends a sentence, and a closing bracket that has no opening one in the URL."""
    while url and (url[-1] in _TRAILING or (url[-1] == ")" and url.count("(") < url.count(")"))):
        url = url[:-1]
    return url


def _is_tag(tag: str) -> bool:
    # Mastodon does not link "#1" or "#2024": a tag needs at least one letter.
    return any(ch.isalpha() for ch in tag)


def find_mentions(text: str) -> tuple[Mention, ...]:
    seen: dict[tuple[str, str | None], Mention] = {}
    for match in _TOKEN.finditer(text):
        if match.group("user"):
            host = match.group("host")
            mention = Mention(match.group("user"), host.lower() if host else None)
            seen.setdefault((mention.username.lower(), mention.host), mention)
    return tuple(seen.values())


def normalise_tag(tag: str) -> str:
    return tag.lower()


def render(text: str, base_url: str, mention_urls: Mapping[str, str] | None = None) -> RenderedText:
    """Render plain text; `mention_urls` maps a lower-cased handle ("anna" or "anna@host") to its profile URL.

    Mentions not in the map stay plain text, so nobody is linked who does not exist.
    """
    mention_urls = mention_urls or {}
    tags: dict[str, None] = {}
    mentions: dict[str, Mention] = {}
    paragraphs = [p for p in re.split(r"\n\s*\n", text.replace("\r\n", "\n").strip()) if p.strip()]
    rendered: list[str] = []
    for paragraph in paragraphs:
        out: list[str] = []
        pos = 0
        for match in _TOKEN.finditer(paragraph):
            start, end = match.span()
            html_piece: str | None = None
            if match.group("url"):
                url = _trim_url(match.group("url"))
                end = start + len(url)
                if len(url) > len("https://"):
                    html_piece = (f'<a href="{escape(url)}" rel="nofollow noopener noreferrer" '
                                  f'target="_blank">{escape(url)}</a>')
            elif match.group("tag"):
                tag = match.group("tag")
                if _is_tag(tag):
                    norm = normalise_tag(tag)
                    tags.setdefault(norm)
                    html_piece = (f'<a href="{escape(base_url)}/tags/{quote(norm)}" class="mention hashtag" '
                                  f'rel="tag">#<span>{escape(tag)}</span></a>')
            else:
                host = match.group("host")
                mention = Mention(match.group("user"), host.lower() if host else None)
                url = mention_urls.get(mention.handle.lower())
                if url:
                    mentions.setdefault(mention.handle.lower(), mention)
                    html_piece = (f'<span class="h-card"><a href="{escape(url)}" class="u-url mention">'
                                  f'@<span>{escape(mention.username)}</span></a></span>')
            if html_piece is None:
                continue
            out.append(escape(paragraph[pos:start]))
            out.append(html_piece)
            pos = end
        out.append(escape(paragraph[pos:]))
        rendered.append("<p>" + "".join(out).replace("\n", "<br>") + "</p>")
    return RenderedText(html="".join(rendered), tags=tuple(tags), mentions=tuple(mentions.values()))


def plain_length(text: str) -> int:
    """Characters as a person counts them (Mastodon counts every URL as 23; we count what is typed)."""
    return len(text.strip())
