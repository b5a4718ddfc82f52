"""Check `deliberation`: the post touches a topic the organisation is still deciding on (e.g. a council agenda item
until the vote).

Owns: topics as {terms, from, until, personal_only}; a topic is active from `from` through `until` inclusive, as
dates in Europe/Amsterdam, judged against draft.now. Never: matches a term inside another word.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from moderation.policy.model import (Check, Hit, Parameter, PostDraft, Terms, as_bool, as_date, quote, reject_unknown,
                                    str_list)

CHECK_ID = "deliberation"
_MONTHS_NL = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
              "november", "december")
_MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
              "November", "December")


@dataclass(frozen=True)
class Topic:
    terms: Terms
    start: date | None
    until: date | None
    personal_only: bool

    def active_on(self, day: date) -> bool:
        return (self.start is None or self.start <= day) and (self.until is None or day <= self.until)


@dataclass(frozen=True)
class Prepared:
    topics: tuple[Topic, ...]
    needles: tuple[str, ...]  # all topics' needles: one cheap test per field before any topic is looked at
    zone: ZoneInfo


def prepare(options: Mapping[str, Any]) -> Prepared:
    reject_unknown(CHECK_ID, options, ("topics",))
    raw = options.get("topics", ())
    if not isinstance(raw, (list, tuple)) or not all(isinstance(t, Mapping) for t in raw):
        raise ValueError(f"{CHECK_ID}: topics must be a list of {{terms, from, until, personal_only}}")
    topics = []
    for number, item in enumerate(raw, 1):
        name = f"topic {number}"
        reject_unknown(f"{CHECK_ID} {name}", item, ("terms", "from", "until", "personal_only"))
        terms = str_list(CHECK_ID, f"{name} terms", item.get("terms", ()))
        if not terms:
            raise ValueError(f"{CHECK_ID}: {name} needs at least one term")
        start = as_date(CHECK_ID, f"{name} from", item.get("from"))
        until = as_date(CHECK_ID, f"{name} until", item.get("until"))
        if start and until and until < start:
            raise ValueError(f"{CHECK_ID}: {name} ends ({until}) before it starts ({start})")
        topics.append(Topic(Terms.of(terms), start, until,
                            as_bool(CHECK_ID, f"{name} personal_only", item.get("personal_only", False))))
    needles = tuple(sorted({needle for topic in topics for needle in topic.terms.needles}))
    return Prepared(tuple(topics), needles, ZoneInfo("Europe/Amsterdam"))


def _messages(found: str, until: date | None) -> tuple[str, str]:
    if until is None:
        when_nl, when_en = "", ""
    else:
        when_nl = f" (tot en met {until.day} {_MONTHS_NL[until.month - 1]} {until.year})"
        when_en = f" (until {until.day} {_MONTHS_EN[until.month - 1]} {until.year})"
    return (f"“{found}” gaat over een onderwerp waarover nog besloten wordt{when_nl}. Laat de besluitvorming de "
            "ruimte: pas het bericht aan of wacht tot na het besluit.",
            f"“{found}” concerns a matter that is still being decided{when_en}. Leave room for the decision: change "
            "the post or wait until the decision has been taken.")


def run(draft: PostDraft, prepared: Prepared) -> Iterator[Hit]:
    today = draft.now.astimezone(prepared.zone).date()
    active = [t for t in prepared.topics
              if t.active_on(today) and not (t.personal_only and draft.voice != "personal")]
    if not active:
        return
    for field_name, index, text in draft.text_fields():
        lowered = text.lower()
        present = {needle for needle in prepared.needles if needle in lowered}
        if not present:
            continue
        for topic in active:
            if present.isdisjoint(topic.terms.needles):
                continue
            for start, end in topic.terms.spans(text, lowered):
                nl, en = _messages(quote(text[start:end]), topic.until)
                yield Hit(nl, en, field_name, (start, end), index)


CHECK = Check(id=CHECK_ID, rule_id="deliberation", severity="medium",
              actions=frozenset({"warn", "hold", "block"}), prepare=prepare, run=run,
              name="Topics under deliberation",
              description="Finds words about topics the council is still deciding on, in the period you give.",
              parameters=(Parameter("topics", "topics", "Topics",
                                    "Per topic: its words or phrases, one per line; from and until which date it "
                                    "counts (both optional); and whether only personal posts are checked.",
                                    "parkeerbeleid"),))
