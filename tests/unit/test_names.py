"""server/names.py: what a name may contain, and which names can be taken for one another (Unicode TR39's
skeleton over the Unicode Consortium's confusables data)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server import names

RLO = "\u202e"


@pytest.mark.parametrize(("first", "second"), [
    ("Gemeente Ede", "G\u0435meente Ede"),        # a Cyrillic е
    ("Gemeente Ede", "Gemeente E\u0501e"),        # a Cyrillic ԁ
    ("Gemeente Oss", "Gemeente 0ss"),             # a zero for the O
    ("Gemeente Oss", "Gemeente \u039fss"),        # a Greek Ο
    ("Gemeente Elst", "Gemeente E1st"),           # a one for the l
    ("Gemeente Elst", "Gemeente EIst"),           # a capital I for the l (the same stroke in most sans-serifs)
    ("Waterschap Vallei", "Waterschap VaIIei"),
    ("Gemeente Emmen", "Gemeente Ernrnen"),       # rn for m: one character looks like two
    ("Gemeente Ermelo", "Gemeente Errnelo"),
    ("gemeente-ede", "gerneente-ede"),
    ("gemeente-oss", "gemeente-0ss"),             # case folded after the prototypes: 0 → O → o
    ("Gemeente Ede", "\uff27emeente Ede"),        # fullwidth
    ("Gemeente Ede", "\U0001d406emeente Ede"),    # mathematical bold
    ("Gemeente Ede", "GEMEENTE EDE"),
    ("Gemeente IJsselstein", "GEMEENTE IJSSELSTEIN"),  # I is drawn as l but stands for i
    ("Gemeente Ede", "Gemeente-Ede"),
    ("gemeente-ede", "gemeente--ede"),
    ("Gemeente Ede", f"Gemeente\u200b E{RLO}de\u00ad"),  # invisible characters
])
def test_look_alikes_meet(first: str, second: str) -> None:
    assert names.look_alike(first, second) and names.look_alike(second, first)


@pytest.mark.parametrize(("first", "second"), [
    ("Gemeente Ede", "Gemeente Epe"),
    ("Gemeente Ermelo", "Gemeente Emmen"),
    ("Gemeente Ede", "Gemeente Edé"),             # a diacritic is seen
    ("Gemeente Elst", "Gemeente Eist"),
    ("Provincie Utrecht", "Gemeente Utrecht"),
])
def test_names_that_look_different_stay_apart(first: str, second: str) -> None:
    assert not names.look_alike(first, second)


def test_the_skeleton_follows_tr39() -> None:
    """UTS #39's own examples of the mapping: each character goes to its prototype, some to two."""
    assert names.skeleton("m") == names.skeleton("rn") == "rn"
    assert names.skeleton("I") == names.skeleton("1") == names.skeleton("l") == "l"
    assert names.skeleton("\u0430") == "a"           # Cyrillic а
    assert names.skeleton("\u0131") == "i"           # dotless ı


@given(st.text(max_size=40))
def test_the_skeleton_is_stable(text: str) -> None:
    """A name looks as its cleaned form does, and invisible characters do not change how it looks."""
    shown = names.skeleton(text)
    assert names.skeleton(names.clean_name(text)) == shown
    assert names.skeleton(f"\u200b{text}{RLO}") == shown


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyzéëïöüIJ -'", max_size=40))
def test_capitals_do_not_make_another_name(text: str) -> None:
    assert names.look_alike(text, text.upper()) and names.look_alike(text.title(), text)


def test_mixed_scripts() -> None:
    assert names.mixed_scripts("G\u0435meente")
    assert not names.mixed_scripts("Gemeente Súdwest-Fryslân")
    assert not names.mixed_scripts("Gemeente 's-Hertogenbosch 2")


def test_clean_name() -> None:
    assert names.clean_name(f" Anna\u200b {RLO}de\u00ad  Vries ") == "Anna de Vries"
    assert names.clean_name("\uff21nna") == "Anna"
    assert names.clean_name("👩\u200d💻 Anna") == "👩\u200d💻 Anna"  # the zero-width joiner of an emoji stays
    assert names.clean_name("Anna de Vries", 4) == "Anna"
