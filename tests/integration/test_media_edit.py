"""Images on the web and their alt text after posting: the composer's file inputs, the edit form, PUT /api/v1/media/:id
and media_attributes[] on a status edit, each an edit of the post (the author's only, checked by the organisation's
policy, recorded as post.updated so that other servers get an Update)."""

from __future__ import annotations

import io
import os
import re
import socket
from collections.abc import Iterator

import httpx
import pytest
from PIL import Image

from tests import factories
from tests.helpers.database import fetch, scalar
from tests.helpers.nodes import Node
from tests.helpers.photos import alt_text_organisation, png
from tests.helpers.web import WebClient


def noisy_png(side: int) -> bytes:
    """A PNG that does not compress: about 3 bytes a pixel."""
    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def site(node: Node) -> Node:
    factories.organisation(node)
    factories.person(node, "anna", org="gemeente-ede")
    factories.person(node, "bert")
    alt_text_organisation(node)  # wim's; anna's posts are checked by no policy at all
    return node


def web(node: Node, username: str) -> WebClient:
    client = WebClient(node.url)
    assert client.login(username, factories.PASSWORD).status_code == 303
    return client


@pytest.fixture(scope="module")
def anna(site: Node) -> Iterator[WebClient]:
    client = web(site, "anna")
    yield client
    client.close()


