"""QuoteRequest (FEP-044f) coming in: the one reader of its JSON, beside federation/vocab.py (whose helpers it uses),
kept apart so that vocab.py stays a readable size. A post's `quote` is read by vocab.parse_note.

Owns: `parse_quote_request`. Never: the database or the network.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from federation.vocab import InvalidActivity, _first, _iri, _types


@dataclass(frozen=True)
class QuoteRequest:
    """FEP-044f: `actor` asks to quote our post `object` in its post `instrument` (embedded, or only its id)."""

    id: str
    actor: str
    object: str
    instrument: str
    instrument_doc: Mapping[str, Any] | None


def parse_quote_request(doc: Any) -> QuoteRequest:
    if not isinstance(doc, Mapping) or "QuoteRequest" not in _types(doc):
        raise InvalidActivity("the activity must be a QuoteRequest")
    instrument = _first(doc.get("instrument"))
    return QuoteRequest(id=str(_iri(doc, "id")), actor=str(_iri(doc, "actor")), object=str(_iri(doc, "object")),
                        instrument=str(_iri(doc, "instrument")),
                        instrument_doc=instrument if isinstance(instrument, Mapping) else None)
