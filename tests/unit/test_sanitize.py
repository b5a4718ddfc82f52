"""The two HTML policies (remote HTML before storage, post HTML at render) against the XSS corpus, and the
plain-text and URL helpers."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from federation import vocab
from moderation import sanitize
from tests.xss_payloads import BENIGN_HTML, PAYLOADS

POLICIES = {"remote": sanitize.clean_remote_html, "render": sanitize.clean_post_html}
# Written out here, not taken from the code under test: a tag added to the policy must fail this test first.
ALLOWED = {"p", "br", "span", "a", "del", "pre", "code", "em", "strong", "b", "i", "u", "ul", "ol", "li",
           "blockquote", "h1", "h2", "h3", "h4", "h5", "h6"}


class Collect(HTMLParser):
    """Every start tag with its attributes, as a browser's tokenizer sees them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))


def parsed(html: str) -> list[tuple[str, dict[str, str]]]:
    collector = Collect()
    collector.feed(html)
    collector.close()
    return collector.tags


def assert_inert(html: str) -> None:
    assert "<script" not in html.lower()
    for tag, attrs in parsed(html):
        assert tag in ALLOWED, (tag, html)
        assert not [name for name in attrs if name.startswith("on")], html
        assert "style" not in attrs and "srcdoc" not in attrs, html
        href = re.sub(r"[\s\x00-\x1f]", "", attrs.get("href", "")).lower()
        assert not href or href.startswith(("https://", "http://", "mailto:")), html
        assert set(attrs.get("class", "").split()) <= {"h-card", "mention", "hashtag", "u-url", "u-uid", "invisible",
                                                       "ellipsis"}, html
        assert "opener" not in attrs.get("rel", "").split(), html


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("payload", PAYLOADS)
def test_no_payload_survives_either_policy(policy: str, payload: str) -> None:
    cleaned = POLICIES[policy](payload)
    assert_inert(cleaned)
    assert_inert(POLICIES[policy](cleaned))  # and cleaning twice changes nothing dangerous either


@pytest.mark.parametrize("payload", PAYLOADS)
def test_remote_notes_and_bios_are_cleaned_as_they_are_parsed(payload: str) -> None:
    note = vocab.parse_note({"id": "https://x.example/n/1", "type": "Note", "attributedTo": "https://x.example/u/a",
                             "content": payload, "summary": payload})
    assert_inert(note.content_html)
    assert note.summary == sanitize.plain_text(payload, 1000)  # plain text: pages and apps escape it
    actor = vocab.parse_actor({"id": "https://x.example/u/a", "type": "Person", "preferredUsername": "a",
                               "inbox": "https://x.example/u/a/inbox", "name": payload, "summary": payload,
                               "url": "javascript:alert(1)"})
    assert_inert(actor.summary_html)
    assert actor.url is None


def test_benign_markup_survives_both_policies() -> None:
    for policy in POLICIES.values():
        cleaned = policy(BENIGN_HTML)
        assert '<a href="https://example.org/pad?a=1&amp;b=2"' in cleaned
        assert "<strong>vet</strong>" in cleaned and "<em>schuin</em>" in cleaned and "<br>" in cleaned


def test_our_own_post_html_renders_unchanged() -> None:
    """What server/text.py writes (links, hashtags, mentions) is kept exactly by the render policy."""
    ours = ('<p>Zie <a href="https://www.ede.nl/afval" rel="nofollow noopener noreferrer" target="_blank">'
            'https://www.ede.nl/afval</a> <a href="https://n.example/tags/afval" class="mention hashtag" rel="tag">'
            '#<span>afval</span></a> <span class="h-card"><a href="https://n.example/@anna" class="u-url mention">'
            '@<span>anna</span></a></span></p>')
    assert sanitize.clean_post_html(ours) == ours


def test_plain_text_drops_controls_and_bidi_overrides() -> None:
    assert sanitize.plain_text(" Gemeente\u202e edE\u0000\x07 ", 100) == "Gemeente edE"
    assert sanitize.plain_text("a\nb\tc", 100) == "a\nb\tc"
    assert sanitize.plain_text("x" * 50, 10) == "x" * 10


@pytest.mark.parametrize("url,expected", [
    ("https://a.example/x", "https://a.example/x"), ("HTTP://A.example", "HTTP://A.example"),
    ("javascript:alert(1)", None), (" https://a.example", None), ("data:text/html,x", None), ("/relative", None),
    ("https://a.example/\u202ex", None), (None, None), (42, None), ("https://" + "a" * 3000, None)])
def test_http_url(url: object, expected: str | None) -> None:
    assert sanitize.http_url(url) == expected


def test_a_badge_with_a_script_link_is_no_badge() -> None:
    base = {"id": "https://x.example/u/a", "type": "Person", "preferredUsername": "a",
            "inbox": "https://x.example/u/a/inbox"}
    good = {"type": "AmbtenaarBadge", "verification": "https://x.example/badges/1",
            "organisation": {"id": "https://x.example/users/ede", "website": "https://ede.nl"}}
    assert vocab.parse_actor({**base, "ambtenaarBadge": good}).badge == good
    for bad in ({**good, "verification": "javascript:alert(1)"},
                {**good, "organisation": {"id": "https://x.example/users/ede", "website": "data:text/html,x"}}):
        assert vocab.parse_actor({**base, "ambtenaarBadge": bad}).badge is None


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["<", ">", "a", "href=", "\"", "'", "javascript:", "on", "click=", "script", "/",
                                 "&#", "x09;", "=", " ", "svg", "img", "src", "style", "iframe", "p", "\t", "\n"]),
                max_size=40).map("".join))
def test_random_markup_is_inert_after_either_policy(html: str) -> None:
    for policy in POLICIES.values():
        assert_inert(policy(html))
