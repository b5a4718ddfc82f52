"""Which policy checks an organisation has switched on, with what action and options.

Owns: the policy_settings table. Every check is off unless a row says otherwise. `change_settings` is the one
way an admin changes them (the organisation admins' page and `ambtenaar policy set` alike): validated as a whole,
written and audited in the caller's transaction. Never: runs a check (moderation.policy does, as a pure library).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

import moderation.policy as policy
from server import audit, badges
from server.accounts import Account
from server.errors import Forbidden, Invalid

ACTIONS = ("off", "warn", "hold", "block")


@dataclass(frozen=True)
class CheckRow:
    check_id: str
    action: str
    options: dict[str, Any]


async def list_settings(conn: asyncpg.Connection, organisation_id: int) -> list[CheckRow]:
    rows = await conn.fetch("SELECT check_id, action, options FROM policy_settings WHERE organisation_id = $1 "
                            "ORDER BY check_id", organisation_id)
    return [CheckRow(r["check_id"], r["action"], dict(r["options"])) for r in rows]


async def upsert_setting(conn: asyncpg.Connection, organisation_id: int, check_id: str, action: str,
                         options: Mapping[str, Any]) -> None:
    if action not in ACTIONS:
        raise Invalid("The action must be off, warn, hold or block.")
    if action == "off":
        await conn.execute("DELETE FROM policy_settings WHERE organisation_id = $1 AND check_id = $2",
                           organisation_id, check_id)
        return
    await conn.execute(
        "INSERT INTO policy_settings (organisation_id, check_id, action, options) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (organisation_id, check_id) DO UPDATE SET action = EXCLUDED.action, options = EXCLUDED.options, "
        "updated_at = now()", organisation_id, check_id, action, dict(options))


Setting = tuple[str, Mapping[str, Any]]
_OFF: tuple[str, dict[str, Any]] = ("off", {})


async def change_settings(conn: asyncpg.Connection, organisation_id: int, changes: Mapping[str, Setting], *,
                          actor: Account | None, now: datetime) -> dict[str, CheckRow]:
    """Set the given checks (check id -> (action, options)); the others keep theirs. The settings that result are
    validated as a whole by moderation.policy before anything is written. `actor` is None for an operator at the
    command line, else an admin of the organisation or an instance admin.

    The audit entry is the same whichever interface asked: which checks changed, and every check that is on after
    the change."""
    if actor is not None and not badges.may_manage(actor, organisation_id):
        raise Forbidden("Only the organisation's admins may change its policy checks.")
    current = {r.check_id: (r.action, r.options) for r in await list_settings(conn, organisation_id)}
    wanted = {**current, **{check_id: _OFF if action == "off" else (action, dict(options))
                            for check_id, (action, options) in changes.items()}}
    try:
        policy.PolicySettings({check_id: policy.CheckSetting(action, dict(options))
                               for check_id, (action, options) in wanted.items()})
    except ValueError as exc:
        raise Invalid("The organisation's policy settings are not valid: %(reason)s", reason=str(exc)) from None
    changed = {check_id: setting for check_id, setting in wanted.items() if current.get(check_id, _OFF) != setting}
    for check_id, (action, options) in changed.items():
        await upsert_setting(conn, organisation_id, check_id, action, options)
    await audit.record(conn, actor_id=actor.id if actor else None, action="policy.setting",
                       subject_type="organisation", subject_id=organisation_id,
                       detail={"changed": {k: {"action": a, "options": o} for k, (a, o) in sorted(changed.items())},
                               "settings": {k: {"action": a, "options": o} for k, (a, o) in sorted(wanted.items())
                                            if a != "off"}}, now=now)
    return {r.check_id: r for r in await list_settings(conn, organisation_id)}


def settings_document(rows: list[CheckRow]) -> dict[str, dict[str, Any]]:
    """The organisation's settings as the advanced export shows them: {check id: {"action", "options"}}, the checks
    that are on, in catalogue order. `changes_from_document` reads it back."""
    by_id = {r.check_id: r for r in rows}
    return {check.id: {"action": by_id[check.id].action, "options": by_id[check.id].options}
            for check in policy.CATALOGUE if check.id in by_id and by_id[check.id].action != "off"}


def changes_from_document(document: Any) -> dict[str, Setting]:
    """An imported settings document as changes for `change_settings`: the checks it names as it says, every other
    check off, so that importing an export gives exactly the exported settings."""
    if not isinstance(document, Mapping) or not all(isinstance(v, Mapping) for v in document.values()):
        raise Invalid('The settings must be a JSON object like {"four-eyes": {"action": "hold", "options": {}}}.')
    changes: dict[str, Setting] = {check.id: _OFF for check in policy.CATALOGUE}
    for check_id, value in document.items():
        options = value.get("options", {})
        if not isinstance(options, Mapping):
            raise Invalid("The parameters of %(check)s must be a JSON object.", check=str(check_id)[:100])
        changes[str(check_id)] = (str(value.get("action", "off")), dict(options))
    return changes
