"""The shapes the policy engine and its checks share: a post draft, a check, a hit, a finding.

Owns: PostDraft (with Attachment and Author), CheckSetting, Check, Hit, Finding, and the few helpers every check uses
(walking a draft's text fields, masking found personal data, reading options strictly). Never: imports anything of
ours, performs I/O, or reads the clock (the draft carries `now`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal, NamedTuple

Action = Literal["off", "warn", "hold", "block"]
Voice = Literal["official", "personal"]
Severity = Literal["low", "medium", "high"]
FieldName = Literal["text", "spoiler_text", "attachments", "poll_options"]

ACTIONS: tuple[Action, ...] = ("off", "warn", "hold", "block")
ACTION_RANK: Mapping[str, int] = {"off": 0, "warn": 1, "hold": 2, "block": 3}


class Attachment(NamedTuple):
    description: str  # the alt text
    media_type: str  # "image/png", "video/mp4", ...


class Author(NamedTuple):
    username: str
    role: str = "member"  # the author's role in the organisation, e.g. "member", "reviewer", "admin"


@dataclass(frozen=True, kw_only=True)
class PostDraft:
    """What the checks see of a post about to be published. `now` is passed in: checks never read the clock."""

    text: str
    voice: Voice
    now: datetime
    spoiler_text: str = ""
    visibility: str = "public"
    attachments: tuple[Attachment, ...] = ()
    in_reply_to: bool | str = False  # False, True, or the replied-to author's handle
    author: Author = Author("")
    organisation: str = ""  # the organisation's slug
    language: str | None = None
    recent_official_posts_last_hour: int = 0  # counted by the caller, so no check needs the database
    poll_options: tuple[str, ...] = ()  # a poll's options are published words too: every text check reads them

    def __post_init__(self) -> None:
        if self.voice not in ("official", "personal"):
            raise ValueError(f"voice must be 'official' or 'personal', not {self.voice!r}")
        if self.now.utcoffset() is None:
            raise ValueError("PostDraft.now must be timezone-aware (working hours and periods depend on it)")
        object.__setattr__(self, "attachments", tuple(Attachment(*a) for a in self.attachments))
        object.__setattr__(self, "author", Author(*self.author))
        object.__setattr__(self, "poll_options", tuple(self.poll_options))

    def text_fields(self) -> Iterator[tuple[FieldName, int | None, str]]:
        """Every piece of text a reader sees: (field, attachment index or None, text); spans index into that text."""
        yield "text", None, self.text
        if self.spoiler_text:
            yield "spoiler_text", None, self.spoiler_text
        for index, attachment in enumerate(self.attachments):
            if attachment.description:
                yield "attachments", index, attachment.description
        for index, option in enumerate(self.poll_options):
            yield "poll_options", index, option


@dataclass(frozen=True)
class CheckSetting:
    """One organisation's choice for one check: its action and the check's options (topic lists, hours, ...)."""

    action: Action = "off"
    options: Mapping[str, Any] = field(default_factory=dict)


class Hit(NamedTuple):
    """What a check reports; the engine adds the check's identity and the organisation's action to make a Finding."""

    message_nl: str
    message_en: str
    field: FieldName | None = None  # None: the post as a whole
    span: tuple[int, int] | None = None  # [start, end) into that field's text
    attachment: int | None = None  # index into draft.attachments ("attachments") or draft.poll_options ("poll_options")


# How a settings form asks for an option: `lines` a list, one item per line; `time` an hour like 9 or 9:30;
# `weekdays` ISO day numbers (1 = Monday); `zone` a time zone name; `number` a whole number; `topics` the
# deliberation check's list of {terms, from, until, personal_only}.
ParameterKind = Literal["lines", "time", "weekdays", "zone", "number", "topics"]


@dataclass(frozen=True)
class Parameter:
    """One option of a check as people see it. The English texts are message ids: the interface translates them."""

    key: str  # the option's name in the settings
    kind: ParameterKind
    label: str
    help: str  # one line: what it does, and the default when left empty
    example: str = ""  # typed as a person would type it


@dataclass(frozen=True)
class Check:
    """A catalogue entry. `prepare` validates options once (raising ValueError) and returns what `run` needs.
    `name`, `description` and `parameters` are what an admin sees (English message ids)."""

    id: str  # the id admins use (CLI `--check`, settings)
    rule_id: str  # the id findings carry
    severity: Severity
    actions: frozenset[Action]  # the actions this check may be switched on with
    prepare: Callable[[Mapping[str, Any]], Any]
    run: Callable[[PostDraft, Any], Iterable[Hit]]
    name: str = ""  # plain words: "Phone numbers"
    description: str = ""  # one line
    parameters: tuple[Parameter, ...] = ()


@dataclass(frozen=True)
class Finding:
    check: str
    rule_id: str
    severity: Severity
    action: Action
    message_nl: str
    message_en: str
    field: FieldName | None = None
    span: tuple[int, int] | None = None
    attachment: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"check": self.check, "rule_id": self.rule_id, "severity": self.severity, "action": self.action,
                "message_nl": self.message_nl, "message_en": self.message_en, "field": self.field,
                "span": list(self.span) if self.span is not None else None, "attachment": self.attachment}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Finding:
        span = data.get("span")
        return cls(check=data["check"], rule_id=data["rule_id"], severity=data["severity"], action=data["action"],
                   message_nl=data["message_nl"], message_en=data["message_en"], field=data.get("field"),
                   span=(int(span[0]), int(span[1])) if span is not None else None,
                   attachment=data.get("attachment"))


def scan(draft: PostDraft, find: Callable[[str], Iterable[tuple[int, int, str]]],
         message: Callable[[str], tuple[str, str]]) -> Iterator[Hit]:
    """Run `find` (yielding start, end, quote) over every text field and turn each match into a Hit."""
    for field_name, index, text in draft.text_fields():
        for start, end, quote in find(text):
            nl, en = message(quote)
            yield Hit(nl, en, field_name, (start, end), index)


def mask(value: str, keep_start: int, keep_end: int) -> str:
    """Hide the middle of found personal data, so messages and the audit log do not repeat it."""
    if len(value) <= keep_start + keep_end:
        return "*" * len(value)
    return value[:keep_start] + "*" * (len(value) - keep_start - keep_end) + value[len(value) - keep_end:]


def reject_unknown(check_id: str, options: Mapping[str, Any], known: Iterable[str]) -> None:
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise ValueError(f"{check_id}: unknown option(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")


def str_list(check_id: str, name: str, value: Any) -> tuple[str, ...]:
    """A list of non-empty strings; a single string (as from `--param KEY=a,b`) is split on commas."""
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{check_id}: {name} must be a list of strings")
    items = tuple(v.strip() for v in value if v.strip())
    return items


def as_date(check_id: str, name: str, value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"{check_id}: {name} must be a date like 2025-03-31, not {value!r}")


def as_int(check_id: str, name: str, value: Any, low: int, high: int) -> int:
    try:
        number = int(value) if not isinstance(value, bool) else None
    except (TypeError, ValueError):
        number = None
    if number is None or not low <= number <= high:
        raise ValueError(f"{check_id}: {name} must be a whole number from {low} to {high}, not {value!r}")
    return number


def as_bool(check_id: str, name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "yes", "1", "false", "no", "0"):
        return value.strip().lower() in ("true", "yes", "1")
    raise ValueError(f"{check_id}: {name} must be true or false, not {value!r}")


@dataclass(frozen=True)
class Terms:
    """Whole words or phrases, case-insensitive, any run of whitespace between a phrase's words. A phrase also
    matches written as one word, so "windpark noord" finds #WindparkNoord."""

    needles: tuple[str, ...]  # each term's first word, lower case: a cheap test before any regex runs
    lowered: re.Pattern[str]  # for text.lower(), without a leading lookbehind: 3x faster than `folded`
    folded: re.Pattern[str]  # for the rare text whose lower case has another length (İ), case-insensitive

    @classmethod
    def of(cls, terms: Iterable[str]) -> Terms:
        variants: set[str] = set()
        needles: set[str] = set()
        for term in terms:
            words = term.lower().split()
            if words:
                variants.add(r"\s+".join(re.escape(w) for w in words))
                variants.add(re.escape("".join(words)))
                needles.add(words[0])
        if not variants:
            raise ValueError("a term list needs at least one term")
        alternatives = "|".join(sorted(variants, key=lambda v: (-len(v), v)))
        return cls(tuple(sorted(needles)), re.compile(rf"(?:{alternatives})(?!\w)"),
                   re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE))

    def spans(self, text: str, lowered: str) -> Iterator[tuple[int, int]]:
        """(start, end) of every match in text; `lowered` is text.lower(), shared by the caller across lists."""
        if not any(needle in lowered for needle in self.needles):
            return
        if len(lowered) != len(text):
            yield from (match.span() for match in self.folded.finditer(text))
            return
        pos = 0
        while (match := self.lowered.search(lowered, pos)) is not None:
            start = match.start()
            if start and (lowered[start - 1].isalnum() or lowered[start - 1] == "_"):
                pos = start + 1  # inside a word; a shorter term may still start later within this match
                continue
            yield match.span()
            pos = match.end()


def quote(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
