from __future__ import annotations

from datetime import datetime, timezone

import pytest

from server.accounts import Account
from server.errors import Forbidden, Invalid
from server.ids import new_id
from server.publishing import choose_voice


def account(kind: str = "person", organisation_id: int | None = None, default_voice: str = "personal") -> Account:
    return Account(id=1, username="x", email=None, display_name="", bio="", kind=kind,
                   organisation_id=organisation_id, org_role="official" if organisation_id and kind == "person"
                   else None, is_admin=False, is_moderator=False, default_voice=default_voice, language="nl",
                   created_at=datetime.now(timezone.utc), disabled_at=None)


def test_member_chooses_and_defaults_to_preference() -> None:
    member = account(organisation_id=7, default_voice="official")
    assert choose_voice(member, None) == "official"
    assert choose_voice(member, "personal") == "personal"


def test_non_member_speaks_only_personally() -> None:
    with pytest.raises(Forbidden, match="Only members"):
        choose_voice(account(), "official")
    assert choose_voice(account(), None) == "personal"


def test_organisation_account_speaks_only_officially() -> None:
    org = account(kind="organisation", organisation_id=7, default_voice="official")
    assert choose_voice(org, None) == "official"
    with pytest.raises(Forbidden, match="always speaks in official voice"):
        choose_voice(org, "personal")


def test_unknown_voice() -> None:
    with pytest.raises(Invalid):
        choose_voice(account(), "shout")


def test_ids_sort_by_time() -> None:
    early = datetime(2026, 1, 1, tzinfo=timezone.utc)
    late = datetime(2026, 1, 1, 0, 0, 1, tzinfo=timezone.utc)
    assert all(new_id(early) < new_id(late) for _ in range(100))
    assert new_id() < 2**63
