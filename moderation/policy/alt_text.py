"""Check `alt-text`: an image attached without a description (alt text) for people who cannot see it.

Owns: which media types need a description (images by default). Never: judges the quality of a description.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from moderation.policy.model import Check, Hit, Parameter, PostDraft, reject_unknown, str_list

CHECK_ID = "alt-text"


def prepare(options: Mapping[str, Any]) -> tuple[str, ...]:
    reject_unknown(CHECK_ID, options, ("media_types",))
    prefixes = str_list(CHECK_ID, "media_types", options.get("media_types", ("image/",)))
    return tuple(p.lower() for p in prefixes)


def run(draft: PostDraft, prefixes: tuple[str, ...]) -> Iterator[Hit]:
    for index, attachment in enumerate(draft.attachments):
        if attachment.media_type.lower().startswith(prefixes) and not attachment.description.strip():
            yield Hit(f"Bijlage {index + 1} heeft geen beschrijving (alt-tekst). Beschrijf wat erop te zien is, voor "
                      "wie het niet kan zien.",
                      f"Attachment {index + 1} has no description (alt text). Describe what it shows, for people who "
                      "cannot see it.",
                      "attachments", None, index)


CHECK = Check(id=CHECK_ID, rule_id="accessibility.alt_text", severity="medium",
              actions=frozenset({"warn", "hold", "block"}), prepare=prepare, run=run,
              name="Image descriptions",
              description="Finds images without a description (alt text) for people who cannot see them.",
              parameters=(Parameter("media_types", "lines", "Media types",
                                    "Which attachments need a description, one per line; empty means all images.",
                                    "image/"),))
