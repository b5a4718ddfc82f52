"""Which policy checks an organisation has switched on, with what action and options.

Owns: the policy_settings table. Every check is off unless a row says otherwise. Never: runs a check
(moderation.policy does, as a pure library).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg

from server.errors import Invalid

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
