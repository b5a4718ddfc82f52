"""OAuth2 as Mastodon apps use it: app registration, token exchange, revocation and server metadata.

Owns: /api/v1/apps, /oauth/token, /oauth/revoke, /oauth/userinfo and /.well-known/oauth-authorization-server.
The sign-in and consent pages of /oauth/authorize are HTML, so they live in web/pages/oauth.py.
Never: stores anything itself (server/oauth.py does).
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server import oauth, scopes
from web.api.http import ApiCall, ApiError, Params, api, json_response, read_params
from server.db.pool import transaction
from server.deps import Deps
from server.errors import DomainError

GRANT_TYPES = ("authorization_code", "client_credentials", "refresh_token")


def _redirect_uris(params: Params) -> list[str]:
    values = params.list("redirect_uris")
    if len(values) == 1 and isinstance(values[0], str):
        values = values[0].split()
    return [str(v).strip() for v in values if str(v).strip()]


def app_json(app: oauth.App, secret: str | None = None) -> dict[str, Any]:
    entity: dict[str, Any] = {"id": str(app.id), "name": app.name, "website": app.website or None,
                              "scopes": app.scopes.split(), "redirect_uri": "\n".join(app.redirect_uris),
                              "redirect_uris": app.redirect_uris, "vapid_key": ""}
    if secret is not None:
        entity.update(client_id=app.client_id, client_secret=secret, client_secret_expires_at=0)
    return entity


@api(auth="none")
async def create_app(call: ApiCall) -> Response:
    name = call.params.str("client_name") or ""
    requested = scopes.parse_scopes(call.params.str("scopes"))
    async with transaction(call.deps.pool) as conn:
        created = await oauth.insert_app(conn, name=name, website=call.params.str("website") or "",
                                         redirect_uris=_redirect_uris(call.params), scopes=" ".join(requested))
    return json_response(app_json(created.app, created.client_secret))


@api(auth="app")
async def verify_app(call: ApiCall) -> Response:
    assert call.token is not None
    return json_response({"name": call.token.app_name, "website": None, "scopes": list(call.token.scopes),
                          "vapid_key": ""})


class OAuthFailure(Exception):
    """An RFC 6749 error answer: a code such as invalid_grant and a description."""

    def __init__(self, code: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.code, self.description, self.status = code, description, status


def _client_credentials(request: Request, params: Params) -> tuple[str, str | None]:
    """client_id and client_secret from the body, or from HTTP Basic authentication."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:].strip()).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            raise OAuthFailure("invalid_client", "The Basic authorization header is malformed.", 401) from None
        client_id, _, secret = decoded.partition(":")
        return unquote(client_id), unquote(secret)
    return params.str("client_id") or "", params.str("client_secret")


def _token_json(issued: oauth.IssuedToken) -> dict[str, Any]:
    body: dict[str, Any] = {"access_token": issued.access_token, "token_type": "Bearer",
                            "scope": " ".join(issued.token.scopes),
                            "created_at": int(issued.token.created_at.timestamp())}
    if issued.refresh_token:
        body["refresh_token"] = issued.refresh_token
    return body


