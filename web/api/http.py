"""The plumbing every client API endpoint shares: bodies, tokens, scopes, errors, pagination, rate limits.

Owns: how a request becomes an `ApiCall`, how refusals become Mastodon's `{"error": ...}` answers, and the
`Link` and `X-RateLimit-*` headers. Never: business rules (the domain modules decide).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from server import accounts, limits, oauth, ratelimits, scopes
from server.accounts import Account
from server.db.pool import connection
from server.deps import Deps
from server.errors import DomainError
from server.oauth import AccessToken
from server.timelines import MAX_LIMIT, Page
from server.i18n import choose_language, translations

log = logging.getLogger("ambtenaar.api")
MAX_JSON_BYTES = 1024 * 1024
MAX_JSON_DEPTH = limits.MAX_JSON_DEPTH
RATE_WINDOW = timedelta(minutes=5)
UNSTORABLE = "Validation failed: a parameter contains a character that cannot be stored (NUL or a lone surrogate)"


class ApiError(Exception):
    """A refusal with Mastodon's status code and a message for the app to show."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


def unauthorized() -> ApiError:
    return ApiError(401, "The access token is invalid", {"WWW-Authenticate": 'Bearer error="invalid_token"'})


def not_found() -> ApiError:
    return ApiError(404, "Record not found")


@dataclass
class Params:
    """Query and body parameters merged, read the way Mastodon's Rails params are (arrays as `name[]`)."""

    values: dict[str, list[Any]] = field(default_factory=dict)

    def add(self, name: str, value: Any) -> None:
        key = name[:-2] if name.endswith("[]") else name
        self.values.setdefault(key, []).append(value)

    def str(self, name: str, default: str | None = None) -> str | None:
        items = self.values.get(name)
        if not items or items[-1] is None:
            return default
        value = items[-1]
        if isinstance(value, (dict, list, UploadFile)):
            raise ApiError(422, f"Validation failed: {name} must be a string")
        return value if isinstance(value, str) else json.dumps(value) if isinstance(value, bool) else str(value)

    def bool(self, name: str, default: bool = False) -> bool:
        items = self.values.get(name)
        if not items:
            return default
        value = items[-1]
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "on", "yes", "t"):
            return True
        if text in ("0", "false", "off", "no", "f", ""):
            return False
        raise ApiError(422, f"Validation failed: {name} must be true or false")

    def int(self, name: str, default: int | None = None, *, minimum: int | None = None,
            maximum: int | None = None) -> int | None:
        text = self.str(name)
        if text is None or text == "":
            return default
        try:
            value = int(text)
        except ValueError:
            raise ApiError(422, f"Validation failed: {name} must be a whole number") from None
        if minimum is not None and value < minimum:
            return minimum
        if maximum is not None and value > maximum:
            return maximum
        return value

    def id(self, name: str) -> int | None:
        """An id parameter; an id that is not a number matches nothing, like a Mastodon id that does not exist."""
        text = self.str(name)
        if text is None or text == "":
            return None
        if not text.isdigit() or len(text) > 19:
            raise not_found()
        return int(text)

    def list(self, name: str) -> list[Any]:
        items = self.values.get(name, [])
        flat: list[Any] = []
        for item in items:
            flat.extend(item if isinstance(item, list) else [item])
        return flat

    def upload(self, name: str) -> UploadFile | None:
        items = self.values.get(name)
        value = items[-1] if items else None
        return value if isinstance(value, UploadFile) else None

    def mapping(self, name: str) -> dict[str, Any]:
        """Nested objects: JSON `{"source": {"privacy": ..}}` or form `source[privacy]=..`."""
        result: dict[str, Any] = {}
        for item in self.values.get(name, []):
            if isinstance(item, dict):
                result.update(item)
        prefix = name + "["
        for key, items in self.values.items():
            if key.startswith(prefix) and key.endswith("]"):
                result[key[len(prefix):-1]] = items[-1]
        return result


async def read_params(request: Request) -> Params:
    """Query and body parameters merged; refused when a name or value holds text PostgreSQL cannot store."""
    params = await _collect_params(request)
    if limits.unstorable(params.values):
        raise ApiError(422, UNSTORABLE)
    return params


async def _collect_params(request: Request) -> Params:
    params = Params()
    for key, value in request.query_params.multi_items():
        params.add(key, value)
    if request.method in ("GET", "HEAD", "DELETE") and not request.headers.get("content-length"):
        return params
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        body = await request.body()
        if len(body) > MAX_JSON_BYTES:
            raise ApiError(413, "The request body is too large")
        if body.strip():
            try:
                data = limits.loads(body, max_depth=MAX_JSON_DEPTH)
            except limits.JsonTooDeep:
                raise ApiError(400, f"The JSON body is nested more than {MAX_JSON_DEPTH} levels deep") from None
            except limits.UnstorableText:
                raise ApiError(422, UNSTORABLE) from None
            except (ValueError, UnicodeDecodeError):
                raise ApiError(400, "The request body is not valid JSON") from None
            if not isinstance(data, dict):
                raise ApiError(422, "The JSON body must be an object")
            for key, value in data.items():
                if value is not None:  # `"poll": null`, `"in_reply_to_id": null`: not given, as apps mean it
                    params.add(str(key), value)
    elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        try:
            form = await request.form(max_files=4, max_fields=200)
        except limits.BodyTooLarge:
            raise  # server/limits.py answers 413
        except Exception as exc:  # malformed multipart bodies raise several parser errors
            raise ApiError(400, f"The form body could not be read: {type(exc).__name__}") from None
        for key, value in form.multi_items():
            params.add(key, value)
    return params


