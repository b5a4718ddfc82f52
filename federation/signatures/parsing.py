"""Reading what a request says, for both schemes: headers, HTTP dates, the host and target of a URL, and the
subset of RFC 8941 structured fields that RFC 9421 and RFC 9530 use (parsed and serialised).

Owns: lower-cased header maps, base64 and HTTP-date parsing (SignatureMalformed with a readable message), the
authority and path of a URL as HTTP clients write them, a Host header's authority, and the structured-field parser
and serialiser. Never: deciding whether a signature is acceptable, cryptography, the clock (`now` is a parameter).
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Union
from urllib.parse import urlsplit

from federation.signatures.errors import SignatureMalformed


_DEFAULT_PORTS = {"http": 80, "https": 443}


def lower_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def b64decode(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise SignatureMalformed(f"{what} is not valid base64.") from None


def utc(now: datetime) -> datetime:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(timezone.utc)


def http_date(now: datetime) -> str:
    """`now` as an IMF-fixdate (RFC 7231), e.g. "Sun, 05 Jan 2014 21:31:40 GMT"; independent of the locale."""
    return email.utils.format_datetime(utc(now).replace(microsecond=0), usegmt=True)


def parse_http_date(value: str) -> datetime:
    """Parse a `Date` header into an aware UTC datetime; raise SignatureMalformed if it is not an HTTP date."""
    try:
        parsed = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        raise SignatureMalformed(f"Date header {value!r} is not an HTTP date like "
                                 f"'Sun, 05 Jan 2014 21:31:40 GMT'.") from None
    return parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed.astimezone(timezone.utc)


def _host_and_port(host: str, port: int | None, scheme: str) -> str:
    """`host[:port]`, the port left out when it is the scheme's default, as HTTP clients write the Host header."""
    if port is None or port == _DEFAULT_PORTS.get(scheme.lower()):
        return host
    return f"{host}:{port}"


def url_authority(url: str) -> str:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    return _host_and_port(host, parts.port, parts.scheme)


_HOST_HEADER = re.compile(r"(\[[0-9a-f:.]+\]|[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?)(?::([0-9]{1,5}))?")


def host_header_authority(value: str, scheme: str) -> str | None:
    """A Host header as `url_authority` writes it (lower case, default port dropped), or None when it is not just a
    host and port: userinfo, a path or a trailing dot could otherwise make another server's Host parse as ours."""
    found = _HOST_HEADER.fullmatch(value.strip().lower())
    if found is None:
        return None
    port = found.group(2)
    return _host_and_port(found.group(1), int(port) if port else None, scheme)


def url_path(url: str) -> str:
    return urlsplit(url).path or "/"


