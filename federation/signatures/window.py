"""The time window a signature must fall in: its signed date or `created` near now, its `expires` not passed.

Owns: DEFAULT_MAX_SKEW and the two checks both schemes share, with messages saying which clock is off.
Never: reading the clock (`now` is always a parameter), parsing headers.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from federation.signatures.errors import SignatureExpired
from federation.signatures.parsing import utc


DEFAULT_MAX_SKEW = timedelta(hours=1)


def check_window(moment: datetime, now: datetime, max_skew: timedelta, what: str) -> None:
    offset = moment - utc(now)
    if offset > max_skew:
        raise SignatureExpired(f"{what} ({moment.isoformat()}) is {offset} ahead of this server's clock; "
                               f"at most {max_skew} is accepted. Check the sender's clock.")
    if -offset > max_skew:
        raise SignatureExpired(f"{what} ({moment.isoformat()}) is {-offset} old; at most {max_skew} is accepted. "
                               f"Re-sign the request when (re)sending it.")


def check_expires(expires: int | None, now: datetime) -> None:
    if expires is not None and utc(now).timestamp() > expires:
        raise SignatureExpired(f"The signature expired at {datetime.fromtimestamp(expires, timezone.utc)}.")