def api(node: Node, username: str) -> httpx.Client:
    token = node.cli("token", "create", "--username", username, "--scopes", "read write").out.strip()
    return httpx.Client(base_url=node.url, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def send_form(client: WebClient, path: str, fields: dict[str, str],
              files: dict[str, tuple[str, bytes, str]]) -> httpx.Response:
    """A multipart form as a browser sends it: every file input, an unused one as an empty part without a name."""
    data = {"csrf_token": client.csrf_token(), **fields}
    parts = {f"image_{n}": ("", b"", "application/octet-stream") for n in range(1, 5) if f"media_id_{n}" not in fields}
    parts.update(files)
    return client.http.post(path, data=data, files=parts)


def post_id_of(response: httpx.Response) -> int:
    assert response.status_code == 303, response.text[:3000]
    return int(response.headers["location"].rsplit("/", 1)[1])


def attachments(node: Node, post_id: int) -> list[dict[str, object]]:
    return fetch(node.database_url, "SELECT id, description, file_name FROM media_attachments WHERE post_id = $1 "
                                    "ORDER BY id", post_id)


def updated_events(node: Node, post_id: int) -> int:
    return int(scalar(node.database_url, "SELECT count(*) FROM outbox_events WHERE kind = 'post.updated' "
                                         "AND subject_id = $1", post_id))


def test_composer_posts_images_with_their_alt_text(site: Node, anna: WebClient) -> None:
    posted = send_form(anna, "/compose", {"text": "Nieuwe brug geopend", "visibility": "public", "voice": "official",
                                          "description_1": "De brug over de Rijn bij zonsopgang",
                                          "description_2": "Wethouder knipt het lint door"},
                       {"image_1": ("brug.png", png(), "image/png"),
                        "image_2": ("lint.png", png((200, 30, 30)), "image/png")})
    post_id = post_id_of(posted)
    stored = attachments(site, post_id)
    assert [a["description"] for a in stored] == ["De brug over de Rijn bij zonsopgang",
                                                  "Wethouder knipt het lint door"]
    page = anna.get(f"/@anna/{post_id}").text
    assert 'alt="De brug over de Rijn bij zonsopgang"' in page and 'alt="Wethouder knipt het lint door"' in page
    # The composer on every page sends files: multipart, with four image places and their descriptions.
    compose = anna.get("/compose").text
    assert 'enctype="multipart/form-data"' in compose
    assert all(f'name="image_{n}"' in compose and f'name="description_{n}"' in compose for n in range(1, 5))
    assert 'enctype="multipart/form-data"' in anna.get(f"/@anna/{post_id}").text  # the reply form too


def test_a_post_of_images_only_and_a_reply_with_an_image(site: Node, anna: WebClient) -> None:
    bert = web(site, "bert")
    try:
        root = post_id_of(send_form(anna, "/compose", {"text": "", "visibility": "public", "voice": "official",
                                                       "description_1": "Kaart van de omleiding"},
                                    {"image_1": ("kaart.png", png(), "image/png")}))
        reply = post_id_of(send_form(bert, "/compose", {"text": "@anna Zo zag het er vanochtend uit",
                                                        "visibility": "public", "in_reply_to_id": str(root),
                                                        "description_1": "File op de A12"},
                                     {"image_1": ("file.png", png((90, 90, 90)), "image/png")}))
        assert [a["description"] for a in attachments(site, reply)] == ["File op de A12"]
        assert scalar(site.database_url, "SELECT in_reply_to_id FROM posts WHERE id = $1", reply) == root
    finally:
        bert.close()


def test_an_unreadable_file_keeps_the_others_and_the_form(site: Node, anna: WebClient) -> None:
    refused = send_form(anna, "/compose", {"text": "Twee foto's", "visibility": "public", "voice": "official",
                                           "description_1": "Het gemeentehuis", "description_2": "Kapot"},
                        {"image_1": ("huis.png", png(), "image/png"),
                         "image_2": ("kapot.png", b"<svg onload=alert(1)>", "image/png")})
    assert refused.status_code == 422
    assert "kapot.png" in refused.text and "geen leesbare afbeelding" in refused.text  # Dutch: which file, and why
    kept = re.findall(r'name="media_id_(\d)" value="(\d+)"', refused.text)
    assert len(kept) == 1 and kept[0][0] == "1"
    assert "Het gemeentehuis" in refused.text and "Twee foto&#39;s" in refused.text
    # Sent again with the stored image and no new file: published, nothing to choose again.
    again = send_form(anna, "/compose", {"text": "Twee foto's", "visibility": "public", "voice": "official",
                                         "media_id_1": kept[0][1], "description_1": "Het gemeentehuis aan de markt"},
                      {})
    post_id = post_id_of(again)
    assert [a["description"] for a in attachments(site, post_id)] == ["Het gemeentehuis aan de markt"]


def test_the_alt_text_check_sees_the_composers_images(site: Node) -> None:
    wim = web(site, "wim")
    try:
        asked = send_form(wim, "/compose", {"text": "De nieuwe rotonde", "visibility": "public", "voice": "official",
                                            "description_1": ""},
                          {"image_1": ("rotonde.png", png(), "image/png")})
        assert asked.status_code == 422
        assert "Bijlage 1 heeft geen beschrijving" in asked.text and 'name="confirm_policy"' in asked.text
        media_id = re.search(r'name="media_id_1" value="(\d+)"', asked.text).group(1)  # type: ignore[union-attr]
        # With a description the check has nothing to say, and the kept upload is posted.
        posted = send_form(wim, "/compose", {"text": "De nieuwe rotonde", "visibility": "public", "voice": "official",
                                             "media_id_1": media_id,
                                             "description_1": "Rotonde met fietspad eromheen"}, {})
        post_id = post_id_of(posted)
        assert [a["description"] for a in attachments(site, post_id)] == ["Rotonde met fietspad eromheen"]
        # Taking the description away later is an edit the check sees too, through the page and the API.
        edit = wim.get(f"/@wim/{post_id}/edit").text
        assert "Rotonde met fietspad eromheen" in edit and f'value="{media_id}"' in edit
        emptied = send_form(wim, f"/@wim/{post_id}/edit", {"text": "De nieuwe rotonde", "media_id_1": media_id,
                                                            "description_1": " "}, {})
        assert emptied.status_code == 422 and "Bijlage 1 heeft geen beschrijving" in emptied.text
        assert 'name="confirm_policy"' in emptied.text
        with api(site, "wim") as client:
            refused = client.put(f"/api/v1/media/{media_id}", data={"description": ""})
            assert refused.status_code == 422, refused.text
        assert [a["description"] for a in attachments(site, post_id)] == ["Rotonde met fietspad eromheen"]
        assert updated_events(site, post_id) == 0
    finally:
        wim.close()


def test_alt_text_edited_on_the_web_is_an_edit_of_the_post(site: Node, anna: WebClient) -> None:
    post_id = post_id_of(send_form(anna, "/compose", {"text": "Spreekuur in de bibliotheek", "visibility": "public",
                                                      "voice": "official", "description_1": "Bibliotheek"},
                                   {"image_1": ("bieb.png", png(), "image/png")}))
    [image] = attachments(site, post_id)
    form = anna.get(f"/@anna/{post_id}/edit").text
    assert f'name="media_id_1" value="{image["id"]}"' in form and 'name="remove_1"' in form
    changed = send_form(anna, f"/@anna/{post_id}/edit", {"text": "Spreekuur in de bibliotheek",
                                                          "media_id_1": str(image["id"]),
                                                          "description_1": "De bibliotheek aan het Museumplein"}, {})
    assert changed.status_code == 303, changed.text[:2000]
    assert [a["description"] for a in attachments(site, post_id)] == ["De bibliotheek aan het Museumplein"]
    assert updated_events(site, post_id) == 1  # federation/ turns it into an Update of the Note
    assert scalar(site.database_url, "SELECT count(*) FROM post_edits WHERE post_id = $1", post_id) == 1
    assert 'alt="De bibliotheek aan het Museumplein"' in anna.get(f"/@anna/{post_id}").text
    # Saving the form unchanged is no edit.
    same = send_form(anna, f"/@anna/{post_id}/edit", {"text": "Spreekuur in de bibliotheek",
                                                       "media_id_1": str(image["id"]),
                                                       "description_1": "De bibliotheek aan het Museumplein"}, {})
    assert same.status_code == 303 and updated_events(site, post_id) == 1


def test_the_edit_form_removes_and_adds_images(site: Node, anna: WebClient) -> None:
    post_id = post_id_of(send_form(anna, "/compose", {"text": "Werk aan de weg", "visibility": "public",
                                                      "voice": "official", "description_1": "Oude foto"},
                                   {"image_1": ("oud.png", png(), "image/png")}))
    [old] = attachments(site, post_id)
    edited = send_form(anna, f"/@anna/{post_id}/edit", {"text": "Werk aan de weg", "media_id_1": str(old["id"]),
                                                         "remove_1": "yes", "description_2": "Nieuwe foto"},
                       {"image_2": ("nieuw.png", png((10, 200, 10)), "image/png")})
    assert edited.status_code == 303, edited.text[:2000]
    assert [a["description"] for a in attachments(site, post_id)] == ["Nieuwe foto"]
    assert scalar(site.database_url, "SELECT post_id FROM media_attachments WHERE id = $1", old["id"]) is None
    assert updated_events(site, post_id) == 1
    # The form is the whole list: four new files, and the image it had is not sent back, so it is taken off.
    four = send_form(anna, f"/@anna/{post_id}/edit", {"text": "Werk aan de weg"},
                     {f"image_{n}": (f"{n}.png", png((n, n, n)), "image/png") for n in range(1, 5)})
    assert four.status_code == 303 and len(attachments(site, post_id)) == 4
    # A plain form without image places changes the words only.
    words = anna.post(f"/@anna/{post_id}/edit", {"text": "Werk aan de weg, tot vrijdag"})
    assert words.status_code == 303 and len(attachments(site, post_id)) == 4


def test_only_the_author_changes_a_posted_image(site: Node, anna: WebClient) -> None:
    post_id = post_id_of(send_form(anna, "/compose", {"text": "Open dag", "visibility": "public",
                                                      "voice": "official", "description_1": "Open dag"},
                                   {"image_1": ("open.png", png(), "image/png")}))
    [image] = attachments(site, post_id)
    with api(site, "bert") as bert_api, api(site, "anna") as anna_api:
        assert bert_api.put(f"/api/v1/media/{image['id']}", data={"description": "gekaapt"}).status_code == 404
        bert = web(site, "bert")
        try:
            # bert's own post cannot take anna's image through the composer or his edit form either.
            stolen = send_form(bert, "/compose", {"text": "Mijn foto", "visibility": "public",
                                                  "media_id_1": str(image["id"]), "description_1": "gekaapt"}, {})
            assert stolen.status_code == 404
            own = post_id_of(bert.compose("Eigen bericht"))
            taken = send_form(bert, f"/@bert/{own}/edit", {"text": "Eigen bericht", "media_id_1": str(image["id"]),
                                                             "description_1": "gekaapt"}, {})
            assert taken.status_code == 404
            assert send_form(bert, f"/@anna/{post_id}/edit", {"text": "Open dag", "media_id_1": str(image["id"]),
                                                               "description_1": "gekaapt"}, {}).status_code == 404
        finally:
            bert.close()
        assert [a["description"] for a in attachments(site, post_id)] == ["Open dag"]
        assert updated_events(site, post_id) == 0
        # The author, through the API: the posted image changes as an edit of its post.
        changed = anna_api.put(f"/api/v1/media/{image['id']}", data={"description": "Open dag op het stadhuis"})
        assert changed.status_code == 200 and changed.json()["description"] == "Open dag op het stadhuis"
        assert updated_events(site, post_id) == 1
        status = anna_api.get(f"/api/v1/statuses/{post_id}").json()
        assert status["media_attachments"][0]["description"] == "Open dag op het stadhuis"
        assert status["edited_at"] is not None


def test_media_attributes_and_media_ids_on_a_status_edit(site: Node) -> None:
    with api(site, "anna") as client:
        first = client.post("/api/v2/media", files={"file": ("a.png", png(), "image/png")},
                            data={"description": "eerste"}).json()
        second = client.post("/api/v2/media", files={"file": ("b.png", png((1, 2, 3)), "image/png")}).json()
        status = client.post("/api/v1/statuses", json={"status": "Twee beelden", "voice": "official",
                                                       "media_ids": [first["id"], second["id"]]}).json()
        # JSON, as masto.js and Mastodon.py send it.
        edited = client.put(f"/api/v1/statuses/{status['id']}", json={
            "status": "Twee beelden", "media_ids": [first["id"], second["id"]],
            "media_attributes": [{"id": second["id"], "description": "tweede", "focus": "0.5,-0.5"}]})
        assert edited.status_code == 200, edited.text
        described = {m["id"]: m for m in edited.json()["media_attachments"]}
        assert described[second["id"]]["description"] == "tweede"
        assert described[second["id"]]["meta"]["focus"] == {"x": 0.5, "y": -0.5}
        assert described[first["id"]]["description"] == "eerste"
        # Rails-style form fields; without media_ids the images stay.
        form = client.put(f"/api/v1/statuses/{status['id']}", data={
            "status": "Twee beelden", "media_attributes[][id]": first["id"],
            "media_attributes[][description]": "eerste, opnieuw beschreven"})
        assert form.status_code == 200, form.text
        assert [m["description"] for m in form.json()["media_attachments"]] == ["eerste, opnieuw beschreven",
                                                                                "tweede"]
        # media_ids is the new list: one image taken off.
        fewer = client.put(f"/api/v1/statuses/{status['id']}", json={"status": "Eén beeld",
                                                                       "media_ids": [first["id"]]})
        assert [m["id"] for m in fewer.json()["media_attachments"]] == [first["id"]]
        history = client.get(f"/api/v1/statuses/{status['id']}/history").json()
        assert len(history) == 4
        assert updated_events(site, int(status["id"])) == 3
        bad = client.put(f"/api/v1/statuses/{status['id']}", json={"status": "x",
                                                                     "media_attributes": [{"description": "?"}]})
        assert bad.status_code == 422


def test_the_composer_takes_images_above_the_pages_usual_limit(site: Node, anna: WebClient) -> None:
    big = noisy_png(900)  # about 2.4 MB: more than a page form's 1 MiB
    assert len(big) > 2 * 1024 * 1024
    posted = send_form(anna, "/compose", {"text": "Luchtfoto", "visibility": "public", "voice": "official",
                                          "description_1": "Luchtfoto van het centrum"},
                       {"image_1": ("lucht.png", big, "image/png")})
    assert len(attachments(site, post_id_of(posted))) == 1
    # Four images' worth, no more: a body declared larger is refused before it is read; other pages keep 1 MiB.
    assert raw_post_status(site, "/compose", 4 * 16 * 1024 * 1024 + 512 * 1024) == 413
    assert raw_post_status(site, "/report", 2 * 1024 * 1024) == 413


def raw_post_status(node: Node, path: str, declared_length: int) -> int:
    """The status a POST gets when it only declares its length (the body is never sent)."""
    host, port = node.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: multipart/form-data; boundary=x\r\n"
                     f"Content-Length: {declared_length}\r\n\r\n".encode())
        answer = sock.recv(4096).decode("latin-1")
    return int(answer.split()[1])
