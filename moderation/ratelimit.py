"""Which inbound requests are limited, and how much: the inbox's limits per remote domain and per remote actor.

Owns: the inbox buckets, their numbers (from settings) and the answer a throttled sender gets (seconds to wait and
a reason). The counting is server/ratelimits.py's fixed windows: the inbox counts in memory and flushes to
PostgreSQL about once a second (`InboxLimits`), so every web process of a node sees the others' counts within a
second (server/ratelimits.LocalWindows says how far that can be off). Never: stores or drops an activity (federation/inbox.py answers the request); never limits our
own people (the client API's limit is in web/api/http.py, sign-in's in server/sessions.py).

Why both buckets: a domain limit keeps one server from taking the whole inbox (a flood, or a relay gone wrong),
while other domains' deliveries go on; an actor limit stops one noisy account within a large server long before
its domain's share runs out. Senders that get 429 retry later (Mastodon, and our own federation/delivery.py,
honour Retry-After), so nothing a well-behaved server sends is lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from server import ratelimits
from server.config import Settings


@dataclass(frozen=True)
class Throttled:
    """A refusal: the sender should wait `retry_after` seconds (the end of the current window)."""

    retry_after: int
    reason: str


def sender_domain(actor_uri: str) -> str:
    """The host name the limit is counted for; the port is left out, so one host cannot dodge it by ports."""
    return (urlsplit(actor_uri).hostname or "").lower()


def _buckets(settings: Settings, actor_uri: str) -> list[tuple[str, int, str]]:
    domain = sender_domain(actor_uri)
    buckets = ((f"inbox:domain:{domain}", settings.inbox_rate_limit_domain, f"too many activities from {domain}"),
               (f"inbox:actor:{actor_uri}", settings.inbox_rate_limit_actor, f"too many activities from {actor_uri}"))
    return [(bucket, limit, reason) for bucket, limit, reason in buckets if limit > 0]  # 0 switches one off


def _throttled(settings: Settings, counted: list[tuple[str, int, str]], verdicts: list[ratelimits.Verdict],
               now: datetime) -> Throttled | None:
    for (_, limit, reason), verdict in zip(counted, verdicts, strict=True):
        if not verdict.allowed:
            wait = max(1, int((verdict.reset_at - now).total_seconds() + 0.999))
            return Throttled(retry_after=wait,
                             reason=f"{reason}: at most {limit} per {settings.inbox_rate_window_seconds} seconds; "
                                    f"try again in {wait} seconds")
    return None


class InboxLimits:
    """The inbox's limits counted in this process's memory and flushed to PostgreSQL about once a second
    (server/ratelimits.LocalWindows, which says how far several processes can be off), so a verified activity
    costs no round trip for them."""

    def __init__(self, settings: Settings, *, flush_every: float = 1.0) -> None:
        self.settings = settings
        self.windows = ratelimits.LocalWindows(timedelta(seconds=settings.inbox_rate_window_seconds),
                                               flush_every=flush_every)

    def check(self, *, actor_uri: str, now: datetime) -> Throttled | None:
        """Count one verified inbox POST for its actor's domain and for the actor; None when it may pass.

        Call it only after the signature is verified and the signer owns the actor: an unverified request names
        any domain it likes, and counting those would let anyone spend another server's share.
        """
        counted = _buckets(self.settings, actor_uri)
        verdicts = self.windows.hit_many([(bucket, limit) for bucket, limit, _ in counted], now=now)
        return _throttled(self.settings, counted, verdicts, now)
