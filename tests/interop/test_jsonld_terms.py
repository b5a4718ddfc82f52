"""Every JSON-LD document we serve or send defines every term it uses (issue 14, item 1): expanded by jsonld.js
with the contexts Fedify preloads, no property or type falls through to the ActivityStreams context's blank-node
`@vocab`. Outbox pages once carried only the ActivityStreams context, so `sensitive`, hashtags and the voice terms
meant nothing to a JSON-LD reader.

Needs the Fedify peer harness's npm packages (peers/README.md); skipped with the reason without them.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from pathlib import Path
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from PIL import Image

from federation import poll_wire, wire
from server.accounts import Account
from server.config import settings_from
from tests import factories
from tests.helpers.nodes import Node
from tests.interop.peers import peers_dir

SCRIPT = Path(__file__).with_name("jsonld_terms.mjs")
AP = {"Accept": "application/activity+json"}


def _harness_problem() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed"
    if not (peers_dir() / "node_modules" / "jsonld").is_dir():
        return f"no jsonld package in {peers_dir()}/node_modules: copy the peers/ folder there and run its setup.sh"
    return None


_problem = _harness_problem()
if _problem:
    pytest.skip(f"JSON-LD check not available: {_problem}", allow_module_level=True)


def undefined_terms(documents: dict[str, Any]) -> dict[str, list[str]]:
    done = subprocess.run(["node", str(SCRIPT)], input=json.dumps(documents), capture_output=True, text=True,
                          timeout=120, env={"PEERS_DIR": str(peers_dir()), "PATH": "/usr/bin:/bin:/usr/local/bin"})
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads(done.stdout)
    assert [r["name"] for r in results] == list(documents), results
    return {r["name"]: r.get("undefined_terms") or [r.get("error", "")] for r in results if not r["ok"]}


def test_the_checker_notices_an_undefined_term() -> None:
    found = undefined_terms({"bare": {"@context": "https://www.w3.org/ns/activitystreams", "type": "Note",
                                      "sensitive": True, "voice": "official"}})
    assert found == {"bare": ["sensitive", "voice"]}


def test_served_and_sent_documents_define_every_term(node: Node) -> None:
    factories.organisation(node)
    factories.person(node, "anna", org="gemeente-ede", display_name="Anna de Vries")
    factories.person(node, "kees", org="gemeente-ede", role="org-admin")
    assert node.cli("badge", "issue", "--username", "anna", "--function", "Woordvoerder", "--by", "kees").code == 0
    token = node.cli("token", "create", "--username", "anna", "--scopes", "read write").out.strip()
    anna = httpx.Client(base_url=node.url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert anna.patch("/api/v1/accounts/update_credentials",
                      data={"fields_attributes[0][name]": "Spreekuur",
                            "fields_attributes[0][value]": "dinsdag"}).status_code == 200
    media = anna.post("/api/v1/media", files={"file": ("a.png", _png(), "image/png")},
                      data={"description": "Het stadhuis"}).json()
    post = anna.post("/api/v1/statuses", json={
        "status": "Het stadhuis is open #ede @kees", "voice": "official", "sensitive": True,
        "spoiler_text": "Openingstijden", "media_ids": [media["id"]]}).json()
    poll = anna.post("/api/v1/statuses", json={"status": "Waar de bankjes?", "poll": {
        "options": ["Markt", "Park"], "expires_in": 600, "multiple": True}}).json()

    def get(path: str) -> Any:
        answer = httpx.get(path if path.startswith("http") else node.url + path, headers=AP)
        assert answer.status_code == 200, (path, answer.status_code)
        return answer.json()

    served = {
        "actor with badge and fields": get("/users/anna"),
        "organisation actor": get("/orgs/gemeente-ede"),
        "instance actor": get("/actor"),
        "note with tag, mention, image, voice": get(post["uri"]),
        "create": get(post["uri"] + "/activity"),
        "question (a poll)": get(poll["uri"]),
        "outbox": get("/users/anna/outbox"),
        "outbox page": get("/users/anna/outbox?page=true"),
        "followers page": get("/users/anna/followers?page=true"),
        "featured": get("/users/anna/collections/featured"),
    }
    settings = settings_from({}, {"domain": "gemeente.example"})
    person = Account(id=1, username="anna", display_name="Anna", email=None, bio="", kind="person",
                     organisation_id=None, org_role=None, is_admin=False, is_moderator=False,
                     default_voice="personal", language="nl", created_at=datetime.now(UTC), disabled_at=None)
    note = served["note with tag, mention, image, voice"]
    inner = wire.follow_to_json(settings, person, "https://burger.example/users/bert", "https://gemeente.example/f/1")
    sent = {
        "update of a note": wire.update_note_to_json(settings, {k: v for k, v in note.items() if k != "@context"},
                                                     datetime.now(UTC)),
        "delete": wire.delete_to_json(settings, note["attributedTo"], note["id"]),
        "like": wire.like_to_json(settings, person, 1, note["id"]),
        "follow": inner,
        "undo": wire.undo_to_json(settings, inner["actor"], inner),
        "accept": wire.accept_to_json(settings, inner["actor"], inner),
        "block": wire.block_to_json(settings, person, "https://burger.example/users/bert", "https://g/b/1"),
        "update of the actor": wire.update_actor_to_json(settings, served["actor with badge and fields"], 7),
        "flag": wire.flag_to_json(settings, 3, [note["id"]], "Klopt dit?"),
        "vote in a poll": poll_wire.vote_to_json(settings, person, 5, "https://burger.example/q/1",
                                                 "https://burger.example/users/bert", "Ja"),
    }
    assert undefined_terms({**served, **sent}) == {}


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 90, 160)).save(out, "PNG")
    return out.getvalue()
