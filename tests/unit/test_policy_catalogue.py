"""Every check in the catalogue tells an admin what it is and declares exactly the options it accepts, so the
settings page can offer a field for each (issue 13, item 6)."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

import pytest

import moderation.policy as policy


def _example_value(parameter: policy.Parameter) -> Any:
    if parameter.kind == "lines":
        return [parameter.example]
    if parameter.kind == "topics":
        return [{"terms": [parameter.example], "from": "2026-11-01", "until": "2026-12-15", "personal_only": True}]
    if parameter.kind == "weekdays":
        return [1, 2, 3]
    if parameter.kind == "number":
        return int(parameter.example)
    return parameter.example


def _accepted_options(check: policy.Check) -> set[str]:
    with pytest.raises(ValueError) as refused:
        check.prepare({"zz-not-an-option": 1})
    known = re.search(r"known: (.*)$", str(refused.value))
    return set(known.group(1).split(", ")) - {""} if known else set()


@pytest.mark.parametrize("check", policy.CATALOGUE, ids=[c.id for c in policy.CATALOGUE])
def test_a_check_has_a_plain_name_a_line_and_its_parameters(check: policy.Check) -> None:
    assert check.name and check.description and "\n" not in check.description
    assert {p.key for p in check.parameters} == _accepted_options(check)
    for parameter in check.parameters:
        assert parameter.label and parameter.help
        check.prepare({parameter.key: _example_value(parameter)})  # the example is a valid value


def test_the_phone_check_documents_its_allow_list() -> None:
    phone = policy.CHECKS["personal-data.phone"]
    (allow,) = phone.parameters
    assert allow.key == "allow" and allow.kind == "lines" and allow.example
    allowed = phone.prepare({"allow": ["+31 318 123456"]})
    draft = policy.PostDraft(text="Bel 0318-123456 of 0318 654321", voice="official",
                             now=datetime(2026, 12, 1, tzinfo=timezone.utc))
    found = list(phone.run(draft, allowed))
    assert len(found) == 1 and found[0].span is not None and draft.text[found[0].span[0]:].startswith("0318 654321")
