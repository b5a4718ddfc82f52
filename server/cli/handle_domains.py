"""`ambtenaar org domain` and `ambtenaar org domain-check`: an organisation's handle domain (@anna@ede.nl).

Owns: the two commands' arguments and output (registered in the `org` area by server/cli/orgs.py). Never: SQL, or
a step of the action (server/handle_domains.py sets and records; federation/handle_domain_check.py runs the
self-test, the same function the organisation admin's page calls).
"""

from __future__ import annotations

import argparse

import asyncpg

from server import handle_domains
from server.cli.base import CliError, Group, organisation
from server.config import Settings
from server.db.pool import connection
from server.deps import Deps, utc_now


async def cmd_domain(conn: asyncpg.Connection, settings: Settings, args: argparse.Namespace) -> str:
    org = await organisation(conn, args.org)
    domain = await handle_domains.set_handle_domain(conn, org, args.handle_domain, node_domain=settings.domain,
                                                    actor_id=None, now=utc_now())
    return (f"{org.slug}: handle domain {domain.domain} is {domain.state}. Redirect its /.well-known/webfinger and "
            f"/.well-known/nodeinfo to https://{settings.domain}, then run: "
            f"ambtenaar org domain-check --org {org.slug}")


async def cmd_domain_check(pool: asyncpg.Pool, settings: Settings, args: argparse.Namespace) -> str:
    """The self-test runs before the transaction that records it, so a slow website never holds one open; exit
    status 0 only when every check passed (and the domain is then active)."""
    from federation.context import Federation
    from federation.handle_domain_check import check_and_record, snippets
    from server.app import outgoing_client

    async with connection(pool) as conn:
        org = await organisation(conn, args.org)
    async with outgoing_client(settings) as client:
        result, recorded = await check_and_record(Federation(deps=Deps(settings=settings, pool=pool), client=client),
                                                  org.id, actor_id=None)
    if not result.passed:
        hint = snippets(result.domain, settings.domain)["nginx"] if args.snippets else ""
        raise CliError("\n".join([f"{org.slug}: handle domain {result.domain} is {recorded.state}; "
                                  f"{len(result.failures())} check(s) failed:", *result.failures()])
                       + (f"\nnginx:\n{hint}" if hint else ""))
    return "\n".join([*result.text_lines(), f"{org.slug}: handle domain {result.domain} is {recorded.state}"])


def add_commands(org: Group) -> None:
    domain = org.command("domain", "set the organisation's handle domain (@user@ede.nl); pending until "
                         "domain-check passes, and fixed once its accounts federated under it", cmd_domain)
    domain.add_argument("--org", required=True, help="the organisation's slug")
    domain.add_argument("--handle-domain", dest="handle_domain", required=True, help="e.g. ede.nl")
    check = org.command("domain-check", "check that the handle domain redirects WebFinger and NodeInfo to this "
                        "node; activates it when every check passes (exit 1 otherwise)",
                        pool_handler=cmd_domain_check)
    check.add_argument("--org", required=True, help="the organisation's slug")
    check.add_argument("--snippets", action="store_true", help="also print the nginx snippet when a check fails")
