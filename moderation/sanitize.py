"""The HTML and text policies for everything people can write: remote HTML before storage, post HTML at render.

Owns: the two nh3 policies (`clean_remote_html` when another server's HTML is stored, `clean_post_html` every time a
post or a remote bio is rendered), `plain_text` for fields stored as text (names, content warnings), and `http_url`
for links we show. Never: decides what is stored or shown (federation/vocab.py and web/ call these), never I/O.

Defence in depth: remote HTML is cleaned once when it arrives (so the database, the API and every later reader
hold safe markup) and again when a page renders it (so a stored mistake, an old row or a bug in the first policy
still cannot run script). Both policies are allowlists: only the listed tags and attributes survive, links only
with absolute http(s) addresses (and mailto for remote text), and no style, event handler, form, frame, image or svg. The pages'
Content-Security-Policy (server/headers.py, no inline script) is the third layer.
"""

from __future__ import annotations

from typing import Any

import nh3

from server import names

# The tags and attributes Mastodon keeps of remote HTML.
TEXT_TAGS = frozenset({"p", "br", "span", "a", "del", "pre", "code", "em", "strong", "b", "i", "u", "ul", "ol", "li",
                       "blockquote", "h1", "h2", "h3", "h4", "h5", "h6"})
REMOTE_ATTRIBUTES = {"a": {"href", "translate"}, "span": {"translate"}, "ol": {"start", "reversed"},
                     "li": {"value"}}
# Only microformat classes: a class from our own stylesheet (say `badge-valid`) could dress a post up as something
# it is not, such as a verified badge.
ALLOWED_CLASSES = {"span": {"h-card", "mention", "hashtag", "u-url", "invisible", "ellipsis"},
                   "a": {"h-card", "mention", "hashtag", "u-url", "u-uid"}}
REMOTE_LINK_REL = "nofollow noopener noreferrer"
# At render: what server/text.py writes for our own posts, plus what the remote policy kept.
RENDER_ATTRIBUTES = {"a": {"href", "translate"}, "span": {"translate"},
                     "ol": {"start", "reversed"}, "li": {"value"}}
RENDER_ATTRIBUTE_VALUES = {"a": {"rel": {REMOTE_LINK_REL, "tag"}, "target": {"_blank"}}}

# Control, bidi and invisible characters, which can make a name read differently from what it is ("gemeente"
# written backwards, a handle with its host reversed): server/names.py's one definition (texts keep line breaks).
_CONTROLS = names.INVISIBLE_IN_TEXT


def clean_remote_html(html: str) -> str:
    """Another server's HTML (post content, a bio) reduced to what Mastodon keeps, before it is stored."""
    return nh3.clean(html, tags=set(TEXT_TAGS), attributes=REMOTE_ATTRIBUTES, url_schemes={"http", "https", "mailto"},
                     url_relative="deny", link_rel=REMOTE_LINK_REL, allowed_classes=ALLOWED_CLASSES)


def clean_post_html(html: str) -> str:
    """Stored post HTML (ours from server/text.py, or remote cleaned on arrival) cleaned again as it is rendered."""
    return nh3.clean(html, tags=set(TEXT_TAGS), attributes=RENDER_ATTRIBUTES,
                     tag_attribute_values=RENDER_ATTRIBUTE_VALUES, url_schemes={"http", "https"}, url_relative="deny", link_rel=None,
                     allowed_classes=ALLOWED_CLASSES)


def plain_text(value: str, limit: int) -> str:
    """A field kept as plain text (a display name, a content warning): no control or bidi-override characters,
    at most `limit` characters, and no surrounding space. Pages escape it; it is never parsed as HTML."""
    return _CONTROLS.sub("", value)[:limit].strip()


def http_url(value: Any, limit: int = 2048) -> str | None:
    """`value` when it is an http(s) URL we may put in a link, otherwise None (javascript:, data:, relative...)."""
    if not isinstance(value, str) or len(value) > limit or _CONTROLS.search(value) or any(c.isspace() for c in value):
        return None
    return value if value.lower().startswith(("https://", "http://")) else None
