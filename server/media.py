"""Images attached to posts: checked, re-encoded without metadata, kept in the media store.

Owns: the media_attachments table and the post images in the `media` area of the media store (server/media_store.py:
the data dir's `media` folder, or an S3-compatible bucket); remote posts' images are rows with a `remote_url` and no
file (the media proxy keeps its copies in the `media-proxy` area). Re-encoding with Pillow drops EXIF (location,
camera serial numbers): officials photograph in public places, and that metadata should not travel.
Never: serves files (web does) or decides who may see them.
"""

from __future__ import annotations

import io
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from typing import TYPE_CHECKING

import asyncpg

from server import media_store, uris
from server.config import Settings
from server.errors import Invalid, NotFound
from server.ids import new_id

if TYPE_CHECKING:  # Pillow is imported where an image is decoded: a web process that takes no upload saves its 2 MiB
    from PIL import Image

MAX_BYTES = 16 * 1024 * 1024
MAX_PIXELS = 8192 * 8192
MAX_SIDE = 4096
PREVIEW_SIDE = 640
MAX_DESCRIPTION = 1500
FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp"),
           "GIF": ("image/png", "png")}
SUPPORTED_MIME_TYPES = ("image/jpeg", "image/png", "image/webp", "image/gif")
_COLUMNS = ("id, account_id, post_id, content_type, file_name, width, height, preview_width, preview_height, blurhash, "
            "description, focus_x, focus_y, created_at, remote_url")


@dataclass(frozen=True)
class Attachment:
    id: int
    account_id: int
    post_id: int | None
    content_type: str
    file_name: str
    width: int
    height: int
    preview_width: int
    preview_height: int
    blurhash: str
    description: str
    focus_x: float
    focus_y: float
    created_at: datetime
    remote_url: str | None = None  # a remote post's image: shown only through the media proxy, never stored here

    @property
    def preview_name(self) -> str:
        stem, extension = self.file_name.rsplit(".", 1)
        return f"{stem}-small.{extension}"


@dataclass(frozen=True)
class RemoteImage:
    """An image a remote post links to, as its server describes it (federation/vocab.py parses it)."""

    url: str
    media_type: str
    description: str
    blurhash: str
    width: int
    height: int


def attached_sql(post: str) -> str:
    """SQL that holds when the post `post` (an SQL expression) carries images of its own: Mastodon's `only_media`
    and media streams. A boost carries none of its own, as on Mastodon."""
    return f"EXISTS (SELECT 1 FROM media_attachments ma WHERE ma.post_id = {post})"


def public_url(settings: Settings, attachment: Attachment, *, preview: bool = False) -> str:
    """Where pages and apps load an image: our own file, or a remote one through the media proxy."""
    if attachment.remote_url:
        return uris.proxied_media(settings, attachment.remote_url, preview=preview)
    return media_store.url(settings, attachment.preview_name if preview else attachment.file_name)


def _encode(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    if fmt == "JPEG":
        image.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
    else:
        image.save(out, fmt)
    return out.getvalue()


@dataclass(frozen=True)
class PreparedImage:
    content_type: str
    extension: str
    full: bytes
    preview: bytes
    size: tuple[int, int]
    preview_size: tuple[int, int]
    blurhash: str


def _blurhash(image: Image.Image) -> str:
    """The placeholder apps paint while the image loads, from a 32-pixel thumbnail (cheap to encode)."""
    import blurhash

    small = image.convert("RGB")
    small.thumbnail((32, 32))
    pixels = small.load()
    rows = [[list(pixels[x, y]) for x in range(small.width)] for y in range(small.height)]
    return str(blurhash.encode(rows, components_x=4, components_y=3))


def prepare_image(data: bytes) -> PreparedImage:
    """The image re-encoded without metadata, its preview and blurhash, or a refusal that says why."""
    image, fmt = _open_image(data)
    content_type, extension = FORMATS[fmt]
    out_format = "PNG" if fmt == "GIF" else fmt
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    preview = image.copy()
    preview.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE))
    return PreparedImage(content_type, extension, _encode(image, out_format), _encode(preview, out_format),
                         (image.width, image.height), (preview.width, preview.height), _blurhash(image))


# Mastodon's sizes: an avatar is square, a header three times as wide as it is high.
PROFILE_SIZES = {"avatar": (400, 400), "header": (1500, 500)}


@dataclass(frozen=True)
class ProfileImage:
    content_type: str
    extension: str
    data: bytes


def prepare_profile_image(data: bytes, kind: str) -> ProfileImage:
    """An avatar or header: cropped around its centre to Mastodon's ratio and size, re-encoded without metadata."""
    from PIL import Image, ImageOps

    image, fmt = _open_image(data)
    content_type, extension = FORMATS[fmt]
    out_format = "PNG" if fmt == "GIF" else fmt
    fitted = ImageOps.fit(image, PROFILE_SIZES[kind], method=Image.Resampling.LANCZOS)
    return ProfileImage(content_type, extension, _encode(fitted, out_format))


