"""Check `official-rate`: at most `max_per_hour` official-voice posts per organisation in the last hour.

Owns: the limit. Never: counts posts itself; the caller puts the count in draft.recent_official_posts_last_hour.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from moderation.policy.model import Check, Hit, Parameter, PostDraft, as_int, reject_unknown

CHECK_ID = "official-rate"
DEFAULT_MAX_PER_HOUR = 10


def prepare(options: Mapping[str, Any]) -> int:
    reject_unknown(CHECK_ID, options, ("max_per_hour",))
    return as_int(CHECK_ID, "max_per_hour", options.get("max_per_hour", DEFAULT_MAX_PER_HOUR), 1, 10_000)


def run(draft: PostDraft, max_per_hour: int) -> Iterator[Hit]:
    recent = draft.recent_official_posts_last_hour
    if draft.voice == "official" and recent >= max_per_hour:
        yield Hit(f"Namens de organisatie verschijnen hoogstens {max_per_hour} berichten per uur; in het afgelopen "
                  f"uur waren het er al {recent}. Wacht even of bundel de berichten.",
                  f"At most {max_per_hour} posts per hour appear in the organisation's name; there were already "
                  f"{recent} in the past hour. Wait a while or combine the posts.")


CHECK = Check(id=CHECK_ID, rule_id="rate.official_per_hour", severity="low",
              actions=frozenset({"warn", "hold", "block"}), prepare=prepare, run=run,
              name="Official posts per hour",
              description="Stops more posts in the organisation's name in one hour than you allow.",
              parameters=(Parameter("max_per_hour", "number", "Most official posts per hour",
                                    "A whole number; empty means 10.", "10"),))
