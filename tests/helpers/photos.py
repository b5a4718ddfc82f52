"""What the tests of images on the web share: an organisation that asks for alt text, and small images."""

from __future__ import annotations

import io

from PIL import Image

from tests import factories
from tests.helpers.nodes import Node


def alt_text_organisation(node: Node, username: str = "wim") -> None:
    """Gemeente Wageningen, whose alt-text check warns, with one official; other organisations check nothing."""
    factories.organisation(node, slug="gemeente-wageningen", name="Gemeente Wageningen",
                           website="https://www.wageningen.nl")
    factories.person(node, username, org="gemeente-wageningen")
    result = node.cli("policy", "set", "--org", "gemeente-wageningen", "--check", "alt-text", "--action", "warn")
    assert result.code == 0, result.err


def png(colour: tuple[int, int, int] = (0, 90, 160), size: tuple[int, int] = (320, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()
