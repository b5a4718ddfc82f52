"""JSON depth measuring and parsing with a depth limit (server/limits.py); the body-size middleware is tested on
real nodes in tests/integration/test_hardening.py."""

from __future__ import annotations

import json

import pytest

from server import limits


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_depth_of_values() -> None:
    assert limits.json_depth(1) == 0
    assert limits.json_depth([]) == 1
    assert limits.json_depth({"a": [1, {"b": []}]}) == 4
    assert limits.json_depth(limits.loads(nested(32))) == 32


def test_loads_accepts_up_to_the_limit_and_refuses_beyond() -> None:
    assert limits.loads(nested(32)) == json.loads(nested(32))
    with pytest.raises(limits.JsonTooDeep):
        limits.loads(nested(33))
    with pytest.raises(limits.JsonTooDeep):
        limits.loads('{"a":' * 40 + "1" + "}" * 40)


def test_nesting_deeper_than_pythons_recursion_limit_is_too_deep_not_a_crash() -> None:
    with pytest.raises(limits.JsonTooDeep):
        limits.loads(nested(200_000))
    with pytest.raises(limits.JsonTooDeep):
        limits.loads("[" * 200_000)  # unterminated too: the depth is what stops it


def test_not_json_is_a_value_error() -> None:
    with pytest.raises(ValueError) as caught:
        limits.loads("{nope")
    assert not isinstance(caught.value, limits.JsonTooDeep)


def test_text_postgresql_cannot_store_is_found_anywhere() -> None:
    assert not limits.unstorable({"a": ["gewone tekst", {"b": "😀 \u202e"}], "c": 1})
    assert limits.unstorable({"a": ["x", {"b": "x\x00"}]})
    assert limits.unstorable({"a\x00": 1})
    assert limits.unstorable(["\ud800"])
    with pytest.raises(limits.UnstorableText):
        limits.loads('{"content": "a\\u0000b"}')
    with pytest.raises(limits.UnstorableText):
        limits.loads('["\\udfff"]')
    assert limits.loads('["\\ud83d\\ude00"]') == ["😀"]  # a surrogate pair is one character, and fine