@dataclass
class ApiCall:
    request: Request
    deps: Deps
    params: Params
    account: Account | None
    token: AccessToken | None
    lang: str

    def need_account(self) -> Account:
        if self.account is None:
            raise ApiError(422, "This method requires an authenticated user")
        return self.account

    def path_id(self, name: str = "id") -> int:
        raw = str(self.request.path_params.get(name, ""))
        if not raw.isdigit() or len(raw) > 19:
            raise not_found()
        return int(raw)

    def ids(self, name: str = "id", maximum: int = 40) -> list[int]:
        """An `id[]` list of a several-at-once read (Mastodon's limit: 40); ids that are not numbers match nothing."""
        ids = [int(str(raw)) for raw in self.params.list(name) if str(raw).isdigit() and len(str(raw)) <= 19]
        if len(ids) > maximum:
            raise ApiError(422, f"Validation failed: at most {maximum} ids at once")
        return list(dict.fromkeys(ids))

    def page(self, default_limit: int = 20, maximum: int = MAX_LIMIT) -> Page:
        limit = self.params.int("limit", default_limit, minimum=1, maximum=maximum) or default_limit
        return Page(max_id=self.params.id("max_id"), since_id=self.params.id("since_id"),
                    min_id=self.params.id("min_id"), limit=limit)


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.query_params.get("access_token") or None


def json_response(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return JSONResponse(data, status_code=status, headers=dict(headers or {}))


def link_header(request: Request, newest_id: int | None, oldest_id: int | None, full_page: bool) -> dict[str, str]:
    """Mastodon's pagination: rel="next" goes to older items, rel="prev" to newer ones."""
    if newest_id is None or oldest_id is None:
        return {}
    base = str(request.url.replace(query=""))
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in ("max_id", "since_id", "min_id")]
    links = []
    if full_page:
        links.append(f'<{base}?{urlencode([*kept, ("max_id", str(oldest_id))])}>; rel="next"')
    links.append(f'<{base}?{urlencode([*kept, ("min_id", str(newest_id))])}>; rel="prev"')
    return {"Link": ", ".join(links)}


Endpoint = Callable[[ApiCall], Awaitable[Response]]


def api(*, scope: str | None = None, auth: str = "required",
        rate_limited: bool = True) -> Callable[[Endpoint], Callable[[Request], Awaitable[Response]]]:
    """Wrap an endpoint: read params, authenticate, check scope, count the rate limit, map refusals.

    auth: "required" (a user token), "app" (any valid token, also client_credentials), "optional" or "none".
    """
    def decorate(handler: Endpoint) -> Callable[[Request], Awaitable[Response]]:
        @wraps(handler)
        async def endpoint(request: Request) -> Response:
            deps: Deps = request.app.state.deps
            extra_headers: dict[str, str] = {}
            try:
                token: AccessToken | None = None
                account: Account | None = None
                raw = bearer_token(request)
                async with connection(deps.pool) as conn:
                    if raw and auth != "none":
                        token = await oauth.get_active_token(conn, raw, deps.now())
                        if token is None:
                            raise unauthorized()
                        if token.account_id is not None:
                            account = await accounts.get_account(conn, token.account_id)
                            if account is None or not account.is_active:
                                raise unauthorized()
                    if auth == "required" and account is None:
                        raise unauthorized() if token is None else ApiError(
                            422, "This method requires an authenticated user")
                    if auth == "app" and token is None:
                        raise unauthorized()
                    if scope and token is not None and not scopes.covers(token.scopes, scope):
                        raise ApiError(403, "This action is outside the authorized scopes")
                    if rate_limited:
                        bucket = f"api:token:{token.id}" if token else f"api:addr:{_client(request)}"
                        verdict = await ratelimits.hit(conn, bucket, limit=deps.settings.api_rate_limit,
                                                       window=RATE_WINDOW,
                                                       now=deps.now())
                        extra_headers = {"X-RateLimit-Limit": str(verdict.limit),
                                         "X-RateLimit-Remaining": str(verdict.remaining),
                                         "X-RateLimit-Reset": verdict.reset_at.isoformat()}
                        if not verdict.allowed:
                            wait = max(1, int((verdict.reset_at - deps.now()).total_seconds()))
                            raise ApiError(429, "Too many requests", {"Retry-After": str(wait)})
                lang = choose_language(cookie=None, account_language=account.language if account else None,
                                       accept_language=request.headers.get("accept-language", ""),
                                       default=deps.settings.default_language)
                call = ApiCall(request=request, deps=deps, params=await read_params(request), account=account,
                               token=token, lang=lang)
                response = await handler(call)
            except ApiError as error:
                response = json_response({"error": error.message}, error.status, error.headers)
            except DomainError as error:
                lang = choose_language(cookie=None, account_language=None,
                                       accept_language=request.headers.get("accept-language", ""), default="en")
                message = error.translated(translations(lang).gettext)
                response = json_response({"error": message}, error.http_status)
            for name, value in extra_headers.items():
                response.headers.setdefault(name, value)
            return response
        return endpoint
    return decorate


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"
