"""Issue 11's findings 1 to 4, replayed as the outside tester found them, against a real node and a hostile signed
remote server (tests/helpers/xss.py's HostileServer: a server we do not run, signing with a key the test holds).

Each test failed before its fix; the commit that fixed it says how.
"""

from __future__ import annotations

import io
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from PIL import Image

from tests import factories
from tests.federation.conftest import token_for
from tests.helpers.database import fetch, scalar
from tests.helpers.nodes import Node
from tests.helpers.polling import eventually
from tests.helpers.web import WebClient
from tests.helpers.xss import AS_PUBLIC, HostileServer


@dataclass
class Cast:
    node: Node
    api: dict[str, httpx.Client]
    ids: dict[str, int]

    def held_post(self, text: str = "Nog niet goedgekeurd") -> str:
        answer = self.api["anna"].post("/api/v1/statuses", json={"status": text, "voice": "official"})
        assert answer.status_code == 422 and answer.json()["policy"]["outcome"] == "hold", answer.text
        return str(answer.json()["policy"]["status_id"])

    def post(self, who: str, text: str, **fields: Any) -> dict[str, Any]:
        answer = self.api[who].post("/api/v1/statuses", json={"status": text, "voice": "personal", **fields})
        assert answer.status_code == 200, answer.text
        return dict(answer.json())


@pytest.fixture(scope="module")
def cast(node: Node) -> Iterator[Cast]:
    factories.organisation(node)
    factories.person(node, "anna", org="gemeente-ede")
    factories.person(node, "rita", org="gemeente-ede", role="reviewer")
    factories.person(node, "bert")
    for name, flags in (("mona", ["--moderator"]), ("adam", [])):
        assert node.cli("admin", "create", "--username", name, *flags, "--password-stdin",
                        stdin=factories.PASSWORD + "\n").code == 0
    assert node.cli("policy", "set", "--org", "gemeente-ede", "--check", "four-eyes", "--action", "hold").code == 0
    api = {name: httpx.Client(base_url=node.url, timeout=30,
                              headers={"Authorization": f"Bearer {token_for(node, name)}"})
           for name in ("anna", "rita", "bert", "mona", "adam")}
    ids = {name: int(client.get("/api/v1/accounts/verify_credentials").json()["id"]) for name, client in api.items()}
    yield Cast(node, api, ids)
    for client in api.values():
        client.close()


@pytest.fixture(scope="module")
def hostile() -> Iterator[HostileServer]:
    server = HostileServer()
    yield server
    server.close()


def _web(node: Node, username: str) -> WebClient:
    client = WebClient(node.url, language="en")
    assert client.login(username, factories.PASSWORD).status_code == 303
    return client


# ---------------------------------------------------------------- finding 1: the report form


def test_report_form_shows_no_post_the_reporter_may_not_see(cast: Cast) -> None:
    """Before: GET /report?account_id=<own id>&post_id=<any id> and a bulk POST /report without a category rendered
    the chosen posts' text, whatever their visibility."""
    direct = cast.post("anna", "Vertrouwelijk voor @rita alleen", visibility="direct")
    held = cast.held_post("Geheim concept over de begroting")
    deleted = cast.post("anna", "Weggehaalde tekst")
    assert cast.api["anna"].delete(f"/api/v1/statuses/{deleted['id']}").status_code == 200
    bert = _web(cast.node, "bert")
    for post_id, words in ((direct["id"], "Vertrouwelijk"), (held, "Geheim concept"),
                           (deleted["id"], "Weggehaalde")):
        for path in (f"/report?account_id={cast.ids['bert']}&post_id={post_id}",
                     f"/report?account_id={cast.ids['anna']}&post_id={post_id}", f"/report?post_id={post_id}"):
            page = bert.get(path)
            assert words not in page.text, (path, page.status_code)
        bulk = bert.post("/report", {"account_id": str(cast.ids["anna"]), "post_ids": str(post_id)})
        assert bulk.status_code == 422 and words not in bulk.text
        own = bert.post("/report", {"account_id": str(cast.ids["bert"]), "post_ids": str(post_id)})
        assert words not in own.text


# ---------------------------------------------------------------- finding 2: a held post boosted or liked