def _open_image(data: bytes) -> tuple[Image.Image, str]:
    """The decoded image, turned upright by its EXIF orientation, and its format; or a refusal that says why."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if not data:
        raise Invalid("The file is empty.")
    if len(data) > MAX_BYTES:
        raise Invalid("The file is larger than %(mb)d MB.", mb=MAX_BYTES // (1024 * 1024))
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS  # Pillow's own guard against decompression bombs
    try:
        with Image.open(io.BytesIO(data)) as opened:
            fmt = opened.format or ""
            if fmt not in FORMATS:
                raise Invalid("Only JPEG, PNG, WebP and GIF images can be attached.")
            opened.seek(0)
            image = ImageOps.exif_transpose(opened)
            image.load()
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError):
        raise Invalid("The file is not an image that can be read (JPEG, PNG, WebP or GIF).") from None
    return image, fmt


def parse_focus(raw: str | None) -> tuple[float, float]:
    if not raw:
        return 0.0, 0.0
    try:
        x, y = (float(v) for v in raw.split(","))
    except ValueError:
        raise Invalid("focus must be two numbers between -1 and 1, like 0.5,-0.2.") from None
    if not (-1 <= x <= 1 and -1 <= y <= 1):
        raise Invalid("focus must be two numbers between -1 and 1, like 0.5,-0.2.")
    return x, y


def check_description(description: str) -> str:
    if len(description) > MAX_DESCRIPTION:
        raise Invalid("An image description may be at most %(n)d characters.", n=MAX_DESCRIPTION)
    return description.strip()


async def insert_attachment(conn: asyncpg.Connection, *, settings: Settings, account_id: int, data: bytes,
                            description: str, focus: str | None, now: datetime) -> Attachment:
    """Store the files first, then the row: a failed insert leaves orphan files, never a row without a file."""
    prepared = prepare_image(data)
    focus_x, focus_y = parse_focus(focus)
    description = check_description(description)
    attachment_id = new_id(now)
    # The file's address is a capability: whoever may see the post gets it, nobody can guess it. An id alone
    # (time and 16 random bits) could be found by trying, for a held or followers-only post's image too.
    stem = f"{attachment_id}-{secrets.token_urlsafe(16)}"
    file_name = f"{stem}.{prepared.extension}"
    store = media_store.for_settings(settings)
    await store.put("media", file_name, prepared.full, prepared.content_type)
    await store.put("media", f"{stem}-small.{prepared.extension}", prepared.preview, prepared.content_type)
    row = await conn.fetchrow(
        f"INSERT INTO media_attachments (id, account_id, content_type, file_name, width, height, preview_width, "
        f"preview_height, blurhash, description, focus_x, focus_y, created_at) "
        f"VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING {_COLUMNS}",
        attachment_id, account_id, prepared.content_type, file_name, *prepared.size, *prepared.preview_size,
        prepared.blurhash, description, focus_x, focus_y, now)
    return Attachment(**dict(row))


async def get_attachment(conn: asyncpg.Connection, attachment_id: int) -> Attachment | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM media_attachments WHERE id = $1", attachment_id)
    return Attachment(**dict(row)) if row else None


async def update_attachment(conn: asyncpg.Connection, account_id: int, attachment_id: int, *,
                            description: str | None, focus: str | None) -> Attachment:
    current = await get_attachment(conn, attachment_id)
    if current is None or current.account_id != account_id:
        raise NotFound("Record not found")
    new_description = check_description(description) if description is not None else current.description
    focus_x, focus_y = parse_focus(focus) if focus is not None else (current.focus_x, current.focus_y)
    row = await conn.fetchrow(f"UPDATE media_attachments SET description = $2, focus_x = $3, focus_y = $4 "
                              f"WHERE id = $1 RETURNING {_COLUMNS}", attachment_id, new_description, focus_x, focus_y)
    return Attachment(**dict(row))


@dataclass(frozen=True)
class MediaChange:
    """New alt text or focal point for one image of a post being edited (Mastodon's `media_attributes[]`)."""

    id: int
    description: str | None = None  # None: leave as it is
    focus: str | None = None


async def update_post_media(conn: asyncpg.Connection, account_id: int, post_id: int, *,
                            media_ids: Sequence[int] | None,
                            changes: Sequence[MediaChange]) -> tuple[tuple[int, ...], bool]:
    """Give an edited post its images, in the caller's transaction; the ids it has afterwards, and whether anything
    changed.

    `media_ids` is the new list (None keeps the images it has), made of images it has and the author's unattached
    uploads; `changes` set descriptions and focal points of images in that list (others are ignored). An image
    taken off the post goes back to being the author's unattached upload: its address stays valid for whoever saw
    it, as Mastodon keeps an edited post's earlier images."""
    current = [a.id for a in (await list_for_posts(conn, [post_id])).get(post_id, [])]
    wanted = list(dict.fromkeys(media_ids)) if media_ids is not None else current
    if len(wanted) > 4:
        raise Invalid("A post can have at most 4 images.")
    removed = [i for i in current if i not in wanted]
    added = [i for i in wanted if i not in current]
    if removed:
        await conn.execute("UPDATE media_attachments SET post_id = NULL WHERE post_id = $1 AND id = ANY($2::bigint[])",
                           post_id, removed)
    await attach_to_post(conn, account_id, post_id, added)
    changed = bool(removed or added)
    for change in changes:
        if change.id not in wanted:  # as Mastodon: a change to an image the post will not have is ignored
            continue
        before = await get_attachment(conn, change.id)
        after = await update_attachment(conn, account_id, change.id, description=change.description,
                                        focus=change.focus)
        changed = changed or before is None or (before.description, before.focus_x, before.focus_y) != \
            (after.description, after.focus_x, after.focus_y)
    return tuple(wanted), changed


async def _claim_uploads(conn: asyncpg.Connection, account_id: int, column: str, owner_id: int,
                         attachment_ids: Sequence[int]) -> None:
    """Give unattached uploads of the author to a post or a scheduled post (`column`); anything else is refused."""
    if not attachment_ids:
        return
    if len(attachment_ids) > 4:
        raise Invalid("A post can have at most 4 images.")
    if column not in ("post_id", "scheduled_status_id"):
        raise ValueError(f"not a column of an upload's owner: {column!r}")
    status = await conn.execute(f"UPDATE media_attachments SET {column} = $3 WHERE id = ANY($1::bigint[]) "
                                "AND account_id = $2 AND post_id IS NULL AND scheduled_status_id IS NULL",
                                list(attachment_ids), account_id, owner_id)
    if int(status.split()[-1]) != len(set(attachment_ids)):
        raise Invalid("One of the media_ids is unknown, not yours, or already attached to another post.")


async def attach_to_post(conn: asyncpg.Connection, account_id: int, post_id: int, attachment_ids: list[int]) -> None:
    """Claim unattached uploads of the author for a post; anything else is refused."""
    await _claim_uploads(conn, account_id, "post_id", post_id, attachment_ids)


async def attach_to_scheduled(conn: asyncpg.Connection, account_id: int, scheduled_id: int,
                              attachment_ids: Sequence[int]) -> None:
    """Keep unattached uploads of the author for a scheduled post (server/scheduled.py), so no other post takes
    them before its time; deleting the scheduled post gives them back (the column's ON DELETE SET NULL)."""
    await _claim_uploads(conn, account_id, "scheduled_status_id", scheduled_id, attachment_ids)


async def release_scheduled(conn: asyncpg.Connection, scheduled_id: int) -> None:
    """A scheduled post's time has come: its images become uploads again, for publishing.create_post to attach."""
    await conn.execute("UPDATE media_attachments SET scheduled_status_id = NULL WHERE scheduled_status_id = $1",
                       scheduled_id)


async def list_for_scheduled(conn: asyncpg.Connection, scheduled_ids: list[int]) -> dict[int, list[Attachment]]:
    rows = await conn.fetch(f"SELECT scheduled_status_id, {_COLUMNS} FROM media_attachments "
                            "WHERE scheduled_status_id = ANY($1::bigint[]) ORDER BY id", scheduled_ids)
    result: dict[int, list[Attachment]] = {}
    for r in rows:
        values = dict(r)
        result.setdefault(values.pop("scheduled_status_id"), []).append(Attachment(**values))
    return result


async def list_for_posts(conn: asyncpg.Connection, post_ids: list[int]) -> dict[int, list[Attachment]]:
    rows = await conn.fetch(f"SELECT {_COLUMNS} FROM media_attachments WHERE post_id = ANY($1::bigint[]) ORDER BY id",
                            post_ids)
    result: dict[int, list[Attachment]] = {}
    for r in rows:
        result.setdefault(r["post_id"], []).append(Attachment(**dict(r)))
    return result


async def replace_remote_attachments(conn: asyncpg.Connection, account_id: int, post_id: int,
                                     images: Sequence[RemoteImage], now: datetime) -> None:
    """A remote post's images as its latest version lists them (a create or an edit)."""
    await conn.execute("DELETE FROM media_attachments WHERE post_id = $1 AND remote_url IS NOT NULL", post_id)
    for image in images[:4]:
        await conn.execute(
            "INSERT INTO media_attachments (id, account_id, post_id, content_type, file_name, width, height, "
            "preview_width, preview_height, blurhash, description, created_at, remote_url) "
            "VALUES ($1, $2, $3, $4, '', $5, $6, 0, 0, $7, $8, $9, $10)",
            new_id(now), account_id, post_id, image.media_type, image.width, image.height, image.blurhash,
            image.description[:MAX_DESCRIPTION], now, image.url)


async def delete_attachments_for_purge(conn: asyncpg.Connection, post_ids: list[int]) -> int:
    """Attachment rows of posts being purged (remote posts: their images are links, there is no file here)."""
    status = await conn.execute("DELETE FROM media_attachments WHERE post_id = ANY($1::bigint[])", post_ids)
    return int(status.split()[-1])


async def delete_remote_attachments_of_accounts(conn: asyncpg.Connection, account_ids: list[int]) -> int:
    """Forget the images of these remote accounts' posts (a domain whose media this node rejects)."""
    status = await conn.execute("DELETE FROM media_attachments WHERE account_id = ANY($1::bigint[]) "
                                "AND remote_url IS NOT NULL", account_ids)
    return int(status.split()[-1])