async def token(request: Request) -> Response:
    deps: Deps = request.app.state.deps
    try:
        params = await read_params(request)
        grant = params.str("grant_type") or ""
        if grant not in GRANT_TYPES:
            raise OAuthFailure("unsupported_grant_type",
                               "grant_type must be authorization_code, client_credentials or refresh_token.")
        client_id, secret = _client_credentials(request, params)
        now = deps.now()
        verifier = params.str("code_verifier")
        if grant == "authorization_code":
            # RFC 6749 section 4.1.3, and Mastodon: the code's redirect_uri is named again, so a code is bound to it.
            missing = [name for name in ("code", "redirect_uri") if not params.str(name)]
            if missing:
                raise OAuthFailure("invalid_request", f"The authorization_code grant needs {' and '.join(missing)}.")
        async with transaction(deps.pool) as conn:
            app = await oauth.get_app_by_client_id(conn, client_id)
            if app is None:
                raise OAuthFailure("invalid_client", "Unknown client_id.", 401)
            # Spent in its own transaction: a code that fails any check below cannot be tried again.
            spent = await oauth.spend_code(conn, params.str("code") or "", now) \
                if grant == "authorization_code" else None
        async with transaction(deps.pool) as conn:
            # The client proves itself with its secret, or (RFC 7636) with the verifier of a code that was issued
            # with a PKCE challenge; a verifier alone proves nothing for a code issued without one, nor for a
            # refresh token. A (non-empty) secret that is sent is always checked.
            if secret or oauth.secret_required(grant, spent):
                try:
                    await oauth.authenticate_app(conn, client_id, secret or "")
                except DomainError:
                    raise OAuthFailure("invalid_client", "Client authentication failed.", 401) from None
            if grant == "authorization_code":
                oauth.check_spent_code(spent, app=app, redirect_uri=params.str("redirect_uri") or "",
                                       code_verifier=verifier)
                assert spent is not None
                issued = await oauth.insert_token(conn, app_id=app.id, account_id=spent.account_id,
                                                  scopes=spent.scopes, now=now)
            elif grant == "client_credentials":
                requested = scopes.parse_scopes(params.str("scope"))
                if not scopes.is_subset(requested, tuple(app.scopes.split())):
                    raise OAuthFailure("invalid_scope", "The requested scope is more than the app registered.")
                issued = await oauth.insert_token(conn, app_id=app.id, account_id=None, scopes=" ".join(requested),
                                                  now=now, with_refresh=False)
            else:
                requested_text = params.str("scope")
                issued = await oauth.refresh_token(conn, app=app, refresh=params.str("refresh_token") or "",
                                                   scopes=" ".join(scopes.parse_scopes(requested_text))
                                                   if requested_text else None, now=now)
    except OAuthFailure as failure:
        return json_response({"error": failure.code, "error_description": failure.description}, failure.status)
    except ApiError as error:
        return json_response({"error": "invalid_request", "error_description": error.message}, 400)
    except DomainError as error:
        code = "invalid_scope" if "scope" in str(error) else "invalid_grant"
        return json_response({"error": code, "error_description": str(error)}, 400)
    return json_response(_token_json(issued), headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


async def revoke(request: Request) -> Response:
    deps: Deps = request.app.state.deps
    try:
        params = await read_params(request)
        client_id, secret = _client_credentials(request, params)
        async with transaction(deps.pool) as conn:
            try:
                app = await oauth.authenticate_app(conn, client_id, secret or "")
            except DomainError:
                raise OAuthFailure("invalid_client", "Client authentication failed.", 401) from None
            await oauth.revoke_by_secret(conn, app=app, token=params.str("token") or "", now=deps.now())
    except OAuthFailure as failure:
        return json_response({"error": failure.code, "error_description": failure.description}, failure.status)
    except ApiError as error:
        return json_response({"error": "invalid_request", "error_description": error.message}, 400)
    return json_response({})


@api(scope="profile", auth="required")
async def userinfo(call: ApiCall) -> Response:
    account = call.need_account()
    base = call.deps.settings.base_url
    return json_response({"iss": base + "/", "sub": f"{base}/users/{account.username}",
                          "name": account.name, "preferred_username": account.username,
                          "profile": f"{base}/@{account.username}", "picture": f"{base}/static/avatar.png"})


async def server_metadata(request: Request) -> Response:
    base = request.app.state.deps.settings.base_url
    return json_response({
        "issuer": base + "/",
        "service_documentation": f"{base}/about",
        "authorization_endpoint": f"{base}/oauth/authorize",
        "token_endpoint": f"{base}/oauth/token",
        "revocation_endpoint": f"{base}/oauth/revoke",
        "userinfo_endpoint": f"{base}/oauth/userinfo",
        "app_registration_endpoint": f"{base}/api/v1/apps",
        "scopes_supported": list(scopes.ALL_SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "fragment", "form_post"],
        "code_challenge_methods_supported": ["S256"],
        "grant_types_supported": list(GRANT_TYPES),
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
    })


ROUTES = [
    Route("/api/v1/apps", create_app, methods=["POST"]),
    Route("/api/v1/apps/verify_credentials", verify_app, methods=["GET"]),
    Route("/oauth/token", token, methods=["POST"]),
    Route("/oauth/revoke", revoke, methods=["POST"]),
    Route("/oauth/userinfo", userinfo, methods=["GET", "POST"]),
    Route("/.well-known/oauth-authorization-server", server_metadata, methods=["GET"]),
]
