"""Image uploads in the client API, with descriptions (alt text) and focal points.

Owns: /api/v1/media, /api/v2/media, /api/v1/media/:id. Never: image processing (server/media.py does it) or
changing a posted image other than as an edit of its post (server/publishing.py).
"""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from server import media, publishing
from web.api.entities import attachment_json
from web.api.http import ApiCall, ApiError, api, json_response, not_found
from server.db.pool import connection, transaction


@api(scope="write:media")
async def upload(call: ApiCall) -> Response:
    account = call.need_account()
    upload_file = call.params.upload("file")
    if upload_file is None:
        raise ApiError(422, "Validation failed: file is missing (send it as multipart/form-data)")
    data = await upload_file.read(media.MAX_BYTES + 1)
    async with transaction(call.deps.pool) as conn:
        attachment = await media.insert_attachment(conn, settings=call.deps.settings, account_id=account.id,
                                                   data=data, description=call.params.str("description") or "",
                                                   focus=call.params.str("focus"), now=call.deps.now())
    return json_response(attachment_json(call.deps.settings, attachment))


@api(scope="write:media")
async def show(call: ApiCall) -> Response:
    account = call.need_account()
    async with connection(call.deps.pool) as conn:
        attachment = await media.get_attachment(conn, call.path_id())
    if attachment is None or attachment.account_id != account.id:
        raise not_found()
    return json_response(attachment_json(call.deps.settings, attachment))


@api(scope="write:media")
async def update(call: ApiCall) -> Response:
    account = call.need_account()
    # A posted image's alt text changes as an edit of its post (publishing.edit_image): the author's only, checked
    # by the organisation's policy again, and sent to other servers as an Update.
    async with transaction(call.deps.pool) as conn:
        attachment = await publishing.edit_image(conn, call.deps.settings, account, call.path_id(),
                                                 description=call.params.str("description"),
                                                 focus=call.params.str("focus"), now=call.deps.now())
    return json_response(attachment_json(call.deps.settings, attachment))


ROUTES = [
    Route("/api/v1/media", upload, methods=["POST"]),
    Route("/api/v2/media", upload, methods=["POST"]),
    Route("/api/v1/media/{id}", show, methods=["GET"]),
    Route("/api/v1/media/{id}", update, methods=["PUT"]),
]
