"""The URLs that identify our actors and objects on the wire; they never change once published.

Owns: the shape of every ActivityPub id we mint, and of media-proxy URLs (signed, so the proxy is not open). Never: routing (federation/routes.py mounts these paths).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from server.config import Settings


def actor(settings: Settings, username: str) -> str:
    return f"{settings.base_url}/users/{username}"


def key_id(settings: Settings, username: str) -> str:
    return f"{actor(settings, username)}#main-key"


def inbox(settings: Settings, username: str) -> str:
    return f"{actor(settings, username)}/inbox"


def outbox(settings: Settings, username: str) -> str:
    return f"{actor(settings, username)}/outbox"


def followers(settings: Settings, username: str) -> str:
    return f"{actor(settings, username)}/followers"


def following(settings: Settings, username: str) -> str:
    return f"{actor(settings, username)}/following"


def featured(settings: Settings, username: str) -> str:
    return f"{actor(settings, username)}/collections/featured"


def status(settings: Settings, username: str, post_id: int) -> str:
    return f"{actor(settings, username)}/statuses/{post_id}"


def quote_authorization(settings: Settings, username: str, post_id: int, quote_id: int) -> str:
    """A QuoteAuthorization (FEP-044f) lives under the quoted post, so it is served to whoever may see that post."""
    return f"{status(settings, username, post_id)}/quotes/{quote_id}"


def activity(settings: Settings, username: str, kind: str, ident: int | str) -> str:
    """Ids for activities that are not objects themselves (Follow, Like, Undo, Accept, ...)."""
    return f"{actor(settings, username)}#{kind}/{ident}"


def profile(settings: Settings, username: str) -> str:
    return f"{settings.base_url}/@{username}"


def post_page(settings: Settings, username: str, post_id: int) -> str:
    return f"{settings.base_url}/@{username}/{post_id}"


def shared_inbox(settings: Settings) -> str:
    return f"{settings.base_url}/inbox"


def instance_actor(settings: Settings) -> str:
    return f"{settings.base_url}/actor"


def instance_key_id(settings: Settings) -> str:
    return f"{instance_actor(settings)}#main-key"


def context_document(settings: Settings) -> str:
    return f"{settings.base_url}/ns"


def _media_signature(settings: Settings, remote_url: str) -> str:
    key = hashlib.sha256(b"media-proxy\0" + settings.secret_key.encode()).digest()
    return hmac.new(key, remote_url.encode(), hashlib.sha256).hexdigest()[:32]


def proxied_media(settings: Settings, remote_url: str, *, preview: bool = False) -> str:
    """Where our pages and apps load a remote image: through our proxy, never from the remote server itself."""
    encoded = base64.urlsafe_b64encode(remote_url.encode()).decode().rstrip("=")
    suffix = "?size=small" if preview else ""
    return f"{settings.base_url}/media/proxy/{_media_signature(settings, remote_url)}/{encoded}{suffix}"


def proxied_media_target(settings: Settings, signature: str, encoded: str) -> str | None:
    """The remote URL a proxy path stands for, or None when we did not sign it."""
    try:
        remote_url = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if not hmac.compare_digest(signature, _media_signature(settings, remote_url)):
        return None
    return remote_url


def parse_local(settings: Settings, url: str) -> tuple[str, str, int | None] | None:
    """What one of our own URLs names, as (kind, username, post id): ("account", name, None) for an actor or
    profile URL, ("post", name, id) for a status id or post page, ("", "", None) for ours but neither, None for a
    URL that is not ours. Search and /authorize_interaction answer these from the database, not over HTTP."""
    base = settings.base_url
    if not url.startswith(base + "/"):
        return None
    parts = [p for p in url[len(base):].split("?")[0].split("#")[0].split("/") if p]
    if len(parts) == 2 and parts[0] == "users" or len(parts) == 1 and parts[0].startswith("@"):
        return "account", parts[-1].lstrip("@"), None
    if len(parts) in (4, 5) and parts[0] == "users" and parts[2] == "statuses" and parts[3].isdigit() \
            and len(parts[3]) < 20 and (len(parts) == 4 or parts[4] == "activity"):
        return "post", parts[1], int(parts[3])
    if len(parts) == 2 and parts[0].startswith("@") and parts[1].isdigit() and len(parts[1]) < 20:
        return "post", parts[0].lstrip("@"), int(parts[1])
    return "", "", None
