"""Errors the domain model raises on purpose; web and API map them to HTTP in one place each.

Owns: the hierarchy. Never: knows HTTP; the status a caller should use is a hint on the class.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class DomainError(Exception):
    """Base for refusals a person can act on; the message says what to change.

    The message is an English template with %(name)s placeholders, so that pages can show it translated.
    """

    http_status = 422

    def __init__(self, template: str, **values: Any) -> None:
        self.template = template
        self.values = values
        super().__init__(template % values if values else template)

    def translated(self, gettext: Callable[[str], str]) -> str:
        text = gettext(self.template)
        return text % self.values if self.values else text


class NotFound(DomainError):
    """The thing asked for does not exist (or is not visible to the asker)."""

    http_status = 404


class Forbidden(DomainError):
    """The account may not do this."""

    http_status = 403


class Invalid(DomainError):
    """The input is not acceptable as given."""

    http_status = 422


class Gone(DomainError):
    """The thing existed but was taken away (a suspended account)."""

    http_status = 410


class Conflict(DomainError):
    """The input clashes with something that already exists."""

    http_status = 409


class TooManyAttempts(DomainError):
    """Too many tries in a short time; wait and try again."""

    http_status = 429
