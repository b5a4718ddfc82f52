"""The URLs that identify our actors and objects on the wire; they never change once published.

Owns: the shape of every ActivityPub id we mint. Never: routing (federation/routes.py mounts these paths).
"""

from __future__ import annotations

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
