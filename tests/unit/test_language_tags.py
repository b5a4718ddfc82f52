"""A remote Note's language: only a well-formed BCP 47 tag from `contentMap` becomes it (vocab.language_tag),
so nothing else reaches posts.language, a page's `lang` attribute or the API's `language`."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from federation import vocab


@pytest.mark.parametrize(("key", "tag"), [
    ("nl", "nl"), ("NL", "nl"), ("NL-be", "nl-be"), ("en-GB", "en-GB"), ("zh-Hant-TW", "zh-Hant-TW"),
    ("yue", "yue"), ("sgn-BE-FR", "sgn-BE-FR"), ("de-CH-1901", "de-CH-1901"),
    ("de-DE-u-co-phonebk-x-ambt", "de-DE-u-co-phonebk-x-ambt"),  # six subtags (before: refused)
    ("en-" + "-".join(["abcdefgh"] * 3) + "-abcde", "en-" + "-".join(["abcdefgh"] * 3) + "-abcde"),  # 35 characters
])
def test_well_formed_tags_are_kept(key: str, tag: str) -> None:
    assert vocab.language_tag(key) == tag


@pytest.mark.parametrize("key", [
    "", "n", "nederlands", "nl_NL", "nl-", "-nl", "nl--be", "nl-abcdefghi", 'nl"><script>', "<b>", "nl be",
    "nl\n", "nl-BE\u200b", "nl\u0660", "ｎｌ", "en-" + "-".join(["abcdefgh"] * 3) + "-abcdef", "x-klingon",
    "i-klingon", 42, None,
])
def test_anything_else_is_no_language(key: Any) -> None:
    assert vocab.language_tag(key) is None


@given(st.text(max_size=40))
def test_a_tag_never_carries_markup_or_more_than_35_characters(text: str) -> None:
    tag = vocab.language_tag(text)
    assert tag is None or (len(tag) <= 35 and set(tag) <= set("abcdefghijklmnopqrstuvwxyz"
                                                               "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-"))


def _note(**fields: Any) -> dict[str, Any]:
    return {"id": "https://a.example/notes/1", "type": "Note", "attributedTo": "https://a.example/users/a", **fields}


@pytest.mark.parametrize(("fields", "language", "text"), [
    ({"contentMap": {"nl": "<p>Hallo</p>"}}, "nl", "Hallo"),
    ({"content": "<p>Hallo</p>", "contentMap": {'nl"><script>': "<p>x</p>", "en": "<p>Hi</p>"}}, "en", "Hallo"),
    ({"contentMap": {"<b>": "<p>Zonder taal</p>"}}, "und", "Zonder taal"),  # before: the text was lost too
    ({"contentMap": {"<b>": "<p>Eerst</p>", "nl": "<p>Tweede</p>"}}, "nl", "Tweede"),
    ({"contentMap": {"nl": 7, "en": "<p>Hi</p>"}}, "en", "Hi"),
    ({"content": "<p>Hallo</p>"}, "und", "Hallo"),
    ({"content": "<p>Hallo</p>", "contentMap": ["nl"]}, "und", "Hallo"),
])
def test_a_notes_language_comes_only_from_a_tag(fields: dict[str, Any], language: str, text: str) -> None:
    note = vocab.parse_note(_note(**fields))
    assert note.language == language
    assert text in note.content_html
