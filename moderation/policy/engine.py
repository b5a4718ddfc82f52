"""The policy engine: an organisation's settings plus a post draft in, a verdict out.

Owns: the catalogue (which checks exist, in which order they run), PolicySettings (validated once, every check off
unless switched on), evaluate() and the Verdict with its outcome (block over hold over warn over pass) and JSON form.
Never: performs I/O, reads the clock or the environment, or keeps state between calls.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Any, Literal

from moderation.policy import (alt_text, bsn, deliberation, email_address, four_eyes, iban, link_denylist,
                               official_rate, personal_voice, phone, postal_address, working_hours)
from moderation.policy.model import ACTION_RANK, ACTIONS, Action, Check, CheckSetting, Finding, PostDraft

Outcome = Literal["pass", "warn", "hold", "block"]

CATALOGUE: tuple[Check, ...] = (
    bsn.CHECK, iban.CHECK, phone.CHECK, email_address.CHECK, postal_address.CHECK, deliberation.CHECK,
    personal_voice.CHECK, four_eyes.CHECK, alt_text.CHECK, link_denylist.CHECK, official_rate.CHECK,
    working_hours.CHECK,
)
CHECKS: Mapping[str, Check] = MappingProxyType({check.id: check for check in CATALOGUE})
_OUTCOMES: tuple[Outcome, ...] = ("pass", "warn", "hold", "block")


@dataclass(frozen=True)
class PolicySettings:
    """One organisation's checks: check id -> CheckSetting. Absent ids are off. Construction validates every
    setting (unknown check, action the check does not allow, bad options) and raises ValueError naming the problem,
    so the settings UI and CLI can show it; the prepared form (compiled topic patterns, parsed dates) is kept."""

    checks: Mapping[str, CheckSetting] = field(default_factory=dict)
    _enabled: tuple[tuple[Check, Action, Any], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        unknown = sorted(set(self.checks) - set(CHECKS))
        if unknown:
            raise ValueError(f"unknown check(s) {', '.join(unknown)}; known: {', '.join(CHECKS)}")
        enabled = []
        for check in CATALOGUE:
            setting = self.checks.get(check.id)
            if setting is None:
                continue
            if setting.action not in ACTIONS:
                raise ValueError(f"{check.id}: action must be one of {', '.join(ACTIONS)}, not {setting.action!r}")
            if setting.action != "off" and setting.action not in check.actions:
                allowed = ", ".join(a for a in ACTIONS if a == "off" or a in check.actions)
                raise ValueError(f"{check.id}: action {setting.action!r} is not possible for this check; "
                                 f"choose {allowed}")
            prepared = check.prepare(setting.options)  # validated even when off, so a bad list is caught early
            if setting.action != "off":
                enabled.append((check, setting.action, prepared))
        object.__setattr__(self, "checks", MappingProxyType(dict(self.checks)))
        object.__setattr__(self, "_enabled", tuple(enabled))

    def setting(self, check_id: str) -> CheckSetting:
        if check_id not in CHECKS:
            raise KeyError(check_id)
        return self.checks.get(check_id, CheckSetting())

    @classmethod
    def from_json(cls, data: Mapping[str, Mapping[str, Any]]) -> PolicySettings:
        """From {check id: {"action": ..., "options": {...}}}, as stored per organisation."""
        return cls({check_id: CheckSetting(value.get("action", "off"), dict(value.get("options", {})))
                    for check_id, value in data.items()})

    def to_json(self) -> dict[str, dict[str, Any]]:
        return {check_id: {"action": s.action, "options": _jsonable(s.options)} for check_id, s in self.checks.items()}


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    findings: tuple[Finding, ...]

    @property
    def requires_confirmation(self) -> bool:
        """The author must confirm the `warn` findings before the post goes on (to publication or to review); a
        blocked post cannot go on at all, so it asks for no confirmation."""
        return self.outcome != "block" and any(f.action == "warn" for f in self.findings)

    def to_json(self) -> dict[str, Any]:
        return {"outcome": self.outcome, "requires_confirmation": self.requires_confirmation,
                "findings": findings_to_json(self.findings)}


def evaluate(draft: PostDraft, settings: PolicySettings) -> Verdict:
    """Run every enabled check on the draft, in catalogue order; pure and deterministic."""
    findings = [Finding(check.id, check.rule_id, check.severity, action, *hit)
                for check, action, prepared in settings._enabled
                for hit in check.run(draft, prepared)]
    rank = max((ACTION_RANK[f.action] for f in findings), default=0)
    return Verdict(_OUTCOMES[rank], tuple(findings))


def findings_to_json(findings: tuple[Finding, ...] | list[Finding]) -> list[dict[str, Any]]:
    return [finding.to_json() for finding in findings]


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value
