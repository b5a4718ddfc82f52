"""Images that would exhaust memory when decoded are refused before they are, with a message a person understands."""

from __future__ import annotations

import io
import zlib

import pytest
from PIL import Image

from server import media
from server.errors import Invalid


def _huge_png(width: int, height: int) -> bytes:
    """A valid PNG header for a huge grey image whose pixel data compresses to almost nothing (a decompression bomb)."""
    import struct

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = zlib.compress(b"\x00" * (width + 1) * 64, 9)  # only the first rows: enough to parse the header
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


def test_a_decompression_bomb_is_refused() -> None:
    bomb = _huge_png(30_000, 30_000)
    with pytest.raises(Invalid, match="not an image that can be read"):
        media.prepare_image(bomb)
    # It is the pixel limit that stops it, at the header, before any pixel is decoded.
    assert Image.MAX_IMAGE_PIXELS == media.MAX_PIXELS
    with pytest.raises(Image.DecompressionBombError):
        Image.open(io.BytesIO(bomb))


def test_a_large_but_honest_image_is_scaled_down() -> None:
    out = io.BytesIO()
    Image.new("RGB", (6000, 1000), (0, 90, 160)).save(out, "PNG")
    prepared = media.prepare_image(out.getvalue())
    assert prepared.size == (media.MAX_SIDE, 683)
    assert max(prepared.preview_size) == media.PREVIEW_SIDE


def test_a_file_above_the_size_cap_is_refused_without_decoding() -> None:
    with pytest.raises(Invalid, match="larger than"):
        media.prepare_image(b"\x89PNG" + b"\x00" * (media.MAX_BYTES + 1))


def test_location_metadata_is_dropped() -> None:
    exif = Image.Exif()
    exif[0x010F] = "CameraMaker"  # Make
    exif[0x8825] = {2: (52.0, 2.0, 3.0), 1: "N"}  # GPSInfo: latitude
    out = io.BytesIO()
    Image.new("RGB", (200, 100), (200, 30, 30)).save(out, "JPEG", exif=exif)
    assert Image.open(io.BytesIO(out.getvalue())).getexif()  # the original carries it
    prepared = media.prepare_image(out.getvalue())
    assert not Image.open(io.BytesIO(prepared.full)).getexif()
    assert b"CameraMaker" not in prepared.full and b"CameraMaker" not in prepared.preview
