"""The organisation's checks read a poll's options as published words (issue 14, item 3)."""

from __future__ import annotations

from datetime import UTC, datetime

import moderation.policy as policy


def test_a_phone_number_in_a_poll_option_is_found() -> None:
    settings = policy.PolicySettings({"personal-data.phone": policy.CheckSetting("block")})
    draft = policy.PostDraft(text="Hoe wilt u gebeld worden?", voice="official", now=datetime(2026, 3, 2, 10, tzinfo=UTC),
                             poll_options=("Niet", "Op 06-12345678"))
    verdict = policy.evaluate(draft, settings)
    assert verdict.outcome == "block"
    [finding] = verdict.findings
    assert (finding.field, finding.attachment, finding.span) == ("poll_options", 1, (3, 14))
    assert policy.evaluate(policy.PostDraft(text="Hoe wilt u gebeld worden?", voice="official",
                                            now=draft.now, poll_options=("Niet", "Wel")), settings).outcome == "pass"