def test_a_held_post_cannot_be_boosted_liked_or_answered_by_anyone(cast: Cast) -> None:
    """Before: the author's POST /api/v1/statuses/X/reblog of her held post answered 200 and sent an Announce."""
    held = cast.held_post("De nieuwe verordening (concept)")
    for who in ("anna", "rita", "adam"):
        for action in ("reblog", "favourite"):
            answer = cast.api[who].post(f"/api/v1/statuses/{held}/{action}")
            assert answer.status_code in (404, 422), (who, action, answer.status_code, answer.text)
        reply = cast.api[who].post("/api/v1/statuses", json={"status": "Reactie", "in_reply_to_id": held,
                                                             "voice": "personal"})
        assert reply.status_code in (404, 422), (who, reply.text)
    for who in ("bert", "mona"):  # not in its audience at all: as if it did not exist
        assert cast.api[who].post(f"/api/v1/statuses/{held}/reblog").status_code == 404
    assert scalar(cast.node.database_url, "SELECT count(*) FROM posts WHERE reblog_of_id = $1 OR in_reply_to_id = $1",
                  int(held)) == 0
    assert scalar(cast.node.database_url, "SELECT count(*) FROM favourites WHERE post_id = $1", int(held)) == 0
    assert scalar(cast.node.database_url, "SELECT count(*) FROM outbox_events WHERE kind LIKE 'boost.%' "
                  "AND actor_id = $1 AND created_at > now() - interval '1 minute'", cast.ids["anna"]) == 0
    profile = httpx.get(f"{cast.node.url}/api/v1/accounts/{cast.ids['anna']}/statuses").text
    assert "De nieuwe verordening" not in profile
    page = _web(cast.node, "anna").get(f"/@anna/{held}")
    assert page.status_code == 200 and "Wacht op controle" in page.text  # anna reads Dutch
    assert f"/posts/{held}/boost" not in page.text and f"in_reply_to={held}" not in page.text


def _deliver_and_wait(node: Node, hostile: HostileServer, actor: str, activities: list[dict[str, Any]],
                      canary_post: str) -> None:
    """Deliver the activities, then a Like of a public post, and wait until that Like is handled: the inbox
    handles items in order, so by then the activities before it were handled too."""
    for activity in activities:
        assert hostile.deliver(node, actor, activity).status_code == 202
    like_id = f"{actor}/likes/{secrets.token_hex(6)}"
    assert hostile.deliver(node, actor, {"@context": "https://www.w3.org/ns/activitystreams", "id": like_id,
                                         "type": "Like", "actor": actor, "object": canary_post}).status_code == 202
    eventually(lambda: scalar(node.database_url, "SELECT count(*) FROM favourites WHERE like_uri = $1", like_id),
               until=lambda n: n == 1, what="the canary Like")


def test_remote_announce_like_and_reply_of_a_post_they_may_not_see_are_dropped(cast: Cast,
                                                                               hostile: HostileServer) -> None:
    """Before: a remote Announce of a held post's URI was accepted and shown; a remote Like of a followers-only
    post from a non-follower was kept."""
    held = cast.held_post("Intern: nog niet naar buiten")
    private = cast.post("anna", "Alleen voor volgers", visibility="private")
    public = cast.post("anna", "Openbaar bericht")
    mallory = hostile.actor("mallory")
    base = f"{cast.node.url}/users/anna/statuses"
    activities = []
    for target in (f"{base}/{held}", private["uri"]):
        activities += [
            {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{mallory}/boosts/{secrets.token_hex(6)}",
             "type": "Announce", "actor": mallory, "object": target, "to": [AS_PUBLIC],
             "published": datetime.now(UTC).isoformat()},
            {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{mallory}/likes/{secrets.token_hex(6)}",
             "type": "Like", "actor": mallory, "object": target}]
        note_id = f"{mallory}/statuses/{secrets.token_hex(6)}"
        activities.append({"@context": "https://www.w3.org/ns/activitystreams", "id": f"{note_id}/activity",
                           "type": "Create", "actor": mallory, "to": [AS_PUBLIC], "object": {
                               "id": note_id, "type": "Note", "attributedTo": mallory, "content": "Gezien!",
                               "inReplyTo": target, "to": [AS_PUBLIC], "published": datetime.now(UTC).isoformat()}})
    _deliver_and_wait(cast.node, hostile, mallory, activities, public["uri"])
    for post_id in (int(held), int(private["id"])):
        assert fetch(cast.node.database_url, "SELECT id FROM posts WHERE reblog_of_id = $1 OR in_reply_to_id = $1",
                     post_id) == []
        assert scalar(cast.node.database_url, "SELECT count(*) FROM favourites WHERE post_id = $1", post_id) == 0
        assert scalar(cast.node.database_url, "SELECT count(*) FROM notifications WHERE post_id = $1 "
                      "OR post_id IN (SELECT id FROM posts WHERE in_reply_to_id = $1)", post_id) == 0


