"""Check `personal-voice-policy`: a personal-voice post touches one of the organisation's own policy topics, so the
author must confirm speaking in a personal capacity (the caller stores that confirmation).

Owns: the topic terms and phrases. Never: applies to official-voice posts; never holds or blocks (warn only).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from moderation.policy.model import Check, Hit, Parameter, PostDraft, Terms, quote, reject_unknown, str_list

CHECK_ID = "personal-voice-policy"


def prepare(options: Mapping[str, Any]) -> Terms | None:
    reject_unknown(CHECK_ID, options, ("topics",))
    topics = str_list(CHECK_ID, "topics", options.get("topics", ()))
    return Terms.of(topics) if topics else None


def run(draft: PostDraft, terms: Terms | None) -> Iterator[Hit]:
    if terms is None or draft.voice != "personal":
        return
    organisation = draft.organisation or "je organisatie"
    organisation_en = draft.organisation or "your organisation"
    for field_name, index, text in draft.text_fields():
        for start, end in terms.spans(text, text.lower()):
            found = quote(text[start:end])
            yield Hit(f"Je schrijft op persoonlijke titel over “{found}”, een beleidsonderwerp van {organisation}. "
                      "Bevestig dat je op persoonlijke titel spreekt en niet namens de organisatie.",
                      f"You are writing in a personal capacity about “{found}”, a policy topic of "
                      f"{organisation_en}. Confirm that you speak for yourself, not for the organisation.",
                      field_name, (start, end), index)


CHECK = Check(id=CHECK_ID, rule_id="personal_on_policy", severity="low",
              actions=frozenset({"warn"}), prepare=prepare, run=run,
              name="Personal posts about our policy",
              description=("Asks the author of a personal post about one of the organisation's policy topics to "
                           "confirm they speak for themselves."),
              parameters=(Parameter("topics", "lines", "Policy topics", "Words or phrases, one per line.",
                                    "windpark noord"),))
