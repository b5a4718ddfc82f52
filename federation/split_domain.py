"""Canonical handles of remote accounts on split-domain servers (Mastodon with LOCAL_DOMAIN != WEB_DOMAIN, GoToSocial
with account-domain != host): `bob@example.com` whose actor is `https://social.example.com/users/bob`.

Owns: the pure decision which handle a WebFinger answer proves for an actor, and whether it needs the subject's
own domain to confirm it (as Mastodon's ResolveAccountService re-asks the subject when it differs from the query).
Never: I/O (federation/actors.py asks WebFinger, fetches the actor, and stores the account once, keyed by its actor
URI, plus the confirmed handle in server/handle_domains.py's remote_handle_domains).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Canonical:
    """The handle to keep for an actor; `confirm`: its domain must first answer WebFinger for it with the same
    actor (a server may claim any subject, but only the subject's own domain may grant it)."""

    username: str
    domain: str
    confirm: bool = False


def _host(uri: str) -> str:
    return (urlsplit(uri).netloc or "").lower()  # with a port, as federation/vocab.host_of and accounts.domain


def _subject(subject: str | None) -> tuple[str, str] | None:
    text = (subject or "").strip()
    text = text[5:] if text.lower().startswith("acct:") else text
    username, sep, domain = text.lstrip("@").partition("@")
    if not sep or not username or not domain or "@" in domain or "/" in domain:
        return None
    return username, domain.lower()


def canonical_handle(asked_username: str, asked_host: str, subject: str | None, actor_uri: str) -> Canonical:
    """The handle a WebFinger answer for `asked_username@asked_host` proves for `actor_uri` (its self link).

    The asked domain answered (perhaps through its redirect), so a subject on it, or no subject at all, is proven.
    A subject on the actor's own host is proven too: that server is authoritative for its actors. A subject on a
    third domain must be confirmed by that domain."""
    asked = asked_host.lower()
    parsed = _subject(subject)
    if parsed is None:
        return Canonical(asked_username, asked)
    username, domain = parsed
    if domain in (asked, _host(actor_uri)):
        return Canonical(username, domain)
    return Canonical(username, domain, confirm=True)


def fallback(preferred_username: str, actor_uri: str) -> Canonical:
    """Mastodon's rule when nothing better is proven: the actor's preferredUsername on its own host."""
    return Canonical(preferred_username, _host(actor_uri))


def is_split(canonical: Canonical, actor_uri: str) -> bool:
    """Whether the handle's domain is not the actor's host (so it must be remembered to be found again)."""
    return canonical.domain != _host(actor_uri)
