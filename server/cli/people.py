"""`ambtenaar user ...`, `token ...` and `admin ...`: accounts of officials, their roles, access tokens, and the
node's admins and moderators.

Owns: those commands' arguments and output. Never: SQL (server/accounts.py, invites.py and oauth.py).
"""

from __future__ import annotations

import argparse
import json
from datetime import timedelta

import asyncpg

from server import account_security, accounts, invites, oauth, offboarding, organisations, passwords, scopes, two_factor
from server.cli.base import CliError, Group, local_account, organisation, read_password
from server.config import Settings
from server.deps import utc_now
from server.errors import NotFound


async def cmd_user_create(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    if args.role and not args.org:
        raise CliError("--role needs --org: a role is held in an organisation")
    org = await organisation(conn, args.org) if args.org else None
    role = accounts.parse_org_role(args.role or "official") if org else None
    password, generated = read_password(args.password_stdin)
    account = await accounts.create_person(
        conn, username=args.username, email=args.email, display_name=args.display_name,
        password_hash=passwords.hash_password(password), organisation_id=org.id if org else None, org_role=role,
        language=settings.default_language, actor_id=None, now=utc_now())
    where = f" ({role.replace('_', '-')} at {org.slug})" if org and role else ""
    line = f"Created user @{account.username}{where}"
    return f"{line}\nPassword (shown once): {password}" if generated else line


async def cmd_user_invite(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    org = await organisation(conn, args.org)
    token = await invites.insert_invite(conn, organisation_id=org.id, org_role=args.role, now=utc_now(),
                                        valid_for=timedelta(days=settings.invite_days))
    return f"{settings.base_url}/invite/{token}"


async def _member(conn: asyncpg.Connection, args: argparse.Namespace) -> tuple[accounts.Account,
                                                                              accounts.Account | None]:
    member = await local_account(conn, args.username)
    return member, (await local_account(conn, args.by) if args.by else None)


async def cmd_user_role(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    member, by = await _member(conn, args)
    changed = await accounts.change_org_role(conn, member, args.role, actor=by, now=utc_now())
    return f"@{changed.username} is now {str(changed.org_role).replace('_', '-')}"


async def cmd_user_offboard(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    member, by = await _member(conn, args)
    await offboarding.offboard(conn, member, account=args.account, reason=args.reason, actor=by, now=utc_now())
    kept = "kept as a personal account" if args.account == offboarding.KEEP else "disabled"
    return f"Offboarded @{member.username}: role and badge gone, signed out, apps revoked; the account is {kept}"


async def cmd_user_reset_password(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    account = await accounts.get_account_by_username(conn, args.username)
    if account is None:
        raise NotFound("There is no account with that name here.")
    now = utc_now()
    token = await account_security.insert_reset_link(conn, account, actor_id=None, now=now)
    lines = [f"{settings.base_url}/password/reset/{token}",
             f"One-time link for @{account.username}, valid for 24 hours. Nothing was mailed: hand it over yourself."]
    if args.disable_2fa:
        await two_factor.disable(conn, account, node_rule=settings.require_2fa_for, now=now, actor_id=None)
        lines.append("Two-factor sign-in is off; if it is required, the next sign-in sets it up again.")
    return "\n".join(lines)


def _role(a: accounts.Account) -> str:
    if a.is_admin:
        return "admin"
    if a.is_moderator:
        return "moderator"
    if a.is_organisation:
        return "organisation"
    return (a.org_role or "").replace("_", "-") or "-"


async def cmd_user_list(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    people = await accounts.list_accounts(conn)
    orgs = {o.id: o.slug for o in await organisations.list_organisations(conn)}
    rows = [{"username": a.username, "display_name": a.display_name, "email": a.email, "role": _role(a),
             "organisation": orgs.get(a.organisation_id) if a.organisation_id else None} for a in people]
    if args.json:
        return json.dumps(rows)
    return "\n".join(f"{r['username']}\t{r['role']}\t{r['organisation'] or '-'}\t{r['email'] or '-'}" for r in rows)


async def cmd_admin_create(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    password, generated = read_password(args.password_stdin)
    account = await accounts.create_person(
        conn, username=args.username, email=args.email, password_hash=passwords.hash_password(password),
        is_admin=not args.moderator, is_moderator=True, language=settings.default_language, actor_id=None,
        now=utc_now())
    line = f"Created {'moderator' if args.moderator else 'admin'} @{account.username}"
    return f"{line}\nPassword (shown once): {password}" if generated else line


async def cmd_token_create(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    account = await accounts.get_account_by_username(conn, args.username)
    if account is None:
        raise NotFound("There is no account with that name here.")
    requested = scopes.parse_scopes(args.scopes)
    app = await oauth.get_or_insert_named_app(conn, args.app.strip() or "ambtenaar CLI")
    issued = await oauth.insert_token(conn, app_id=app.id, account_id=account.id, scopes=" ".join(requested),
                                      now=utc_now(), with_refresh=False)
    return issued.access_token


async def cmd_token_revoke(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    if not str(args.token_id).isdigit():
        raise CliError("--id must be the number shown by 'ambtenaar token list'")
    await oauth.revoke_token_by_id(conn, int(args.token_id), utc_now())
    return f"Revoked token {args.token_id}"


async def cmd_token_list(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    found = await oauth.list_all_tokens(conn)
    rows = [{"id": str(t.id), "username": username, "app": t.app_name, "scopes": " ".join(t.scopes),
             "created_at": t.created_at.isoformat(), "last_used_at": t.last_used_at.isoformat()
             if t.last_used_at else None} for t, username in found]
    if args.json:
        return json.dumps(rows)
    return "\n".join(f"{r['id']}\t{r['username'] or '-'}\t{r['app']}\t{r['scopes']}" for r in rows)


def add_user_commands(root: Group) -> None:
    user = root.area("user", "accounts of officials")
    create = user.command("create", "create an account, optionally as a member of an organisation", cmd_user_create)
    create.add_argument("--username", required=True)
    create.add_argument("--email", required=True)
    create.add_argument("--display-name", default="")
    create.add_argument("--org", help="slug of the organisation the official belongs to")
    create.add_argument("--role", help="role in the organisation: official, reviewer, webcare, archivist or org-admin")
    create.add_argument("--password-stdin", action="store_true",
                        help="read the password from standard input instead of generating one")
    invite = user.command("invite", "print a one-time invite link for a new official", cmd_user_invite)
    invite.add_argument("--org", required=True, help="slug of the organisation")
    invite.add_argument("--role", default="official", help="official, reviewer, webcare, archivist or org-admin")
    user.command("list", "list accounts", cmd_user_list).add_argument("--json", action="store_true")
    role = user.command("role", "give a member of an organisation another role", cmd_user_role)
    role.add_argument("--username", required=True)
    role.add_argument("--role", required=True, help="official, reviewer, webcare, archivist or org-admin")
    role.add_argument("--by", help="the admin who does it (audited); left out: the operator")
    offboard = user.command("offboard", "a member leaves the organisation: role and membership gone, badge revoked, "
                            "signed out, apps revoked; the account kept as personal or disabled", cmd_user_offboard)
    offboard.add_argument("--username", required=True)
    offboard.add_argument("--account", choices=offboarding.CHOICES, default=offboarding.KEEP)
    offboard.add_argument("--reason", required=True, help="shown on the revoked badge's page")
    offboard.add_argument("--by", help="the admin who does it (audited; needed to revoke a badge)")
    reset = user.command("reset-password", "print a one-time link (valid 24 hours) to set a new password; the "
                         "account's sessions end when it is used", cmd_user_reset_password)
    reset.add_argument("--username", required=True)
    reset.add_argument("--disable-2fa", action="store_true",
                       help="also switch two-factor sign-in off, for someone who lost their phone and recovery codes")

    token = root.area("token", "access tokens for scripts and integrations")
    token_create = token.command("create", "print a new access token for an account", cmd_token_create)
    token_create.add_argument("--username", required=True)
    token_create.add_argument("--scopes", default="read", help='space-separated scopes, e.g. "read write follow"')
    token_create.add_argument("--app", default="ambtenaar CLI", help="name shown with the token in settings")
    token.command("revoke", "revoke a token by its id (see token list)", cmd_token_revoke).add_argument(
        "--id", required=True, dest="token_id")
    token.command("list", "list active tokens", cmd_token_list).add_argument("--json", action="store_true")


def add_admin_commands(root: Group) -> None:
    admin = root.area("admin", "instance administrators")
    create = admin.command("create", "create an instance admin (or, with --moderator, a moderator)", cmd_admin_create)
    create.add_argument("--username", required=True)
    create.add_argument("--email", default=None)
    create.add_argument("--moderator", action="store_true", help="a moderator rather than an admin")
    create.add_argument("--password-stdin", action="store_true")