def test_a_remote_flag_copies_only_what_its_server_could_see(cast: Cast, hostile: HostileServer) -> None:
    """A Flag naming a held or followers-only post copies no text into the report (its server never saw it), and a
    Flag naming only such posts stores nothing, so a Flag cannot confirm that a post exists either."""
    held = cast.held_post("Concept dat niemand buiten zag")
    private = cast.post("anna", "Voor volgers, niet voor melders", visibility="private")
    public = cast.post("anna", "Openbaar en gemeld")
    reporter = hostile.actor("melder")
    base = f"{cast.node.url}/users/anna/statuses"

    def flag(*objects: str) -> dict[str, Any]:
        return {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{hostile.url}/flags/{secrets.token_hex(6)}",
                "type": "Flag", "actor": reporter, "object": list(objects), "content": "Kijk hier eens naar"}

    only_hidden, mixed = flag(f"{base}/{held}", private["uri"]), flag(public["uri"], f"{base}/{held}", private["uri"])
    _deliver_and_wait(cast.node, hostile, reporter, [only_hidden, mixed], public["uri"])
    assert scalar(cast.node.database_url, "SELECT count(*) FROM reports WHERE flag_uri = $1", only_hidden["id"]) == 0
    copied = fetch(cast.node.database_url, "SELECT rp.post_id, rp.content_html FROM report_posts rp JOIN reports r "
                   "ON r.id = rp.report_id WHERE r.flag_uri = $1", mixed["id"])
    assert [row["post_id"] for row in copied] == [int(public["id"])]
    assert not any("niemand buiten" in row["content_html"] or "niet voor melders" in row["content_html"]
                   for row in copied)


# ---------------------------------------------------------------- finding 3: an edit races the reviewer


def test_an_edit_after_the_reviewer_opened_the_post_voids_the_approval(cast: Cast) -> None:
    """Before: the reviewer approved by post id alone, so the text published was one no reviewer saw."""
    held = cast.held_post("Versie een: de brug gaat dicht")
    reviewer = _web(cast.node, "rita")
    seen = reviewer.review_version(held)
    edited = cast.api["anna"].put(f"/api/v1/statuses/{held}", json={"status": "Versie twee: iets heel anders"})
    assert edited.status_code == 200, edited.text
    stale = reviewer.post(f"/review/{held}/approve", {"version": seen})
    assert stale.status_code == 409 and "gewijzigd nadat je het opende" in stale.text  # rita reads Dutch
    assert scalar(cast.node.database_url, "SELECT state FROM posts WHERE id = $1", int(held)) == "held"
    assert scalar(cast.node.database_url, "SELECT count(*) FROM outbox_events WHERE subject_id = $1",
                  int(held)) == 0
    # Through the CLI, as through the page.
    stale_cli = cast.node.cli("review", "approve", held, "--by", "rita", "--version", seen)
    assert stale_cli.code == 1 and "changed" in stale_cli.err and len(stale_cli.err.strip().splitlines()) == 1
    fresh = reviewer.review_version(held)
    assert fresh != seen and reviewer.post(f"/review/{held}/approve", {"version": fresh}).status_code == 303
    approved = fetch(cast.node.database_url, "SELECT detail FROM audit_log WHERE action = 'review.approved' "
                     "AND subject_id = $1", held)
    detail = json.loads(approved[0]["detail"])
    assert len(approved) == 1 and detail["version"] == fresh and detail["text"] == "Versie twee: iets heel anders"
    assert scalar(cast.node.database_url, "SELECT state FROM posts WHERE id = $1", int(held)) == "published"


def test_editing_a_rejected_post_sends_it_back_to_the_queue(cast: Cast) -> None:
    held = cast.held_post("Te snel geschreven")
    assert cast.node.cli("review", "reject", held, "--by", "rita", "--reason", "Graag zakelijker").code == 0
    assert cast.api["anna"].put(f"/api/v1/statuses/{held}", json={"status": "Zakelijker geschreven"}
                                ).status_code == 200
    assert scalar(cast.node.database_url, "SELECT state FROM posts WHERE id = $1", int(held)) == "held"
    listed = cast.node.cli("review", "list", "--org", "gemeente-ede")
    assert held in listed.out and "Zakelijker geschreven" in listed.out


# ---------------------------------------------------------------- finding 4: moderators and others' posts


