"""`ambtenaar policy ...` and `review ...`: an organisation's checks before publication, and the posts they hold.

Owns: those commands' arguments and output. Never: SQL, or a step of an action (server/policy_settings.py changes
settings, server/publishing.py decides held posts; each validates, writes and audits, as for the pages).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import asyncpg

import moderation.policy as policy
from server import accounts, policy_settings, posts, publishing
from server.cli.base import CliError, Group, organisation
from server.config import Settings
from server.deps import utc_now
from server.errors import NotFound


def _option(text: str) -> tuple[str, Any]:
    name, sep, raw = text.partition("=")
    if not sep or not name.strip():
        raise CliError(f"--param must look like KEY=VALUE, not {text!r}")
    try:
        return name.strip(), json.loads(raw)
    except ValueError:
        return name.strip(), raw


async def cmd_policy_set(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    org = await organisation(conn, args.org)
    options = dict(_option(o) for o in args.param)
    await policy_settings.change_settings(conn, org.id, {args.check: (args.policy_action, options)}, actor=None,
                                          now=utc_now())
    return f"{org.slug}: {args.check} is {args.policy_action}"


async def cmd_policy_list(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    org = await organisation(conn, args.org)
    chosen = {r.check_id: r for r in await policy_settings.list_settings(conn, org.id)}
    rows = [{"check": c.id, "rule": c.rule_id, "actions": sorted(c.actions),
             "action": chosen[c.id].action if c.id in chosen else "off",
             "options": chosen[c.id].options if c.id in chosen else {}} for c in policy.CATALOGUE]
    if args.json:
        return json.dumps(rows)
    return "\n".join(f"{r['check']}\t{r['action']}\t{json.dumps(r['options'])}" for r in rows)


async def cmd_review_list(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    org = await organisation(conn, args.org)
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


def add_commands(root: Group) -> None:
    checks = root.area("policy", "an organisation's checks before a post is published")
    policy_set = checks.command("set", "switch a check on (warn, hold, block) or off, with its parameters",
                                cmd_policy_set)
    policy_set.add_argument("--org", required=True, help="the organisation's slug")
    policy_set.add_argument("--check", required=True, help="the check's id (see `ambtenaar policy list --org SLUG`)")
    # dest differs from "action", which names the subcommand itself.
    policy_set.add_argument("--action", dest="policy_action", required=True, choices=policy_settings.ACTIONS)
    policy_set.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                            help='a parameter, the value JSON or plain text, e.g. topics=\'[{"terms": ["parkeren"]}]\'')
    policy_list = checks.command("list", "the checks there are, and which the organisation has switched on",
                                 cmd_policy_list)
    policy_list.add_argument("--org", required=True, help="the organisation's slug")
    policy_list.add_argument("--json", action="store_true")

    review = root.area("review", "posts held by the policy checks")
    review_list = review.command("list", "held posts of an organisation, oldest first", cmd_review_list)
    review_list.add_argument("--org", required=True, help="the organisation's slug")
    review_list.add_argument("--json", action="store_true")
    for decision in ("approve", "reject"):
        decide = review.command(decision, f"{decision} a held post as a reviewer of its organisation",
                                cmd_review_decide)
        decide.add_argument("post_id", metavar="POST_ID")
        decide.add_argument("--by", required=True, help="the reviewer's username")
        decide.add_argument("--reason", default="", help="why (required to reject)")
        decide.add_argument("--version", default=None,
                            help="the version `review list` showed; the decision fails if the post changed "
                                 "since (without it, the current version is decided on and audited)")
