"""federation/vocab.py reads remote JSON and nothing else: pure, no models of ours; its small readers."""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path

from federation import vocab, wire
from server import badges, media
from server.accounts import Account
from server.config import Settings

VOCAB = Path(vocab.__file__)


def test_vocab_imports_no_server_model_database_or_network_code() -> None:
    imported = set()
    for node in ast.walk(ast.parse(VOCAB.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            imported |= {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
    ours = {name for name in imported if name.split(".")[0] in ("server", "federation", "web", "moderation")}
    # Only the pure text rules: names (what a name may contain) and the HTML sanitiser.
    assert ours == {"server.names", "moderation.sanitize"}


def test_the_images_vocab_keeps_are_the_ones_media_shows() -> None:
    assert vocab.IMAGE_TYPES == media.SUPPORTED_MIME_TYPES


def test_readers_of_other_documents() -> None:
    jrd = {"links": [{"rel": "http://webfinger.net/rel/profile-page", "href": "https://a.example/@anna"},
                     {"rel": "self", "type": "application/activity+json", "href": "https://a.example/users/anna"}]}
    assert vocab.webfinger_actor(jrd) == "https://a.example/users/anna"
    assert vocab.webfinger_actor({"links": "no"}) is None and vocab.webfinger_actor([]) is None
    assert vocab.key_owner({"owner": "https://a.example/users/anna"}) == "https://a.example/users/anna"
    assert vocab.key_owner({"owner": ["x"]}) is None
    assert vocab.document_id({"id": "https://a.example/x"}) == "https://a.example/x"
    assert vocab.document_id({"id": 7}) is None
    assert vocab.badge_verification_page({"verification": "https://a.example/badges/1"}) == "https://a.example/badges/1"
    assert vocab.badge_verification_page({"verification": {"id": "x"}}) is None
    assert vocab.badge_page_status({"status": "revoked"}) == "revoked"
    assert vocab.badge_page_status(None) is None and vocab.badge_page_status({"status": 1}) is None


def test_a_remote_badge_is_checking_until_a_verdict_with_its_reason() -> None:
    claim = {"type": "AmbtenaarBadge"}

    def remote(**fields: object) -> Account:
        account = object.__new__(Account)
        for name, value in {"remote_badge": None, "remote_badge_verified": False, "remote_badge_reason": None,
                            **fields}.items():
            object.__setattr__(account, name, value)
        return account

    assert badges.remote_status(remote()) is None
    assert badges.remote_status(remote(remote_badge=claim)) == badges.REMOTE_CHECKING
    assert badges.remote_status(remote(remote_badge=claim, remote_badge_reason="forged")) == badges.REMOTE_UNVERIFIED
    assert badges.remote_status(remote(remote_badge=claim, remote_badge_verified=True)) == badges.REMOTE_VERIFIED


def test_two_edits_within_one_second_are_two_updates() -> None:
    """An Update's id names its edit to the millisecond: a second alt-text change in the same second must not be
    dropped by receivers as a repeat of the first."""
    settings = Settings(domain="gemeente.test", scheme="https", secret_key="s" * 32)
    note = {"id": "https://gemeente.test/users/anna/statuses/1", "attributedTo": "https://gemeente.test/users/anna",
            "to": ["https://www.w3.org/ns/activitystreams#Public"], "cc": []}
    first = datetime(2026, 12, 5, 12, 0, 0, 100_000, tzinfo=UTC)
    ids = {wire.update_note_to_json(settings, note, first + timedelta(milliseconds=n))["id"] for n in (0, 1, 400)}
    assert len(ids) == 3
