"""An instance admin verifies an organisation: its own website must vouch for its account on this node.

The website proves it in one of two ways:
- a link with `rel="me"` (an `<a>` or `<link>`) to the organisation's profile here (`https://NODE/@account`), its
  actor (`https://NODE/users/account`) or its organisation page (`https://NODE/orgs/slug`), as Mastodon's own link
  verification reads rel="me";
- `/.well-known/ambtenaar-online.json` on the website's host, naming this node and the organisation:
  `{"nodes": [{"domain": "NODE", "organisations": ["slug"]}]}` (or one such object at the top level). The
  organisation is named too, so that a website naming the node cannot verify some other organisation on it.

Owns: the pure decision from fetched documents (`decide`), the organisations' verification columns and their SQL,
and the audit entry. Never: fetches anything (the CLI and the admin page do, through federation/websites.py), and
never decides on a page it was not given.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit, urlunsplit

import asyncpg

from server import audit, limits
from server.accounts import Account
from server.errors import DomainError, Forbidden, Invalid
from server.organisations import Organisation

WELL_KNOWN_PATH = "/.well-known/ambtenaar-online.json"
RELME = "rel_me"
WELL_KNOWN = "well_known"
METHODS = (RELME, WELL_KNOWN)


class NotVerified(DomainError):
    """The website was fetched but proves nothing about the organisation's account here; the message says why."""

    http_status = 422


@dataclass(frozen=True)
class Fetched:
    """What the edge fetched: the final URL (after redirects), status, content type and body; or, with status 0,
    why nothing could be fetched (refused address, timeout, too large, ...)."""

    url: str
    status: int
    content_type: str = ""
    body: bytes = b""
    error: str = ""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass(frozen=True)
class Proof:
    method: str
    detail: str


@dataclass(frozen=True)
class Verification:
    organisation_id: int
    verified_at: datetime
    verified_by: int | None
    method: str
    detail: str


def well_known_url(website: str) -> str:
    parts = urlsplit(website)
    return urlunsplit((parts.scheme, parts.netloc, WELL_KNOWN_PATH, "", ""))


def check_website(website: str) -> None:
    parts = urlsplit(website)
    if not website:
        raise Invalid("The organisation has no website to verify; set one first.")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Invalid("The website must be a full http(s) URL, e.g. https://www.ede.nl.")


def profile_urls(base_url: str, org_slug: str, org_username: str | None) -> frozenset[str]:
    """The addresses of the organisation on this node that a rel="me" link may point to, normalised."""
    urls = {f"{base_url}/orgs/{org_slug}"}
    if org_username:
        urls |= {f"{base_url}/@{org_username}", f"{base_url}/users/{org_username}"}
    return frozenset(_normalise(u) for u in urls)