def url_path_with_query(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def target_uri(url: str) -> str:
    """The absolute URI with scheme and host lower-cased and a default port dropped, as HTTP clients send it."""
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{url_authority(url)}{url_path_with_query(url)}"


class Token(str):
    """An sf-token, serialised without quotes."""


BareItem = Union[int, float, str, bytes, bool, Token]
Params = dict[str, BareItem]
Item = tuple[BareItem, Params]
InnerList = tuple[list[Item], Params]
Member = tuple[Union[BareItem, list[Item]], Params]

_KEY = re.compile(r"[a-z*][a-z0-9_\-.*]*")
_TOKEN = re.compile(r"[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*")
_NUMBER = re.compile(r"-?[0-9]{1,15}(?:\.[0-9]{1,3})?")


class _SfParser:
    def __init__(self, text: str, header: str) -> None:
        self.text, self.pos, self.header = text, 0, header

    def fail(self, expected: str) -> SignatureMalformed:
        near = self.text[self.pos:self.pos + 30]
        return SignatureMalformed(f"{self.header} header is not a valid structured field: expected {expected} "
                                  f"at position {self.pos} (near {near!r}).")

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def skip(self, chars: str) -> None:
        while self.peek() and self.peek() in chars:
            self.pos += 1

    def regex(self, pattern: re.Pattern[str], expected: str) -> str:
        match = pattern.match(self.text, self.pos)
        if match is None:
            raise self.fail(expected)
        self.pos = match.end()
        return match.group(0)

    def dictionary(self) -> dict[str, Member]:
        result: dict[str, Member] = {}
        self.skip(" ")
        while self.pos < len(self.text):
            key = self.regex(_KEY, "a lower-case key")
            if self.peek() == "=":
                self.pos += 1
                if self.peek() == "(":
                    items, params = self.inner_list()
                    result[key] = (items, params)
                else:
                    result[key] = self.item()
            else:
                result[key] = (True, self.parameters())
            self.skip(" \t")
            if self.pos >= len(self.text):
                return result
            if self.peek() != ",":
                raise self.fail("','")
            self.pos += 1
            self.skip(" \t")
            if self.pos >= len(self.text):
                raise self.fail("another member after ','")
        return result

    def inner_list(self) -> InnerList:
        self.pos += 1
        items: list[Item] = []
        while True:
            self.skip(" ")
            if self.peek() == ")":
                self.pos += 1
                return items, self.parameters()
            items.append(self.item())
            if self.peek() not in (" ", ")"):
                raise self.fail("' ' or ')'")

    def item(self) -> Item:
        return self.bare_item(), self.parameters()

    def parameters(self) -> Params:
        params: Params = {}
        while self.peek() == ";":
            self.pos += 1
            self.skip(" ")
            key = self.regex(_KEY, "a parameter name")
            value: BareItem = True
            if self.peek() == "=":
                self.pos += 1
                value = self.bare_item()
            params[key] = value
        return params

    def bare_item(self) -> BareItem:
        char = self.peek()
        if char == '"':
            return self.string()
        if char == ":":
            end = self.text.find(":", self.pos + 1)
            if end < 0:
                raise self.fail("a closing ':' of a byte sequence")
            encoded, self.pos = self.text[self.pos + 1:end], end + 1
            return b64decode(encoded, f"A byte sequence in the {self.header} header")
        if char == "?":
            value = self.text[self.pos + 1:self.pos + 2]
            if value not in ("0", "1"):
                raise self.fail("?0 or ?1")
            self.pos += 2
            return value == "1"
        if char == "-" or char.isdigit():
            number = self.regex(_NUMBER, "a number")
            return float(number) if "." in number else int(number)
        if char.isalpha() or char == "*":
            return Token(self.regex(_TOKEN, "a token"))
        raise self.fail("a string, token, number, byte sequence or boolean")

    def string(self) -> str:
        self.pos += 1
        out = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            self.pos += 1
            if char == "\\":
                escaped = self.peek()
                if escaped not in ('"', "\\"):
                    raise self.fail('\\" or \\\\ after a backslash')
                out.append(escaped)
                self.pos += 1
            elif char == '"':
                return "".join(out)
            elif not " " <= char <= "~":
                raise self.fail("printable ASCII in a string")
            else:
                out.append(char)
        raise self.fail("a closing '\"'")


def parse_sf_dictionary(text: str, header: str) -> dict[str, Member]:
    return _SfParser(text.strip(), header).dictionary()


def _serialize_bare(value: BareItem) -> str:
    if isinstance(value, bool):
        return "?1" if value else "?0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".") if value % 1 else f"{value:.1f}"
    if isinstance(value, bytes):
        return ":" + base64.b64encode(value).decode("ascii") + ":"
    if isinstance(value, Token):
        return str(value)
    if not all(" " <= char <= "~" for char in value):
        raise ValueError(f"{value!r} cannot be a structured-field string: only printable ASCII is allowed")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def serialize_params(params: Params) -> str:
    return "".join(f";{key}" if value is True else f";{key}={_serialize_bare(value)}" for key, value in params.items())


def serialize_inner_list(items: Sequence[Item], params: Params) -> str:
    inner = " ".join(_serialize_bare(value) + serialize_params(item_params) for value, item_params in items)
    return f"({inner}){serialize_params(params)}"
