"""The self-test of an organisation's handle domain: does `https://ede.nl` send other servers to this node?

Owns: the GETs of `https://<domain>/.well-known/webfinger?resource=acct:<org account>@<domain>` and
`https://<domain>/.well-known/nodeinfo` through the one outgoing client (federation/netguard.py) WITHOUT following
the redirect blindly: each answer is judged as it came (status, Location, Access-Control-Allow-Origin), and only a
redirect to this node's own https://<node domain>/.well-known/... is followed, to check what other servers then get
(subject and self link of the WebFinger answer, a NodeInfo document); the result, one line per check with what to
change; the nginx, Apache and IIS snippets an IT department needs; running the test and recording it
(`check_and_record`, used by the CLI, the page and the worker's daily re-check). Never: decides the state machine
(server/handle_domains.py does) or proxies anything (the handle domain is only ever redirected).

Why a redirect and nothing else: Mastodon asks /.well-known/webfinger on the handle domain and falls back to
host-meta only on a 404, so a CMS that answers 200 (an HTML page), 403 or 500 there breaks the handle silently;
GoToSocial also needs /.well-known/nodeinfo. Browser-based clients need `Access-Control-Allow-Origin: *`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from federation import vocab
from federation.context import Federation
from federation.netguard import NetguardError, OutgoingClient
from server import accounts, handle_domains, limits, uris
from server.config import Settings
from server.db.pool import connection, transaction
from server.errors import Invalid
from server.handle_domains import HandleDomain

log = logging.getLogger("ambtenaar.handle_domains")
TIMEOUT = 10.0
MAX_BYTES = 256 * 1024
REDIRECTS = frozenset({301, 302, 303, 307, 308})


@dataclass(frozen=True)
class CheckLine:
    """One check: what was asked, what we saw, and (when it failed) what to change."""

    name: str
    ok: bool
    saw: str
    change: str = ""

    def text(self) -> str:
        return (f"ok   {self.name}: {self.saw}" if self.ok
                else f"FAIL {self.name}: {self.saw}" + (f" — change: {self.change}" if self.change else ""))


@dataclass(frozen=True)
class CheckResult:
    domain: str
    lines: tuple[CheckLine, ...]

    @property
    def passed(self) -> bool:
        return all(line.ok for line in self.lines)

    def text_lines(self) -> list[str]:
        return [line.text() for line in self.lines]

    def failures(self) -> list[str]:
        return [line.text() for line in self.lines if not line.ok]


def snippets(handle_domain: str, node_domain: str) -> dict[str, str]:
    """The web server configuration for `handle_domain`'s own site (nginx, Apache, IIS): a redirect of the
    discovery addresses to this node, with the CORS header, and nothing proxied."""
    node = f"https://{node_domain}"
    return {
        "nginx": (
            f"# in the server {{ }} block of {handle_domain} (port 443)\n"
            "location ~ ^/\\.well-known/(webfinger|nodeinfo|host-meta)$ {\n"
            '    add_header Access-Control-Allow-Origin "*" always;\n'
            f"    return 301 {node}$request_uri;\n"
            "}\n"),
        "apache": (
            f"# in the <VirtualHost *:443> of {handle_domain} (mod_rewrite and mod_headers enabled)\n"
            "RewriteEngine On\n"
            f"RewriteRule ^/?\\.well-known/(webfinger|nodeinfo|host-meta)$ {node}/.well-known/$1 [R=301,L]\n"
            '<LocationMatch "^/\\.well-known/(webfinger|nodeinfo|host-meta)$">\n'
            '    Header always set Access-Control-Allow-Origin "*"\n'
            "</LocationMatch>\n"),
        "iis": (
            f"<!-- web.config in the root of {handle_domain} (IIS URL Rewrite module installed) -->\n"
            "<configuration>\n  <system.webServer>\n    <rewrite>\n      <rules>\n"
            '        <rule name="Fediverse handles" stopProcessing="true">\n'
            '          <match url="^\\.well-known/(webfinger|nodeinfo|host-meta)$" />\n'
            f'          <action type="Redirect" url="{node}/.well-known/{{R:1}}" appendQueryString="true" '
            'redirectType="Permanent" />\n'
            "        </rule>\n      </rules>\n    </rewrite>\n  </system.webServer>\n"
            '  <location path=".well-known">\n    <system.webServer>\n      <httpProtocol>\n'
            '        <customHeaders>\n          <add name="Access-Control-Allow-Origin" value="*" />\n'
            "        </customHeaders>\n      </httpProtocol>\n    </system.webServer>\n  </location>\n"
            "</configuration>\n"),
    }


def _json(body: bytes) -> Any:
    try:
        return limits.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None


def _redirect_lines(name: str, url: str, status: int, headers: dict[str, str] | Any, expected_path: str,
                    node_domain: str) -> tuple[list[CheckLine], str | None]:
    """The lines about the first answer of the handle domain, and the redirect target to follow when it is ours."""
    fix = f"redirect {url.split('?')[0]} with 301 or 307 to https://{node_domain}{expected_path} (see the snippets)"
    kind = headers.get("content-type", "").split(";")[0] or "no content type"
    if status not in REDIRECTS:
        if status == 404:
            saw = f"{url} answered 404 (not found); the website does not send this address on"
        elif status == 200:
            saw = f"{url} answered 200 with {kind} itself instead of redirecting"
        else:
            saw = f"{url} answered {status} ({kind})"
        return [CheckLine(f"{name} redirect", False, saw, fix)], None
    location = headers.get("location", "")
    target = urlsplit(location)
    ours = target.scheme == "https" and target.netloc.lower() == node_domain.lower() and target.path == expected_path
    lines = [CheckLine(f"{name} redirect", ours, f"{status} to {location[:200] or '(no Location header)'}",
                       "" if ours else fix)]
    cors = headers.get("access-control-allow-origin")
    lines.append(CheckLine(f"{name} CORS", cors == "*",
                           f"Access-Control-Allow-Origin: {cors}" if cors else "no Access-Control-Allow-Origin header",
                           'add the header Access-Control-Allow-Origin: * to the redirect (see the snippets)'))
    return lines, location if ours else None


async def _get(client: OutgoingClient, url: str, follow: bool) -> tuple[int, dict[str, str], bytes] | str:
    try:
        result = await client.get(url, {"Accept": "application/jrd+json, application/json"}, max_bytes=MAX_BYTES,
                                  timeout=TIMEOUT, follow_redirects=follow)
    except NetguardError as error:
        return str(error)[:300]
    return result.status, dict(result.headers), result.body


async def _first_hop(client: OutgoingClient, name: str, url: str, node_domain: str
                     ) -> tuple[list[CheckLine], str | None]:
    """The handle domain's own answer for one discovery address, not followed: its lines, and the target on this
    node to follow when the redirect is right."""
    first = await _get(client, url, follow=False)
    if isinstance(first, str):
        host = urlsplit(url).netloc
        return [CheckLine(f"{name} redirect", False, f"could not reach {url.split('?')[0]}: {first}",
                          f"make sure https://{host} answers with a valid certificate")], None
    return _redirect_lines(name, url, first[0], first[1], urlsplit(url).path, node_domain)


async def run_check(client: OutgoingClient, settings: Settings, domain: str, org_username: str) -> CheckResult:
    """The self-test of `domain` for the organisation whose account is `org_username`; never raises for what
    the handle domain answers (every outcome is a line)."""
    node = settings.domain
    handle = f"{org_username}@{domain}"
    lines: list[CheckLine] = []
    url = f"https://{domain}/.well-known/webfinger?resource={quote('acct:' + handle, safe=':@')}"
    found, target = await _first_hop(client, "webfinger", url, node)
    lines += found
    if target is not None:
        lines += await _webfinger_lines(client, settings, target, handle, org_username)
    found, target = await _first_hop(client, "nodeinfo", f"https://{domain}/.well-known/nodeinfo", node)
    lines += found
    if target is not None:
        answer = await _get(client, target, follow=True)
        doc = _json(answer[2]) if not isinstance(answer, str) and answer[0] == 200 else None
        ok = isinstance(doc, dict) and isinstance(doc.get("links"), list)
        lines.append(CheckLine("nodeinfo answer", ok, "this node's NodeInfo links" if ok else
                               f"{target} gave no NodeInfo document", "" if ok else "keep the redirect's path "
                               "exactly /.well-known/nodeinfo"))
    return CheckResult(domain, tuple(lines))


async def _webfinger_lines(client: OutgoingClient, settings: Settings, target: str, handle: str,
                           org_username: str) -> list[CheckLine]:
    """What other servers get after following the redirect to this node: the subject and the self link."""
    resource = parse_qs(urlsplit(target).query).get("resource", [""])[0]
    if resource != f"acct:{handle}":
        return [CheckLine("webfinger query", False, f"the redirect dropped or changed the query (?resource={resource})",
                          "keep the query string when redirecting ($request_uri in nginx; appendQueryString in IIS)")]
    answer = await _get(client, target, follow=True)
    if isinstance(answer, str) or answer[0] != 200:
        saw = answer if isinstance(answer, str) else f"{target} answered {answer[0]}"
        return [CheckLine("webfinger answer", False, saw, "set the handle domain here first "
                          "(ambtenaar org domain), then check again")]
    jrd = _json(answer[2])
    subject, actor = vocab.webfinger_subject(jrd), vocab.webfinger_actor(jrd)
    expected_actor = uris.actor(settings, org_username)
    return [CheckLine("webfinger subject", subject == f"acct:{handle}", f"subject {subject}",
                      "" if subject == f"acct:{handle}" else "set this handle domain here (ambtenaar org domain)"),
            CheckLine("webfinger self link", actor == expected_actor, f"self {actor}",
                      "" if actor == expected_actor else f"the redirect must point at https://{settings.domain}")]


async def check_and_record(fed: Federation, organisation_id: int, *, actor_id: int | None) -> tuple[CheckResult,
                                                                                                  HandleDomain]:
    """Run the self-test of the organisation's handle domain (outside any transaction: the fetches may take
    seconds) and record it in one transaction: a pass activates, a failure after activation marks it failing."""
    async with connection(fed.deps.pool) as conn:
        current = await handle_domains.get_handle_domain(conn, organisation_id)
        org_account = await accounts.get_organisation_account(conn, organisation_id)
    if current is None or org_account is None:
        raise Invalid("This organisation has no handle domain yet; set one first.")
    result = await run_check(fed.client, fed.deps.settings, current.domain, org_account.username)
    async with transaction(fed.deps.pool) as conn:
        recorded = await handle_domains.record_check(conn, organisation_id, current.domain, passed=result.passed,
                                                     lines=result.text_lines(), actor_id=actor_id, now=fed.deps.now())
    if recorded.state == "failing":
        log.warning("handle domain check failed", extra={"domain": current.domain, "failed": result.failures()})
    return result, recorded


async def recheck_due(fed: Federation, now: datetime | None = None) -> int:
    """The worker's daily re-check of live handle domains (a few per turn; each at most once a day)."""
    async with connection(fed.deps.pool) as conn:
        due = await handle_domains.list_due_rechecks(conn, now or fed.deps.now())
    for item in due:
        await check_and_record(fed, item.organisation_id, actor_id=None)
    return len(due)