def _normalise(url: str) -> str:
    """Scheme and host in lower case, no default port, no fragment or query, no trailing slash; path as written."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    try:
        port = parts.port
    except ValueError:
        return ""
    netloc = host if port in (None, default) else f"{host}:{port}"
    return urlunsplit((parts.scheme.lower(), netloc, parts.path.rstrip("/"), "", ""))


class _RelMeLinks(HTMLParser):
    def __init__(self, base: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base = base
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "base":
            href = dict(attrs).get("href")
            if href:
                self.base = urljoin(self.base, href)
        if tag not in ("a", "link"):
            return
        values = dict(attrs)
        if "me" in (values.get("rel") or "").lower().split() and values.get("href"):
            self.links.append(urljoin(self.base, str(values["href"]).strip()))


def rel_me_links(html: str, page_url: str) -> list[str]:
    """Absolute targets of every `<a rel="me">` and `<link rel="me">` on the page (rel may hold more tokens)."""
    parser = _RelMeLinks(page_url)
    parser.feed(html)
    parser.close()
    return parser.links


def _names(node: object, domain: str, slug: str, targets: frozenset[str]) -> bool:
    if not isinstance(node, dict):
        return False
    named = node.get("domain")
    if not isinstance(named, str) or named.strip().lower() != domain.lower():
        return False
    orgs = node.get("organisations")
    return isinstance(orgs, list) and any(
        isinstance(o, str) and (o.strip() == slug or _normalise(o) in targets) for o in orgs)


def well_known_names(body: bytes, domain: str, slug: str, targets: frozenset[str]) -> bool:
    try:
        doc = limits.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return False
    if not isinstance(doc, dict):
        return False
    nodes = doc.get("nodes")
    candidates = [doc, *(nodes if isinstance(nodes, list) else [])]
    return any(_names(c, domain, slug, targets) for c in candidates)


def _said(fetched: Fetched | None, missing: str) -> str:
    if fetched is None:
        return "was not fetched"
    if fetched.status == 0:
        return f"could not be fetched ({fetched.error})"
    if not fetched.ok:
        return f"answered HTTP {fetched.status}"
    return missing


def decide(*, organisation: Organisation, org_username: str | None, base_url: str, domain: str,
           page: Fetched | None, well_known: Fetched | None) -> Proof:
    """What the fetched website proves, or NotVerified saying in one line what was missing."""
    targets = profile_urls(base_url, organisation.slug, org_username)
    if page is not None and page.ok:
        for link in rel_me_links(page.body.decode("utf-8", errors="replace"), page.url):
            if _normalise(link) in targets:
                return Proof(RELME, f'{page.url} links to {link} with rel="me"')
    if well_known is not None and well_known.ok \
            and well_known_names(well_known.body, domain, organisation.slug, targets):
        return Proof(WELL_KNOWN, f"{well_known.url} names {domain} and {organisation.slug}")
    raise NotVerified(
        "The website does not vouch for this organisation: %(page)s %(page_said)s, and %(known)s %(known_said)s.",
        page=page.url if page else organisation.website,
        page_said=_said(page, 'has no rel="me" link to ' + " or ".join(sorted(targets))),
        known=well_known.url if well_known else well_known_url(organisation.website),
        known_said=_said(well_known, f"does not name {domain} with organisation {organisation.slug}"))


_COLUMNS = "id AS organisation_id, verified_at, verified_by, verification_method AS method, " \
           "verification_detail AS detail"


async def get_verification(conn: asyncpg.Connection, organisation_id: int) -> Verification | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM organisations WHERE id = $1 AND verified_at IS NOT NULL",
                              organisation_id)
    return Verification(**dict(row)) if row else None


async def list_verifications(conn: asyncpg.Connection) -> dict[int, Verification]:
    rows = await conn.fetch(f"SELECT {_COLUMNS} FROM organisations WHERE verified_at IS NOT NULL")
    return {r["organisation_id"]: Verification(**dict(r)) for r in rows}


async def record_verification(conn: asyncpg.Connection, organisation: Organisation, proof: Proof, *,
                              actor: Account | None, now: datetime) -> Verification:
    """Store the proof; `actor` is None for an operator at the command line, else it must be an instance admin."""
    if actor is not None and (not actor.is_admin or not actor.is_local or actor.disabled_at is not None):
        raise Forbidden("Only an instance admin may verify organisations.")
    if proof.method not in METHODS:
        raise ValueError(f"unknown verification method {proof.method!r}")
    detail = proof.detail[:1000]
    row = await conn.fetchrow(
        f"UPDATE organisations SET verified_at = $2, verified_by = $3, verification_method = $4, "
        f"verification_detail = $5 WHERE id = $1 RETURNING {_COLUMNS}",
        organisation.id, now, actor.id if actor else None, proof.method, detail)
    await audit.record(conn, actor_id=actor.id if actor else None, action="organisation.verified",
                       subject_type="organisation", subject_id=organisation.id,
                       detail={"slug": organisation.slug, "website": organisation.website, "method": proof.method,
                               "detail": detail}, now=now)
    return Verification(**dict(row))
