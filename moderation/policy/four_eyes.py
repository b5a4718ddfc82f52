"""Check `four-eyes`: a post in the organisation's official voice waits for a second member with the reviewer role.

Owns: the rule that official voice needs approval. Never: decides who may approve (moderation.review does).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from moderation.policy.model import Check, Hit, PostDraft, reject_unknown

CHECK_ID = "four-eyes"


def prepare(options: Mapping[str, Any]) -> None:
    reject_unknown(CHECK_ID, options, ())


def run(draft: PostDraft, prepared: None) -> Iterator[Hit]:
    if draft.voice == "official":
        yield Hit("Berichten namens de organisatie worden eerst goedgekeurd door een tweede collega met de rol "
                  "beoordelaar; daarna worden ze gepubliceerd.",
                  "Posts in the organisation's name are first approved by a second colleague with the reviewer "
                  "role; then they are published.")


CHECK = Check(id=CHECK_ID, rule_id="four_eyes", severity="medium",
              actions=frozenset({"hold"}), prepare=prepare, run=run,
              name="Four eyes",
              description=("Every post in the organisation's name waits until a second colleague with the reviewer "
                           "role approves it."))
