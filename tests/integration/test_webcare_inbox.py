"""Webcare (issue 15): which posts start or join a conversation of the organisation, and the CLI over them.

A local person without an organisation plays the citizen here (the Fedify peer does in
tests/interop/test_webcare_with_peer.py); the rules are the same for local and remote posts (`webcare.take_in`).
"""

from __future__ import annotations

import json

import pytest
from mastodon import Mastodon

from tests import factories
from tests.helpers.database import fetch
from tests.helpers.nodes import Node
from tests.integration.test_mastodon_client import app_for, post_with_voice


@pytest.fixture(scope="module")
def town(node: Node) -> Node:
    factories.organisation(node)
    factories.person(node, "anna", org="gemeente-ede", display_name="Anna de Vries")
    factories.person(node, "kees", org="gemeente-ede", role="webcare", display_name="Kees Jansen")
    factories.person(node, "bert", display_name="Bert Burger")
    return node


@pytest.fixture(scope="module")
def anna(town: Node) -> Mastodon:
    return app_for(town, "anna")


@pytest.fixture(scope="module")
def bert(town: Node) -> Mastodon:
    return app_for(town, "bert")


def conversations(node: Node, *extra: str) -> list[dict]:  # type: ignore[type-arg]
    result = node.cli("webcare", "list", "--org", "gemeente-ede", "--json", *extra)
    assert result.code == 0, result.err
    return json.loads(result.out)


def test_replies_to_official_posts_and_mentions_open_conversations(town: Node, anna: Mastodon, bert: Mastodon) -> None:
    before = len(conversations(town))
    official = post_with_voice(anna, "De Markt is zaterdag dicht voor de braderie.", "official")
    personal = post_with_voice(anna, "Mooie fietstocht vandaag.", "personal")
    bert.status_post("Waarom is de Markt dicht?", in_reply_to_id=official["id"])
    bert.status_post("@gemeente_ede wanneer wordt mijn container geleegd?")
    bert.status_post("Waar was dat?", in_reply_to_id=personal["id"])  # a personal post is not the organisation's
    found = conversations(town)
    assert len(found) == before + 2
    assert {c["citizen"] for c in found[-2:]} == {"bert"}
    assert all(c["status"] == "open" and c["clock"] in ("green", "orange", "red") for c in found[-2:])
    starts = fetch(town.database_url, "SELECT p.source_text FROM webcare_conversations c "
                   "JOIN posts p ON p.id = c.start_post_id ORDER BY c.id")
    texts = [r["source_text"] for r in starts]
    assert "Waar was dat?" not in texts
    assert "Waarom is de Markt dicht?" in texts


def test_official_reply_answers_and_citizen_reply_reopens(town: Node, anna: Mastodon, bert: Mastodon) -> None:
    official = post_with_voice(anna, "Het zwembad gaat maandag open.", "official")
    question = bert.status_post("Ook voor baantjes zwemmen?", in_reply_to_id=official["id"])
    [conversation] = [c for c in conversations(town) if c["status"] == "open"
                      and fetch(town.database_url, "SELECT 1 FROM webcare_conversations WHERE id = $1 "
                                "AND start_post_id = $2", int(c["id"]), int(question["id"]))]
    answer = post_with_voice(anna, "@bert ja, vanaf 7 uur.", "official", in_reply_to_id=question["id"])
    [after] = [c for c in conversations(town) if c["id"] == conversation["id"]]
    assert after["status"] == "waiting" and after["waiting_since"] is None
    done = town.cli("webcare", "list", "--org", "gemeente-ede", "--status", "waiting")
    assert conversation["id"] in done.out
    bert.status_post("Dank! En op zondag?", in_reply_to_id=answer["id"])
    [again] = [c for c in conversations(town) if c["id"] == conversation["id"]]
    assert again["status"] == "open" and again["waiting_since"] is not None
    kinds = [r["kind"] for r in fetch(town.database_url, "SELECT kind FROM webcare_events WHERE conversation_id = $1 "
                                      "ORDER BY id", int(conversation["id"]))]
    assert kinds == ["opened", "answered", "status", "message_in", "status"]
    audited = fetch(town.database_url, "SELECT action FROM audit_log WHERE subject_type = 'webcare_conversation' "
                    "AND subject_id = $1 ORDER BY id", conversation["id"])
    assert [r["action"] for r in audited] == ["webcare.opened", "webcare.answered", "webcare.status",
                                              "webcare.message_in", "webcare.status"]


def test_cli_hours_promise_and_bad_input(town: Node) -> None:
    ok = town.cli("webcare", "hours", "--org", "gemeente-ede", "--day", "mon", "--open", "08:30", "--close", "17:00")
    assert ok.code == 0 and "mon 08:30-17:00" in ok.out
    promise = town.cli("webcare", "promise", "--org", "gemeente-ede", "--hours", "4")
    assert promise.code == 0 and "promise 4 h 00 min" in promise.out
    for bad in (("hours", "--org", "gemeente-ede", "--day", "mon", "--open", "8h", "--close", "17:00"),
                ("hours", "--org", "gemeente-ede", "--day", "maandag2", "--open", "08:00", "--close", "17:00"),
                ("hours", "--org", "gemeente-ede", "--day", "mon", "--open", "18:00", "--close", "17:00"),
                ("promise", "--org", "gemeente-ede", "--hours", "0"),
                ("list", "--org", "nergens"),
                ("report", "--org", "gemeente-ede", "--from", "2026-12-31", "--to", "2026-01-01")):
        result = town.cli("webcare", *bad)
        assert result.code == 1, bad
        assert len(result.err.strip().splitlines()) == 1, result.err
