"""Getting documents from other servers: signed GETs of ActivityStreams documents and the WebFinger client.

Owns: the domain gate before any fetch (nothing is fetched from, or looked up at, a server we do not federate
with), GETs signed by the instance actor (for servers in authorized-fetch mode) through the one outgoing client
(netguard), authority follows origin (a document must come from the host of its id, and a redirect to a blocked
server is refused), the WebFinger request, and the small unsigned GET of a badge's verification page; the
errors `ResolveError` and `Blocked`. Never: reads a document's fields beyond JSON itself (federation/vocab.py
does), or stores anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from federation import keys, signatures, vocab
from federation.context import Federation
from federation.netguard import FetchResult, NetguardError
from moderation import domain_blocks
from server import limits
from server.db.pool import connection

ACCEPT = 'application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
MAX_DOCUMENT = 1024 * 1024
MAX_WEBFINGER = 256 * 1024
MAX_SMALL_JSON = 64 * 1024


class ResolveError(Exception):
    """A remote actor or object could not be fetched or is not what it claims to be."""


class Blocked(ResolveError):
    """The server is one this node does not federate with (suspended, or not on the allowlist)."""


async def refuse_blocked(fed: Federation, host: str) -> None:
    """Nothing is fetched from, or looked up at, a server we do not federate with (moderation/domain_blocks.py),
    so that a blocked server cannot make us fetch from it either."""
    async with connection(fed.deps.pool) as conn:
        verdict = await domain_blocks.gate(conn, fed.deps.settings.domain, host)
    if not verdict.allowed:
        raise Blocked(f"{host} is blocked here ({verdict.reason})")


def _json(body: bytes, url: str) -> Any:
    try:
        return limits.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise ResolveError(f"{url} did not answer JSON") from None


async def _signed_get(fed: Federation, url: str) -> FetchResult:
    settings = fed.deps.settings
    await refuse_blocked(fed, vocab.host_of(url))
    async with connection(fed.deps.pool) as conn:
        key = await keys.instance_key(conn, settings)
    private_key = fed.private_key(key.private_key_pem)

    def headers_for(hop_url: str) -> dict[str, str]:
        base = {"Accept": ACCEPT}
        return {**base, **signatures.sign_request_cavage("GET", hop_url, base, None, private_key, key.key_id,
                                                         fed.deps.now())}

    try:
        result = await fed.client.get(url, headers_for=headers_for, max_bytes=MAX_DOCUMENT)
    except NetguardError as exc:
        raise ResolveError(f"could not fetch {url}: {exc}") from exc
    if result.status == 410:
        raise ResolveError(f"{url} is gone (410)")
    if result.status != 200:
        raise ResolveError(f"{url} answered {result.status}")
    return result


async def _authoritative(fed: Federation, result: FetchResult, url: str) -> Mapping[str, Any]:
    doc = _json(result.body, url)
    if not isinstance(doc, Mapping):
        raise ResolveError(f"{url} did not answer a JSON object")
    # Authority follows origin: whatever the document says its id is, it must live where we fetched it.
    doc_id = vocab.document_id(doc)
    if doc_id is None or vocab.host_of(doc_id) != vocab.host_of(str(result.url)):
        raise ResolveError(f"{url} answered a document whose id is on another host")
    if vocab.host_of(str(result.url)) != vocab.host_of(url):
        await refuse_blocked(fed, vocab.host_of(str(result.url)))  # redirected to a blocked server
    return doc


async def signed_get_json(fed: Federation, url: str) -> Mapping[str, Any]:
    """GET an ActivityStreams document, signed by the instance actor; one request (redirects aside)."""
    return await _authoritative(fed, await _signed_get(fed, url), url)


async def fetch_page_document(fed: Federation, url: str) -> Mapping[str, Any]:
    """The ActivityStreams document behind a URL someone pasted (a post or profile page), as Mastodon finds it:
    asked for with the ActivityPub Accept header; a server that answers HTML anyway is followed once to the
    `<link rel="alternate" type="application/activity+json">` of that page."""
    result = await _signed_get(fed, url)
    if "html" in result.headers.get("content-type", "").lower():
        alternate = vocab.alternate_activity_link(result.body.decode("utf-8", "replace"))
        if alternate is None:
            raise ResolveError(f"{url} is a web page without an ActivityPub alternate")
        return await signed_get_json(fed, alternate)
    return await _authoritative(fed, result, url)


async def fetch_object(fed: Federation, uri: str) -> Mapping[str, Any]:
    """An object (a Note, a key document) from its own server."""
    return await signed_get_json(fed, uri)


async def webfinger_document(fed: Federation, username: str, host: str) -> Any:
    """The WebFinger answer for `username@host` (https; plain http too only with --allow-private-addresses), parsed
    but not yet read: vocab.py reads what the caller needs of it."""
    return await _webfinger(fed, host, f"acct:{username}@{host}", f"{username}@{host}")


async def webfinger_by_url(fed: Federation, url: str) -> str | None:
    """The actor a profile page URL belongs to, asked of its server by WebFinger with the URL as the resource
    (RFC 7033 allows any URI; Mastodon answers for its profile URLs); None when it names none."""
    host = vocab.host_of(url)
    return vocab.webfinger_actor(await _webfinger(fed, host, url, url))


async def _webfinger(fed: Federation, host: str, resource: str, what: str) -> Any:
    await refuse_blocked(fed, host)
    query = quote(resource, safe=":@")
    schemes = ["https"] + (["http"] if fed.deps.settings.allow_private_addresses else [])
    last_error: Exception | None = None
    for scheme in schemes:
        url = f"{scheme}://{host}/.well-known/webfinger?resource={query}"
        try:
            result = await fed.client.get(url, headers_for=lambda _u: {"Accept": "application/jrd+json"},
                                          max_bytes=MAX_WEBFINGER)
        except NetguardError as exc:
            last_error = exc
            continue
        if result.status != 200:
            raise ResolveError(f"{what} was not found ({result.status})")
        try:
            return limits.loads(result.body)
        except (ValueError, UnicodeDecodeError):
            raise ResolveError(f"{host} answered WebFinger with something that is not JSON") from None
    raise ResolveError(f"could not reach {host}: {last_error}")


async def webfinger(fed: Federation, username: str, host: str) -> str:
    """The actor URI behind `username@host`."""
    actor_uri = vocab.webfinger_actor(await webfinger_document(fed, username, host))
    if actor_uri is None:
        raise ResolveError(f"{username}@{host} has no ActivityPub actor")
    return actor_uri


async def get_small_json(fed: Federation, url: str) -> Any | None:
    """An unsigned GET of a small JSON document (a badge's verification page), or None when there is no usable
    answer: the caller decides what a missing answer means."""
    try:
        result = await fed.client.get(url, headers_for=lambda _u: {"Accept": "application/json"},
                                      max_bytes=MAX_SMALL_JSON)
        return limits.loads(result.body) if result.status == 200 else None
    except (NetguardError, ValueError, UnicodeDecodeError):
        return None
