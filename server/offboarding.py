"""Offboarding: a person leaves an organisation (issue 13), as one admin action.

Owns: `offboard`, which in the caller's transaction takes the person's role and membership away (so they can no
longer post in the organisation's voice), revokes their current badge, ends their web sessions, revokes their
OAuth tokens, rejects the posts still waiting for a reviewer (after leaving, nobody may approve them in the
organisation's voice) and either keeps the account as a personal one or disables it, audited as `account.offboarded`
with what was done; other servers hear of the changed actor (an `account.updated` event). The organisation keeps the
posts already made in its voice (each post names its organisation).
Never: SQL of its own (server/accounts.py, server/badges.py, server/posts.py, server/sessions.py and server/oauth.py
hold it).
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from server import accounts, audit, badges, events, oauth, posts, sessions, webcare_tokens
from server.accounts import Account
from server.errors import Forbidden, Invalid

KEEP = "keep"  # the account stays, as a personal account
DISABLE = "disable"  # the account can no longer sign in; its posts stay
CHOICES = (KEEP, DISABLE)
MAX_REASON = 500


async def offboard(conn: asyncpg.Connection, member: Account, *, account: str, reason: str, actor: Account | None,
                   now: datetime) -> Account:
    """Take `member` out of their organisation. Only the organisation's own admin or an instance admin may
    (`actor` None: the operator at the command line), never on themselves, and never the last org admin."""
    if member.organisation_id is None or member.kind != "person" or not member.is_local:
        raise Invalid("Only a person in an organisation can be offboarded.")
    if actor is not None and not (actor.is_active and actor.administers(member.organisation_id)):
        raise Forbidden("Only the organisation's admins and instance admins may manage its people.")
    if actor is not None and actor.id == member.id:
        raise Invalid("You cannot offboard yourself; ask another admin of the organisation.")
    if account not in CHOICES:
        raise Invalid("Choose whether the account stays as a personal account or is disabled.")
    cleaned = " ".join(reason.split())
    if not cleaned or len(cleaned) > MAX_REASON:
        raise Invalid("Give a reason of 1 to 500 characters; it is shown on a revoked badge's page.")
    await accounts.refuse_last_org_admin(conn, member)
    badge = await badges.get_current_badge(conn, member.id)
    if badge is not None:
        if actor is None:
            raise Invalid("Revoke the badge at the command line first (ambtenaar badge revoke).")
        await badges.revoke(conn, badge, actor=actor, reason=cleaned, now=now)
    held_rejected = await posts.reject_held_of_author(conn, member.id, cleaned)
    left = await accounts.update_leave_organisation(conn, member.id, disable=account == DISABLE, now=now)
    # The actor document names the organisation, so followers' servers must hear that it no longer does.
    await events.record_event(conn, "account.updated", member.id, member.id, now, {"change": "account.offboarded"})
    ended = await sessions.delete_sessions_of(conn, [member.id])
    tokens = await oauth.revoke_all_tokens(conn, account_id=member.id, now=now)
    # Tokens of the organisation's own account this person made for a webcare tool were a key they held too.
    org_tokens = await webcare_tokens.revoke_made_by(conn, member.id, now)
    await audit.record(conn, actor_id=actor.id if actor else None, action="account.offboarded",
                       subject_type="account", subject_id=member.id,
                       detail={"username": member.username, "organisation_id": member.organisation_id,
                               "org_role": member.org_role, "badge_revoked": badge.id if badge else None,
                               "sessions_ended": ended, "tokens_revoked": tokens, "account": account,
                               "held_posts_rejected": held_rejected, "organisation_tokens_revoked": org_tokens,
                               "reason": cleaned}, now=now)
    return left

