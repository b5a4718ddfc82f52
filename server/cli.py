"""The `ambtenaar` command: serve the node, migrate, and administer organisations and accounts.

Owns: parsing arguments and turning every refusal into one line on stderr and exit status 1.
Never: SQL (it calls server/ functions inside one transaction per command).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import asyncpg

import moderation.policy as policy
from moderation import domain_blocks
from server import (accounts, audit, badges, invites, oauth, org_verification, organisations, passwords,
                    policy_settings, posts, publishing, scopes, trust, voice)
from server.config import SPECS, Settings, SettingsError, add_setting_flags, load_settings, trusted_proxy_list
from server.db.migrate import migrate
from server.db.pgembed import EmbeddedDatabaseError, EmbeddedPostgres
from server.db.pool import open_pool, transaction
from server.deps import utc_now
from server.errors import DomainError, NotFound

T = TypeVar("T")


class CliError(Exception):
    """A command cannot be carried out as given."""


class Parser(argparse.ArgumentParser):
    """argparse that reports a usage mistake in one line and exits 1, like every other refusal."""

    def error(self, message: str) -> NoReturn:
        self.exit(1, f"ambtenaar: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> Parser:
    settings_flags = Parser(add_help=False)
    add_setting_flags(settings_flags)
    parser = Parser(prog="ambtenaar", description="Ambtenaar Online: a Fediverse server for government bodies.",
                    parents=[settings_flags])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=Parser)

    def command(name: str, help_text: str, subs: Any = commands) -> Parser:
        sub: Parser = subs.add_parser(name, help=help_text, description=help_text, parents=[settings_flags])
        return sub

    command("serve", "run the web server (starts an embedded PostgreSQL when DATABASE_URL is not set)")
    command("migrate", "apply database migrations that are not yet applied")
    command("worker", "run federation delivery and inbox processing (any number, on any machine)")

    org = commands.add_parser("org", help="organisations").add_subparsers(dest="action", required=True,
                                                                          metavar="ACTION", parser_class=Parser)
    org_create = command("create", "create an organisation and its organisation account", org)
    org_create.add_argument("--name", required=True, help="full name, e.g. 'Gemeente Ede'")
    org_create.add_argument("--slug", required=True, help="short name in URLs, e.g. gemeente-ede")
    org_create.add_argument("--kind", required=True, choices=organisations.KINDS)
    org_create.add_argument("--website", default="", help="the organisation's website, e.g. https://www.ede.nl")
    command("list", "list organisations", org).add_argument("--json", action="store_true")
    org_verify = command("verify", "check that the organisation's website vouches for its account here "
                         "(a rel=\"me\" link, or /.well-known/ambtenaar-online.json) and record it", org)
    org_verify.add_argument("slug", help="the organisation's slug")
    org_update = command("update", "the organisation's voice wording and whether its account boosts official "
                         "posts", org)
    org_update.add_argument("slug", help="the organisation's slug")
    org_update.add_argument("--auto-boost", dest="auto_boost", default=None, action=argparse.BooleanOptionalAction,
                            help="the organisation's account boosts its officials' official-voice posts")
    for label in ("official_label_nl", "official_label_en", "personal_label_nl", "personal_label_en"):
        org_update.add_argument("--" + label.replace("_", "-"), dest=label, default=None,
                                help="wording of the visible voice line ({org} is the name; empty resets)")

    user = commands.add_parser("user", help="accounts of officials").add_subparsers(
        dest="action", required=True, metavar="ACTION", parser_class=Parser)
    user_create = command("create", "create an account, optionally as a member of an organisation", user)
    user_create.add_argument("--username", required=True)
    user_create.add_argument("--email", required=True)
    user_create.add_argument("--display-name", default="")
    user_create.add_argument("--org", help="slug of the organisation the official belongs to")
    user_create.add_argument("--role", help="role in the organisation: official, reviewer or org-admin")
    user_create.add_argument("--password-stdin", action="store_true",
                             help="read the password from standard input instead of generating one")
    user_invite = command("invite", "print a one-time invite link for a new official", user)
    user_invite.add_argument("--org", required=True, help="slug of the organisation")
    user_invite.add_argument("--role", default="official", help="official, reviewer or org-admin")
    command("list", "list accounts", user).add_argument("--json", action="store_true")

    token = commands.add_parser("token", help="access tokens for scripts and integrations").add_subparsers(
        dest="action", required=True, metavar="ACTION", parser_class=Parser)
    token_create = command("create", "print a new access token for an account", token)
    token_create.add_argument("--username", required=True)
    token_create.add_argument("--scopes", default="read", help='space-separated scopes, e.g. "read write follow"')
    token_create.add_argument("--app", default="ambtenaar CLI", help="name shown with the token in settings")
    token_revoke = command("revoke", "revoke a token by its id (see token list)", token)
    token_revoke.add_argument("--id", required=True, dest="token_id")
    command("list", "list active tokens", token).add_argument("--json", action="store_true")

    badge = commands.add_parser("badge", help="verified badges of officials").add_subparsers(
        dest="action", required=True, metavar="ACTION", parser_class=Parser)
    badge_issue = command("issue", "issue a verified badge to a member of an organisation", badge)
    badge_issue.add_argument("--username", required=True, help="the official")
    badge_issue.add_argument("--function", required=True, help="function title, e.g. 'Teamleider ICT'")
    badge_issue.add_argument("--unit", default="", help="organisation unit (optional)")
    badge_issue.add_argument("--valid-from", help="first valid day, YYYY-MM-DD (default: today)")
    badge_issue.add_argument("--valid-until", help="last valid day, YYYY-MM-DD (default: no end)")
    badge_issue.add_argument("--by", required=True, help="username of the organisation admin (or instance admin)")
    badge_change = command("change", "change or renew an official's badge", badge)
    badge_change.add_argument("--username", required=True, help="the official")
    badge_change.add_argument("--function", help="new function title")
    badge_change.add_argument("--unit", help="new organisation unit ('' for none)")
    badge_change.add_argument("--valid-until", help="new last valid day, YYYY-MM-DD, or 'none' for no end")
    badge_change.add_argument("--by", required=True, help="username of the organisation admin (or instance admin)")
    badge_revoke = command("revoke", "revoke an official's badge, with a reason shown on its verification page",
                           badge)
    badge_revoke.add_argument("--username", required=True, help="the official")
    badge_revoke.add_argument("--reason", required=True)
    badge_revoke.add_argument("--by", required=True, help="username of the organisation admin (or instance admin)")
    badge_approve = command("approve", "approve a badge its holder issued or changed for themselves (four eyes)",
                            badge)
    badge_approve.add_argument("--username", required=True, help="the badge's holder")
    badge_approve.add_argument("--by", required=True, help="another organisation admin, or an instance admin")
    badge_list = command("list", "list an organisation's badges, revoked ones included", badge)
    badge_list.add_argument("--org", required=True, help="slug of the organisation")
    badge_list.add_argument("--json", action="store_true")

    policy_cmd = commands.add_parser("policy", help="an organisation's checks before a post is published").add_subparsers(
        dest="action", required=True, metavar="ACTION", parser_class=Parser)
    policy_set = command("set", "switch a check on (warn, hold, block) or off, with its parameters", policy_cmd)
    policy_set.add_argument("--org", required=True, help="the organisation's slug")
    policy_set.add_argument("--check", required=True, help="the check's id (see `ambtenaar policy list --org SLUG`)")
    # dest differs from "action", which names the subcommand itself.
    policy_set.add_argument("--action", dest="policy_action", required=True, choices=policy_settings.ACTIONS)
    policy_set.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                            help='a parameter, the value JSON or plain text, e.g. topics=\'[{"terms": ["parkeren"]}]\'')
    policy_list = command("list", "the checks there are, and which the organisation has switched on", policy_cmd)
    policy_list.add_argument("--org", required=True, help="the organisation's slug")
    policy_list.add_argument("--json", action="store_true")

    review_cmd = commands.add_parser("review", help="posts held by the policy checks").add_subparsers(
        dest="action", required=True, metavar="ACTION", parser_class=Parser)
    review_list = command("list", "held posts of an organisation, oldest first", review_cmd)
    review_list.add_argument("--org", required=True, help="the organisation's slug")
    review_list.add_argument("--json", action="store_true")
    for decision in ("approve", "reject"):
        review_decide = command(decision, f"{decision} a held post as a reviewer of its organisation", review_cmd)
        review_decide.add_argument("post_id", metavar="POST_ID")
        review_decide.add_argument("--by", required=True, help="the reviewer's username")
        review_decide.add_argument("--reason", default="", help="why (required to reject)")
        review_decide.add_argument("--version", default=None,
                                   help="the version `review list` showed; the decision fails if the post changed "
                                        "since (without it, the current version is decided on and audited)")

    trust_cmd = commands.add_parser("trust", help="government nodes whose badges this node trusts").add_subparsers(
        dest="action", required=True, metavar="ACTION", parser_class=Parser)
    # dest differs from the --domain setting, which every command also accepts.
    command("add", "trust badges issued by organisations on DOMAIN", trust_cmd).add_argument(
        "trusted_domain", metavar="DOMAIN")
    command("remove", "stop trusting badges from DOMAIN", trust_cmd).add_argument("trusted_domain", metavar="DOMAIN")
    command("list", "list trusted nodes", trust_cmd).add_argument("--json", action="store_true")

    domain_cmd = commands.add_parser("domain", help="domain policies: which servers this node federates with"
                                     ).add_subparsers(dest="action", required=True, metavar="ACTION",
                                                      parser_class=Parser)
    # dests differ from the --domain setting and from "action", which names the subcommand itself.
    domain_block = command("block", "suspend, silence or reject the media of a server (and its subdomains)",
                           domain_cmd)
    domain_block.add_argument("target_domain", metavar="DOMAIN")
    domain_block.add_argument("--severity", required=True, choices=domain_blocks.SEVERITY_CHOICES)
    domain_block.add_argument("--reason", default="", help="why (for moderators only; never shown publicly)")
    domain_block.add_argument("--public-comment", default="", help="why, as shown on the public list")
    domain_block.add_argument("--reject-media", action="store_true", help="also reject its media (with silence)")
    domain_block.add_argument("--reject-reports", action="store_true", help="ignore reports from it")
    domain_block.add_argument("--obfuscate", action="store_true", help="hide part of the name on the public list")
    command("unblock", "remove a server's policy (limits it put on accounts are lifted)", domain_cmd).add_argument(
        "target_domain", metavar="DOMAIN")
    command("allow", "put a server on the allowlist (used in allowlist mode)", domain_cmd).add_argument(
        "target_domain", metavar="DOMAIN")
    command("disallow", "take a server off the allowlist", domain_cmd).add_argument("target_domain", metavar="DOMAIN")
    command("mode", "federate with every server not suspended (blocklist, the default) or only with the "
            "allowlist", domain_cmd).add_argument("federation_mode", metavar="MODE", choices=domain_blocks.MODES)
    command("list", "the federation mode, domain policies and allowlist", domain_cmd).add_argument(
        "--json", action="store_true")
    domain_import = command("import", "add domain policies from a CSV file in Mastodon's format (or a plain list of "
                            "domains); domains that already have a policy are left as they are", domain_cmd)
    domain_import.add_argument("csv_file", metavar="FILE")
    domain_import.add_argument("--severity", default="suspend", choices=domain_blocks.SEVERITY_CHOICES,
                               help="for a plain list without a header line (default suspend)")
    command("export", "write the domain policies as CSV in Mastodon's format (to FILE, or standard output)",
            domain_cmd).add_argument("csv_file", metavar="FILE", nargs="?")

    admin = commands.add_parser("admin", help="instance administrators").add_subparsers(
        dest="action", required=True, metavar="ACTION", parser_class=Parser)
    admin_create = command("create", "create an instance admin (or, with --moderator, a moderator)", admin)
    admin_create.add_argument("--username", required=True)
    admin_create.add_argument("--email", default=None)
    admin_create.add_argument("--moderator", action="store_true", help="a moderator rather than an admin")
    admin_create.add_argument("--password-stdin", action="store_true")
    return parser


def _settings_flags(args: argparse.Namespace) -> dict[str, object]:
    return {spec.name: getattr(args, spec.name) for spec in SPECS if hasattr(args, spec.name)}


async def _with_database(settings: Settings, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    """Run `work` in one transaction on a migrated database; nothing is kept if it raises."""
    embedded = None if settings.database_url else EmbeddedPostgres(settings.data_dir)
    url = settings.database_url or embedded.start()  # type: ignore[union-attr]
    try:
        pool = await open_pool(url, min_size=1, max_size=2)
        try:
            async with pool.acquire() as conn:
                await migrate(conn)
            async with transaction(pool) as conn:
                return await work(conn)
        finally:
            await pool.close()
    finally:
        if embedded is not None:
            embedded.stop()


def _read_password(from_stdin: bool) -> tuple[str, bool]:
    """The password, and whether we generated it (and so must show it once)."""
    if not from_stdin:
        return secrets.token_urlsafe(15), True
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise CliError("no password on standard input")
    passwords.check_strength(password)
    return password, False


async def _organisation(conn: asyncpg.Connection, slug: str) -> organisations.Organisation:
    org = await organisations.get_organisation_by_slug(conn, slug)
    if org is None:
        raise NotFound("There is no organisation with slug %(slug)s.", slug=slug)
    return org


def org_account_username(slug: str) -> str:
    return slug.replace("-", "_")[:30]


async def cmd_org_create(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    org = await organisations.insert_organisation(conn, name=args.name, slug=args.slug, kind=args.kind,
                                                  website=args.website)
    account = await accounts.insert_account(conn, username=org_account_username(org.slug), kind="organisation",
                                            display_name=org.name[:100], organisation_id=org.id,
                                            language=settings.default_language)
    return f"Created organisation {org.slug} ({org.name}) with account @{account.username}"


async def cmd_org_list(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    orgs = await organisations.list_organisations(conn)
    if args.json:
        return json.dumps([{"slug": o.slug, "name": o.name, "kind": o.kind, "website": o.website} for o in orgs])
    return "\n".join(f"{o.slug}\t{o.kind}\t{o.name}\t{o.website}" for o in orgs)


async def cmd_org_update(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    org = await _organisation(conn, args.slug)
    labels = {name: getattr(args, name) for name in ("official_label_nl", "official_label_en", "personal_label_nl",
                                                     "personal_label_en")}
    updated = await organisations.update_voice_settings(conn, org, auto_boost=args.auto_boost, labels=labels)
    await audit.record(conn, actor_id=None, action="organisation.voice_settings", subject_type="organisation",
                       subject_id=org.id, detail={"auto_boost": updated.auto_boost, **labels}, now=utc_now())
    return (f"{updated.slug}: automatic boosts {'on' if updated.auto_boost else 'off'}; official line "
            f"\"{voice.line('official', 'nl', updated)}\" / \"{voice.line('official', 'en', updated)}\"")


async def cmd_org_verify(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    from federation.websites import verify_website
    from server.app import outgoing_client

    org = await _organisation(conn, args.slug)
    org_verification.check_website(org.website)
    org_account = await accounts.get_organisation_account(conn, org.id)
    async with outgoing_client(settings) as client:
        proof = await verify_website(client, organisation=org,
                                     org_username=org_account.username if org_account else None,
                                     base_url=settings.base_url, domain=settings.domain)
    await org_verification.record_verification(conn, org, proof, actor=None, now=utc_now())
    return f"Verified {org.slug}: {proof.detail}"


async def _local_account(conn: asyncpg.Connection, username: str) -> accounts.Account:
    account = await accounts.get_account_by_username(conn, username.lstrip("@"))
    if account is None:
        raise NotFound("There is no account @%(username)s here.", username=username.lstrip("@")[:40])
    return account


def _date(value: str | None, flag: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise CliError(f"{flag} must be a date as YYYY-MM-DD, not {value[:40]!r}") from None


def _badge_line(badge: badges.Badge, settings: Settings, username: str, today: date) -> str:
    until = badge.valid_until.isoformat() if badge.valid_until else "-"
    return (f"{badge.id}\t@{username}\t{badge.function_title}\t{badge.unit or '-'}\t{badge.valid_from.isoformat()}\t"
            f"{until}\t{badge.status(today)}\t{badges.badge_url(settings.base_url, badge.id)}")


async def cmd_badge_issue(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    valid_from, valid_until = _date(args.valid_from, "--valid-from"), _date(args.valid_until, "--valid-until")
    by = await _local_account(conn, args.by)
    official = await _local_account(conn, args.username)
    badge = await badges.issue(conn, actor=by, official=official, function_title=args.function, unit=args.unit,
                               valid_from=valid_from, valid_until=valid_until, now=utc_now())
    waiting = " (waiting for a second admin: ambtenaar badge approve)" if badge.awaiting_approval else ""
    return f"Issued badge to @{official.username} ({badge.organisation_name}){waiting}: " \
           f"{badges.badge_url(settings.base_url, badge.id)}"


async def _current_badge(conn: asyncpg.Connection, username: str) -> tuple[accounts.Account, badges.Badge]:
    official = await _local_account(conn, username)
    badge = await badges.get_current_badge(conn, official.id)
    if badge is None:
        raise NotFound("@%(username)s has no badge that is not revoked.", username=official.username)
    return official, badge


async def cmd_badge_change(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    no_end = args.valid_until is not None and args.valid_until.strip().lower() == "none"
    valid_until = None if no_end else _date(args.valid_until, "--valid-until")
    if args.function is None and args.unit is None and args.valid_until is None:
        raise CliError("nothing to change: give --function, --unit or --valid-until")
    by = await _local_account(conn, args.by)
    official, badge = await _current_badge(conn, args.username)
    badge = await badges.change(conn, badge, actor=by, function_title=args.function, unit=args.unit,
                                valid_until=valid_until, clear_valid_until=no_end, now=utc_now())
    return f"Changed the badge of @{official.username}: {badges.badge_url(settings.base_url, badge.id)}"


async def cmd_badge_approve(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    by = await _local_account(conn, args.by)
    official, badge = await _current_badge(conn, args.username)
    badge = await badges.approve(conn, badge, actor=by, now=utc_now())
    return f"Approved the badge of @{official.username}: {badges.badge_url(settings.base_url, badge.id)}"


async def cmd_badge_revoke(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    by = await _local_account(conn, args.by)
    official, badge = await _current_badge(conn, args.username)
    await badges.revoke(conn, badge, actor=by, reason=args.reason, now=utc_now())
    return f"Revoked the badge of @{official.username}: {badges.badge_url(settings.base_url, badge.id)}"


async def cmd_badge_list(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    org = await _organisation(conn, args.org)
    found = await badges.list_organisation_badges(conn, org.id)
    names = {a.id: a.username for a in (await accounts.list_accounts_by_ids(conn, [b.account_id for b in found]))
             .values()}
    today = badges.local_date(utc_now())
    if args.json:
        return json.dumps([{
            "id": str(b.id), "username": names.get(b.account_id), "organisation": org.slug,
            "function": b.function_title, "unit": b.unit or None, "valid_from": b.valid_from.isoformat(),
            "valid_until": b.valid_until.isoformat() if b.valid_until else None, "status": b.status(today),
            "revoked_at": b.revoked_at.isoformat() if b.revoked_at else None, "revoked_reason": b.revoked_reason,
            "url": badges.badge_url(settings.base_url, b.id)} for b in found])
    return "\n".join(_badge_line(b, settings, names.get(b.account_id, "?"), today) for b in found)


async def cmd_user_create(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    if args.role and not args.org:
        raise CliError("--role needs --org: a role is held in an organisation")
    org = await _organisation(conn, args.org) if args.org else None
    role = accounts.parse_org_role(args.role or "official") if org else None
    password, generated = _read_password(args.password_stdin)
    account = await accounts.insert_account(
        conn, username=args.username, kind="person", email=args.email, display_name=args.display_name,
        password_hash=passwords.hash_password(password), organisation_id=org.id if org else None, org_role=role,
        language=settings.default_language)
    where = f" ({role.replace('_', '-')} at {org.slug})" if org and role else ""
    line = f"Created user @{account.username}{where}"
    return f"{line}\nPassword (shown once): {password}" if generated else line


async def cmd_user_invite(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    org = await _organisation(conn, args.org)
    token = await invites.insert_invite(conn, organisation_id=org.id, org_role=args.role, now=utc_now(),
                                        valid_for=timedelta(days=settings.invite_days))
    return f"{settings.base_url}/invite/{token}"


async def cmd_user_list(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    people = await accounts.list_accounts(conn)
    orgs = {o.id: o.slug for o in await organisations.list_organisations(conn)}

    def role(a: accounts.Account) -> str:
        if a.is_admin:
            return "admin"
        if a.is_moderator:
            return "moderator"
        if a.is_organisation:
            return "organisation"
        return (a.org_role or "").replace("_", "-") or "-"

    rows = [{"username": a.username, "display_name": a.display_name, "email": a.email, "role": role(a),
             "organisation": orgs.get(a.organisation_id) if a.organisation_id else None} for a in people]
    if args.json:
        return json.dumps(rows)
    return "\n".join(f"{r['username']}\t{r['role']}\t{r['organisation'] or '-'}\t{r['email'] or '-'}" for r in rows)


async def cmd_admin_create(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    password, generated = _read_password(args.password_stdin)
    account = await accounts.insert_account(
        conn, username=args.username, kind="person", email=args.email, password_hash=passwords.hash_password(password),
        is_admin=not args.moderator, is_moderator=True, language=settings.default_language)
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


def _option(text: str) -> tuple[str, Any]:
    name, sep, raw = text.partition("=")
    if not sep or not name.strip():
        raise CliError(f"--param must look like KEY=VALUE, not {text!r}")
    try:
        return name.strip(), json.loads(raw)
    except ValueError:
        return name.strip(), raw


async def cmd_policy_set(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    org = await _organisation(conn, args.org)
    options = dict(_option(o) for o in args.param)
    current = {r.check_id: policy.CheckSetting(r.action, r.options)
               for r in await policy_settings.list_settings(conn, org.id)}
    current[args.check] = policy.CheckSetting(args.policy_action, options)
    try:
        policy.PolicySettings(current)  # validates the check id, the action it allows and its options
    except ValueError as exc:
        raise CliError(str(exc)) from None
    await policy_settings.upsert_setting(conn, org.id, args.check, args.policy_action, options)
    await audit.record(conn, actor_id=None, action="policy.setting", subject_type="organisation", subject_id=org.id,
                       detail={"check": args.check, "action": args.policy_action, "options": options}, now=utc_now())
    return f"{org.slug}: {args.check} is {args.policy_action}"


async def cmd_policy_list(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    org = await _organisation(conn, args.org)
    chosen = {r.check_id: r for r in await policy_settings.list_settings(conn, org.id)}
    rows = [{"check": c.id, "rule": c.rule_id, "actions": sorted(c.actions),
             "action": chosen[c.id].action if c.id in chosen else "off",
             "options": chosen[c.id].options if c.id in chosen else {}} for c in policy.CATALOGUE]
    if args.json:
        return json.dumps(rows)
    return "\n".join(f"{r['check']}\t{r['action']}\t{json.dumps(r['options'])}" for r in rows)


async def cmd_review_list(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    org = await _organisation(conn, args.org)
    held = await posts.list_posts(conn, await posts.list_held(conn, org.id))
    people = await accounts.list_accounts_by_ids(conn, list({p.account_id for p in held.values()}))
    rows = [{"id": str(p.id), "author": people[p.account_id].username, "voice": p.voice,
             "created_at": p.created_at.isoformat(), "text": p.source_text, "findings": p.policy_findings or [],
             "version": await publishing.review_version(conn, p)}
            for p in sorted(held.values(), key=lambda p: p.id)]
    if args.json:
        return json.dumps(rows, ensure_ascii=False)
    return "\n".join(f"{r['id']}\t@{r['author']}\t{r['voice']}\t{r['version']}\t{r['text'][:60]}" for r in rows)


async def cmd_review_decide(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    reviewer = await accounts.get_account_by_username(conn, args.by)
    if reviewer is None:
        raise NotFound("There is no account with that name here.")
    if not str(args.post_id).isdigit() or len(str(args.post_id)) > 19:
        raise CliError("POST_ID must be the number `ambtenaar review list` shows")
    if args.action == "approve":
        await publishing.approve_held(conn, reviewer, int(args.post_id), utc_now(), version=args.version)
        return f"Published post {args.post_id}"
    await publishing.reject_held(conn, reviewer, int(args.post_id), args.reason, utc_now(), version=args.version)
    return f"Rejected post {args.post_id}"


async def cmd_trust_add(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    domain = await trust.insert_trusted(conn, args.trusted_domain, None, utc_now())
    await audit.record(conn, actor_id=None, action="trust.added", subject_type="domain", subject_id=domain,
                       detail={}, now=utc_now())
    return f"Badges from {domain} are now trusted (existing remote accounts are checked again when refetched)"


async def cmd_trust_remove(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    domain = await trust.delete_trusted(conn, args.trusted_domain)
    await audit.record(conn, actor_id=None, action="trust.removed", subject_type="domain", subject_id=domain,
                       detail={}, now=utc_now())
    return f"Badges from {domain} are no longer trusted"


async def cmd_trust_list(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    found = await trust.list_trusted(conn)
    return json.dumps(found) if args.json else "\n".join(found)


MAX_DOMAIN_FILE = 8 * 1024 * 1024


def _read_start(path: str, size: int) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(size)


def _purge_summary(change: domain_blocks.Change) -> str:
    purged = change.purge
    removed = f"; removed {purged.posts} posts and {purged.follows} follows of {purged.accounts} accounts" \
        if purged else ""
    return f"{change.limited} known accounts limited{removed}"


async def cmd_domain_block(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    terms = domain_blocks.terms_for(args.severity, reject_media=args.reject_media, reject_reports=args.reject_reports,
                                    obfuscate=args.obfuscate, private_comment=args.reason,
                                    public_comment=args.public_comment)
    change = await domain_blocks.block(conn, args.target_domain, terms, own_domain=settings.domain, actor_id=None,
                                       now=utc_now())
    label = change.policy.label if change.policy else args.severity
    return f"{change.domain}: {label} ({_purge_summary(change)})"


async def cmd_domain_unblock(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    change = await domain_blocks.unblock(conn, args.target_domain, actor_id=None, now=utc_now())
    return f"{change.domain}: no policy any more (limits lifted on {change.lifted} known accounts)"


async def cmd_domain_allow(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    domain = domain_blocks.normalise_domain(args.target_domain)
    added = await domain_blocks.allow(conn, domain, own_domain=settings.domain, actor_id=None, now=utc_now())
    mode = await domain_blocks.get_mode(conn)
    note = "" if mode == "allowlist" else " (it counts once `ambtenaar domain mode allowlist` is set)"
    return f"{domain} is {'now' if added else 'already'} on the allowlist{note}"


async def cmd_domain_disallow(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    domain = await domain_blocks.disallow(conn, args.target_domain, actor_id=None, now=utc_now())
    return f"{domain} is no longer on the allowlist"


async def cmd_domain_mode(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    await domain_blocks.set_mode(conn, args.federation_mode, actor_id=None, now=utc_now())
    if args.federation_mode == "allowlist":
        allowed = await domain_blocks.list_allowed(conn)
        return f"Allowlist mode: this node federates only with {len(allowed)} listed domains"
    return "Blocklist mode: this node federates with every server that is not suspended"


async def cmd_domain_list(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    mode = await domain_blocks.get_mode(conn)
    found = await domain_blocks.list_policies(conn)
    allowed = await domain_blocks.list_allowed(conn)
    if args.json:
        return json.dumps({"mode": mode, "policies": [{
            "domain": p.domain, "severity": p.label, "mastodon_severity": p.severity, "reject_media": p.reject_media,
            "reject_reports": p.reject_reports, "obfuscate": p.obfuscate, "reason": p.private_comment,
            "public_comment": p.public_comment, "created_at": p.created_at.isoformat(),
            "updated_at": p.updated_at.isoformat()} for p in found], "allowlist": allowed}, ensure_ascii=False)
    lines = [f"mode\t{mode}"]
    for p in found:
        flags = ",".join(name for name, on in (("reject-media", p.reject_media and p.severity != "noop"),
                                               ("reject-reports", p.reject_reports), ("obfuscate", p.obfuscate)) if on)
        lines.append(f"policy\t{p.domain}\t{p.label}\t{flags or '-'}\t{p.private_comment or '-'}")
    lines += [f"allow\t{d}" for d in allowed]
    return "\n".join(lines)


async def cmd_domain_import(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    data = await asyncio.to_thread(_read_start, args.csv_file, MAX_DOMAIN_FILE + 1)
    if len(data) > MAX_DOMAIN_FILE:
        raise CliError(f"{args.csv_file} is larger than {MAX_DOMAIN_FILE // (1024 * 1024)} MiB")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise CliError(f"{args.csv_file} is not UTF-8 text") from None
    done = await domain_blocks.import_csv(conn, text, own_domain=settings.domain, actor_id=None, now=utc_now(),
                                          source=args.csv_file.rsplit("/", 1)[-1], default_severity=args.severity)
    skipped = f"; {len(done.skipped)} already had a policy and were left as they are" if done.skipped else ""
    return f"Imported {len(done.added)} domain policies{skipped}"


async def cmd_domain_export(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    found = await domain_blocks.list_policies(conn)
    text = domain_blocks.to_csv(found)
    if not args.csv_file or args.csv_file == "-":
        return text.rstrip("\n")
    await asyncio.to_thread(Path(args.csv_file).write_text, text, encoding="utf-8")
    return f"Wrote {len(found)} domain policies to {args.csv_file}"


async def cmd_migrate(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    return "Database schema is up to date"


DATABASE_COMMANDS: dict[tuple[str, str | None], Callable[[asyncpg.Connection, Settings, argparse.Namespace],
                                                         Awaitable[str]]] = {
    ("migrate", None): cmd_migrate,
    ("org", "create"): cmd_org_create,
    ("org", "list"): cmd_org_list,
    ("org", "verify"): cmd_org_verify,
    ("org", "update"): cmd_org_update,
    ("badge", "issue"): cmd_badge_issue,
    ("badge", "change"): cmd_badge_change,
    ("badge", "revoke"): cmd_badge_revoke,
    ("badge", "approve"): cmd_badge_approve,
    ("badge", "list"): cmd_badge_list,
    ("user", "create"): cmd_user_create,
    ("user", "invite"): cmd_user_invite,
    ("user", "list"): cmd_user_list,
    ("admin", "create"): cmd_admin_create,
    ("policy", "set"): cmd_policy_set,
    ("policy", "list"): cmd_policy_list,
    ("review", "list"): cmd_review_list,
    ("review", "approve"): cmd_review_decide,
    ("review", "reject"): cmd_review_decide,
    ("trust", "add"): cmd_trust_add,
    ("trust", "remove"): cmd_trust_remove,
    ("trust", "list"): cmd_trust_list,
    ("domain", "block"): cmd_domain_block,
    ("domain", "unblock"): cmd_domain_unblock,
    ("domain", "allow"): cmd_domain_allow,
    ("domain", "disallow"): cmd_domain_disallow,
    ("domain", "mode"): cmd_domain_mode,
    ("domain", "list"): cmd_domain_list,
    ("domain", "import"): cmd_domain_import,
    ("domain", "export"): cmd_domain_export,
    ("token", "create"): cmd_token_create,
    ("token", "revoke"): cmd_token_revoke,
    ("token", "list"): cmd_token_list,
}


def serve(settings: Settings) -> None:
    import uvicorn

    from server.app import create_app
    from server.logs import log_config

    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=log_config(settings.log_level),
                proxy_headers=True, forwarded_allow_ips=list(trusted_proxy_list(settings)),
                ssl_certfile=settings.tls_cert or None, ssl_keyfile=settings.tls_key or None,
                server_header=False, timeout_graceful_shutdown=10)


async def run_worker(settings: Settings) -> None:
    """Federation queues without the web server, until SIGTERM or Ctrl-C."""
    import logging.config
    import signal

    from federation.context import Federation
    from federation.worker import Worker
    from server.app import outgoing_client
    from server.deps import Deps
    from server.logs import log_config

    logging.config.dictConfig(log_config(settings.log_level))
    embedded = None if settings.database_url else EmbeddedPostgres(settings.data_dir)
    url = settings.database_url or embedded.start()  # type: ignore[union-attr]
    pool = await open_pool(url)
    client = outgoing_client(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        async with pool.acquire() as conn:
            await migrate(conn)
        await Worker(Federation(deps=Deps(settings=settings, pool=pool), client=client)).run_until(stop)
    finally:
        await client.aclose()
        await pool.close()
        if embedded is not None:
            embedded.stop()


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(_settings_flags(args))
        if args.command == "serve":
            serve(settings)
            return 0
        if args.command == "worker":
            # uvloop, like `serve` (uvicorn[standard]): plain asyncio keeps a 256 KiB buffer per TLS connection,
            # which a fan-out to thousands of inboxes turns into hundreds of megabytes (docs/benchmarks.md).
            import uvloop

            with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                runner.run(run_worker(settings))
            return 0
        handler = DATABASE_COMMANDS[(args.command, getattr(args, "action", None))]
        output = asyncio.run(_with_database(settings, lambda conn: handler(conn, settings, args)))
    except (CliError, SettingsError, DomainError, EmbeddedDatabaseError) as error:
        print(f"ambtenaar: error: {error}", file=sys.stderr)
        return 1
    except (OSError, asyncpg.PostgresError) as error:
        print(f"ambtenaar: error: {type(error).__name__}: {error}".splitlines()[0], file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    if output:
        print(output)
    return 0

