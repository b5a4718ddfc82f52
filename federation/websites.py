"""Fetching an organisation's own website to see whether it vouches for the organisation's account here.

Owns: the GETs of the website page and, when that page proves nothing, of its
/.well-known/ambtenaar-online.json, through the one outgoing client (netguard: http/https only, no private
addresses unless allow_private_addresses, 1 MiB, 10 s, checked redirects). Never: decides what the documents
prove (server/org_verification.py does) or writes anything.
"""

from __future__ import annotations

from federation.netguard import MIB, NetguardError, OutgoingClient
from server.org_verification import Fetched, NotVerified, Proof, decide, well_known_url
from server.organisations import Organisation

MAX_BYTES = 1 * MIB
TIMEOUT = 10.0


async def fetch(client: OutgoingClient, url: str, accept: str) -> Fetched:
    """One GET, no retry; a refusal or failure comes back as status 0 with the reason."""
    try:
        result = await client.get(url, {"Accept": accept}, max_bytes=MAX_BYTES, timeout=TIMEOUT)
    except NetguardError as error:
        return Fetched(url=url, status=0, error=str(error)[:300])
    return Fetched(url=result.url, status=result.status, content_type=result.headers.get("content-type", ""),
                   body=result.body)


async def verify_website(client: OutgoingClient, *, organisation: Organisation, org_username: str | None,
                         base_url: str, domain: str) -> Proof:
    """The website's proof, or NotVerified naming what each document lacked."""
    page = await fetch(client, organisation.website, "text/html, application/xhtml+xml;q=0.9, */*;q=0.1")
    try:
        return decide(organisation=organisation, org_username=org_username, base_url=base_url, domain=domain,
                      page=page, well_known=None)
    except NotVerified:
        pass
    known = await fetch(client, well_known_url(organisation.website), "application/json")
    return decide(organisation=organisation, org_username=org_username, base_url=base_url, domain=domain,
                  page=page, well_known=known)