def test_moderators_remove_posts_only_through_an_audited_moderation_action(cast: Cast) -> None:
    """Before: DELETE /api/v1/statuses/<id> by a moderator deleted anyone's post, unaudited, and the Delete went
    out under the moderator's actor."""
    post = cast.post("bert", "Iets wat weg moet")
    assert cast.api["mona"].delete(f"/api/v1/statuses/{post['id']}").status_code == 403
    mona = _web(cast.node, "mona")
    assert mona.post(f"/@bert/{post['id']}/delete").status_code == 403
    assert scalar(cast.node.database_url, "SELECT deleted_at FROM posts WHERE id = $1", int(post["id"])) is None
    form = mona.get(f"/admin/posts/{post['id']}/remove")
    assert form.status_code == 200 and "Iets wat weg moet" in form.text
    assert mona.post(f"/admin/posts/{post['id']}/remove", {"reason": ""}).status_code == 422
    removed = mona.post(f"/admin/posts/{post['id']}/remove", {"reason": "Persoonsgegevens van een ander"})
    assert removed.status_code == 303
    assert scalar(cast.node.database_url, "SELECT deleted_at FROM posts WHERE id = $1", int(post["id"])) is not None
    audit = fetch(cast.node.database_url, "SELECT actor_account_id, detail FROM audit_log "
                  "WHERE action = 'post.removed' AND subject_id = $1", post["id"])
    detail = json.loads(audit[0]["detail"])
    assert len(audit) == 1 and audit[0]["actor_account_id"] == cast.ids["mona"]
    assert detail["reason"] == "Persoonsgegevens van een ander" and detail["text"] == "Iets wat weg moet"
    # The Delete is the author's: the event names bert, so the outbox signs it with bert's key.
    assert fetch(cast.node.database_url, "SELECT actor_id FROM outbox_events WHERE kind = 'post.deleted' "
                 "AND subject_id = $1", int(post["id"])) == [{"actor_id": cast.ids["bert"]}]
    warning = fetch(cast.node.database_url, "SELECT action, text FROM account_warnings WHERE account_id = $1",
                    cast.ids["bert"])
    assert warning == [{"action": "delete_statuses", "text": "Persoonsgegevens van een ander"}]
    assert "Persoonsgegevens van een ander" in _web(cast.node, "bert").get("/notifications").text


def test_moderators_cannot_remove_posts_of_admins_or_moderators(cast: Cast) -> None:
    by_admin = cast.post("adam", "Bericht van de beheerder")
    mona = _web(cast.node, "mona")
    assert mona.get(f"/admin/posts/{by_admin['id']}/remove").status_code == 403
    assert mona.post(f"/admin/posts/{by_admin['id']}/remove", {"reason": "Nee"}).status_code == 403
    own = cast.post("mona", "Mijn eigen bericht")
    assert mona.post(f"/admin/posts/{own['id']}/remove", {"reason": "Zelf"}).status_code == 422
    bert = _web(cast.node, "bert")
    bert_post = cast.post("bert", "Gewoon een bericht")
    assert bert.get(f"/admin/posts/{bert_post['id']}/remove").status_code == 403
    assert scalar(cast.node.database_url, "SELECT count(*) FROM posts WHERE id = ANY($1::bigint[]) "
                  "AND deleted_at IS NOT NULL", [int(by_admin["id"]), int(bert_post["id"])]) == 0
    assert f"/admin/posts/{bert_post['id']}/remove" in mona.get(f"/@bert/{bert_post['id']}").text
    assert f"/admin/posts/{by_admin['id']}/remove" not in mona.get(f"/@adam/{by_admin['id']}").text


# ---------------------------------------------------------------- found on the way: guessable image addresses


def test_an_image_address_cannot_be_guessed_from_its_id(cast: Cast) -> None:
    """Before: an upload was served at /media/<id>.<ext>, and ids are a time plus 16 random bits, so the image of a
    held or followers-only post could be found by trying ids around the post's time."""
    png = io.BytesIO()
    Image.new("RGB", (64, 48), (0, 90, 160)).save(png, "PNG")
    uploaded = cast.api["anna"].post("/api/v2/media", files={"file": ("peil.png", png.getvalue(), "image/png")},
                                     data={"description": "Waterpeil"})
    assert uploaded.status_code == 200, uploaded.text
    media = uploaded.json()
    for key in ("url", "preview_url"):
        assert httpx.get(media[key]).status_code == 200
    extension = media["url"].rsplit(".", 1)[1]
    for guess in (f"{media['id']}.{extension}", f"{media['id']}-small.{extension}"):
        assert httpx.get(f"{cast.node.url}/media/{guess}").status_code == 404
    secret = media["url"].rsplit("/", 1)[1].removeprefix(f"{media['id']}-").rsplit(".", 1)[0]
    assert len(secret) >= 20  # 16 random bytes
