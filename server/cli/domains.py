"""`ambtenaar domain ...`: domain policies, the allowlist and the federation mode.

Owns: the domain commands' arguments and output. Never: SQL, or what a policy does (moderation/domain_blocks.py
validates, writes and audits, as for the moderators' page).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

import asyncpg

from moderation import domain_blocks, domain_lists
from server.cli.base import Group
from server.config import Settings
from server.deps import utc_now


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
    change = await domain_blocks.block(conn, args.target_domain, terms, own_domain=settings.domain, actor=None,
                                       now=utc_now(), destroy_records=args.destroy_records)
    label = change.policy.label if change.policy else args.severity
    return f"{change.domain}: {label} ({_purge_summary(change)})"


async def cmd_domain_unblock(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    change = await domain_blocks.unblock(conn, args.target_domain, actor=None, now=utc_now())
    return f"{change.domain}: no policy any more (limits lifted on {change.lifted} known accounts)"


async def cmd_domain_allow(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    domain = domain_blocks.normalise_domain(args.target_domain)
    added = await domain_blocks.allow(conn, domain, own_domain=settings.domain, actor=None, now=utc_now())
    mode = await domain_blocks.get_mode(conn)
    note = "" if mode == "allowlist" else " (it counts once `ambtenaar domain mode allowlist` is set)"
    return f"{domain} is {'now' if added else 'already'} on the allowlist{note}"


async def cmd_domain_disallow(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    domain = await domain_blocks.disallow(conn, args.target_domain, actor=None, now=utc_now())
    return f"{domain} is no longer on the allowlist"


async def cmd_domain_mode(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    await domain_blocks.set_mode(conn, args.federation_mode, actor=None, now=utc_now())
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
    data = await asyncio.to_thread(_read_start, args.csv_file, domain_lists.MAX_CSV_BYTES + 1)
    done = await domain_lists.import_csv(conn, data, own_domain=settings.domain, actor=None, now=utc_now(),
                                          source=args.csv_file.rsplit("/", 1)[-1], default_severity=args.severity)
    skipped = f"; {len(done.skipped)} already had a policy and were left as they are" if done.skipped else ""
    return f"Imported {len(done.added)} domain policies{skipped}"


async def cmd_domain_export(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    found = await domain_blocks.list_policies(conn)
    text = domain_lists.to_csv(found)
    if not args.csv_file or args.csv_file == "-":
        return text.rstrip("\n")
    await asyncio.to_thread(Path(args.csv_file).write_text, text, encoding="utf-8")
    return f"Wrote {len(found)} domain policies to {args.csv_file}"


def add_commands(root: Group) -> None:
    area = root.area("domain", "domain policies: which servers this node federates with")
    # dests differ from the --domain setting and from "action", which names the subcommand itself.
    block = area.command("block", "suspend, silence or reject the media of a server (and its subdomains)",
                         cmd_domain_block)
    block.add_argument("target_domain", metavar="DOMAIN")
    block.add_argument("--severity", required=True, choices=domain_blocks.SEVERITY_CHOICES)
    block.add_argument("--reason", default="", help="why (for moderators only; never shown publicly)")
    block.add_argument("--public-comment", default="", help="why, as shown on the public list")
    block.add_argument("--reject-media", action="store_true", help="also reject its media (with silence)")
    block.add_argument("--reject-reports", action="store_true", help="ignore reports from it")
    block.add_argument("--obfuscate", action="store_true", help="hide part of the name on the public list")
    block.add_argument("--destroy-records", dest="destroy_records", action="store_true",
                       help="a suspension keeps no archive copy of organisations' received records from it (only "
                            "when the law requires their destruction; audited)")
    area.command("unblock", "remove a server's policy (limits it put on accounts are lifted)",
                 cmd_domain_unblock).add_argument("target_domain", metavar="DOMAIN")
    area.command("allow", "put a server on the allowlist (used in allowlist mode)", cmd_domain_allow).add_argument(
        "target_domain", metavar="DOMAIN")
    area.command("disallow", "take a server off the allowlist", cmd_domain_disallow).add_argument(
        "target_domain", metavar="DOMAIN")
    area.command("mode", "federate with every server not suspended (blocklist, the default) or only with the "
                 "allowlist", cmd_domain_mode).add_argument("federation_mode", metavar="MODE",
                                                           choices=domain_blocks.MODES)
    area.command("list", "the federation mode, domain policies and allowlist", cmd_domain_list).add_argument(
        "--json", action="store_true")
    importing = area.command("import", "add domain policies from a CSV file in Mastodon's format (or a plain list "
                             "of domains); domains that already have a policy are left as they are", cmd_domain_import)
    importing.add_argument("csv_file", metavar="FILE")
    importing.add_argument("--severity", default="suspend", choices=domain_blocks.SEVERITY_CHOICES,
                           help="for a plain list without a header line (default suspend)")
    area.command("export", "write the domain policies as CSV in Mastodon's format (to FILE, or standard output)",
                 cmd_domain_export).add_argument("csv_file", metavar="FILE", nargs="?")
