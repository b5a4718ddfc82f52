from __future__ import annotations

import html
import re

from hypothesis import given
from hypothesis import strategies as st

from server.text import Mention, find_mentions, render

BASE = "https://gemeente-ede.nl"


def test_paragraphs_and_line_breaks() -> None:
    assert render("een\ntwee\n\ndrie", BASE).html == "<p>een<br>twee</p><p>drie</p>"


def test_links_drop_trailing_punctuation() -> None:
    out = render("Zie https://www.ede.nl/afval. En (https://ede.nl/a_(b))!", BASE).html
    assert '<a href="https://www.ede.nl/afval" rel="nofollow noopener noreferrer" target="_blank">' \
           'https://www.ede.nl/afval</a>.' in out
    assert 'href="https://ede.nl/a_(b)"' in out and "</a>)!" in out


def test_hashtags_need_a_letter_and_are_stored_lower_case() -> None:
    rendered = render("#Afval #2024 #ede_centrum", BASE)
    assert rendered.tags == ("afval", "ede_centrum")
    assert '<a href="https://gemeente-ede.nl/tags/afval" class="mention hashtag" rel="tag">#<span>Afval</span></a>' \
        in rendered.html
    assert "#2024" in rendered.html and "tags/2024" not in rendered.html


def test_only_known_mentions_are_linked() -> None:
    rendered = render("@anna en @onbekend en @bob@burger.test", BASE,
                      {"anna": f"{BASE}/@anna", "bob@burger.test": "https://burger.test/@bob"})
    assert rendered.mentions == (Mention("anna", None), Mention("bob", "burger.test"))
    assert '<span class="h-card"><a href="https://gemeente-ede.nl/@anna" class="u-url mention">@<span>anna</span>' \
        in rendered.html
    assert "@onbekend" in rendered.html and "onbekend</a>" not in rendered.html


def test_email_addresses_are_not_mentions() -> None:
    assert find_mentions("mail info@ede.nl") == ()


def test_markup_is_escaped() -> None:
    out = render('<script>alert("x")</script> & <b>vet</b>', BASE).html
    assert "<script>" not in out and "&lt;script&gt;" in out and "&amp;" in out and "<b>" not in out


@given(st.text(max_size=300))
def test_rendering_keeps_the_words_and_adds_no_markup_of_its_own(text: str) -> None:
    rendered = render(text, BASE, {"anna": f"{BASE}/@anna"})
    tags = re.findall(r"<(/?)([a-z]+)", rendered.html)
    assert {name for _, name in tags} <= {"p", "br", "a", "span"}
    visible = html.unescape(re.sub(r"<[^>]+>", "", rendered.html.replace("<br>", "\n")))
    words = [w for w in re.split(r"\s+", text.replace("\r\n", "\n").strip()) if w]
    assert [w for w in re.split(r"\s+", visible) if w] == words or not words
