"""Officials post in official and personal voice through the web pages of a real node process."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests import factories
from tests.helpers.database import fetch, scalar
from tests.helpers.nodes import Node
from tests.helpers.web import WebClient


@pytest.fixture(scope="module")
def ede(node: Node) -> Node:
    factories.organisation(node)
    factories.person(node, "anna", org="gemeente-ede", display_name="Anna de Vries")
    factories.person(node, "bert", display_name="Bert Burger")
    return node


@pytest.fixture()
def anna(ede: Node) -> Iterator[WebClient]:
    client = WebClient(ede.url)
    assert client.login("anna", factories.PASSWORD).status_code == 303
    yield client
    client.close()


@pytest.fixture()
def bert(ede: Node) -> Iterator[WebClient]:
    client = WebClient(ede.url)
    assert client.login("bert", factories.PASSWORD).status_code == 303
    yield client
    client.close()


def post_id_from(response_location: str) -> int:
    match = re.search(r"/@\w+/(\d+)$", response_location)
    assert match, response_location
    return int(match.group(1))


def test_official_and_personal_posts_carry_their_voice(ede: Node, anna: WebClient) -> None:
    official = anna.compose("Het gemeentehuis is vandaag open tot 20:00. #ede", voice="official")
    assert official.status_code == 303
    personal = anna.compose("Mooie fietstocht langs de Ginkelse heide vanmorgen.", voice="personal")
    assert personal.status_code == 303
    official_id, personal_id = post_id_from(official.headers["location"]), post_id_from(personal.headers["location"])

    rows = {r["id"]: r for r in fetch(ede.database_url, "SELECT id, voice, organisation_id FROM posts")}
    org_id = scalar(ede.database_url, "SELECT id FROM organisations WHERE slug = 'gemeente-ede'")
    assert rows[official_id]["voice"] == "official" and rows[official_id]["organisation_id"] == org_id
    assert rows[personal_id]["voice"] == "personal" and rows[personal_id]["organisation_id"] is None

    page = anna.get(f"/@anna/{official_id}").text
    assert "Namens Gemeente Ede" in page
    page = anna.get(f"/@anna/{personal_id}").text
    assert "Op persoonlijke titel" in page
    profile = WebClient(ede.url, language="en").get("/@anna").text
    assert "On behalf of Gemeente Ede" in profile and "Personal capacity" in profile


def test_non_member_cannot_post_in_official_voice(ede: Node, bert: WebClient) -> None:
    before = scalar(ede.database_url, "SELECT count(*) FROM posts")
    response = bert.compose("Ik spreek namens de gemeente!", voice="official")
    assert response.status_code == 403
    assert "Alleen leden van een organisatie" in response.text
    assert scalar(ede.database_url, "SELECT count(*) FROM posts") == before
    assert scalar(ede.database_url, "SELECT count(*) FROM outbox_events WHERE kind = 'post.created' "
                  "AND actor_id = (SELECT id FROM accounts WHERE username = 'bert')") == 0


def test_composer_offers_official_voice_only_to_members(anna: WebClient, bert: WebClient) -> None:
    assert re.search(r'id="voice-official"[^>]*value="official"(?![^>]*disabled)', anna.get("/compose").text)
    assert re.search(r'id="voice-official"[^>]*disabled', bert.get("/compose").text)


@pytest.mark.parametrize("text, status, message", [
    ("", 422, "Een bericht heeft tekst nodig."),
    ("   \n  ", 422, "Een bericht heeft tekst nodig."),
    ("x" * 501, 422, "hoogstens 500 tekens hebben; dit bericht heeft er 501"),
])
def test_empty_or_too_long_posts_are_refused_and_nothing_is_stored(ede: Node, anna: WebClient, text: str,
                                                                   status: int, message: str) -> None:
    before = scalar(ede.database_url, "SELECT count(*) FROM posts")
    response = anna.compose(text, voice="personal")
    assert response.status_code == status
    assert message in response.text
    assert scalar(ede.database_url, "SELECT count(*) FROM posts") == before


def test_bad_visibility_and_voice_values_are_refused(ede: Node, anna: WebClient) -> None:
    before = scalar(ede.database_url, "SELECT count(*) FROM posts")
    assert anna.compose("hallo", voice="loud").status_code == 422
    assert anna.compose("hallo", visibility="everyone").status_code == 422
    assert anna.compose("hallo", in_reply_to_id="12abc").status_code == 404
    assert anna.compose("hallo", in_reply_to_id="999999").status_code == 404
    assert scalar(ede.database_url, "SELECT count(*) FROM posts") == before


def test_post_without_csrf_token_is_refused(ede: Node, anna: WebClient) -> None:
    before = scalar(ede.database_url, "SELECT count(*) FROM posts")
    response = anna.post("/compose", {"text": "zonder token", "voice": "personal"}, csrf=False)
    assert response.status_code == 403
    forged = anna.post("/compose", {"text": "vals token", "voice": "personal", "csrf_token": "x" * 43})
    assert forged.status_code == 403
    assert scalar(ede.database_url, "SELECT count(*) FROM posts") == before


def test_text_becomes_safe_html_with_links_tags_and_mentions(ede: Node, anna: WebClient) -> None:
    response = anna.compose('Zie https://www.ede.nl/afval. #Afval met @bert <script>alert(1)</script>',
                            voice="personal")
    post_id = post_id_from(response.headers["location"])
    html = scalar(ede.database_url, "SELECT content_html FROM posts WHERE id = $1", post_id)
    assert '<a href="https://www.ede.nl/afval" rel="nofollow noopener noreferrer" target="_blank">' in html
    assert f'href="{ede.url}/tags/afval"' in html
    assert f'href="{ede.url}/@bert" class="u-url mention"' in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert scalar(ede.database_url, "SELECT tag FROM post_tags WHERE post_id = $1", post_id) == "afval"
    tag_page = anna.get("/tags/afval").text
    assert f'id="post-{post_id}"' in tag_page


def test_edit_keeps_voice_and_history(ede: Node, anna: WebClient) -> None:
    post_id = post_id_from(anna.compose("Inloopavond op dinsdag", voice="official").headers["location"])
    edited = anna.post(f"/@anna/{post_id}/edit", {"text": "Inloopavond op woensdag", "spoiler_text": ""})
    assert edited.status_code == 303
    row = fetch(ede.database_url, "SELECT voice, source_text, edited_at FROM posts WHERE id = $1", post_id)[0]
    assert row["voice"] == "official" and row["source_text"] == "Inloopavond op woensdag" and row["edited_at"]
    assert scalar(ede.database_url, "SELECT source_text FROM post_edits WHERE post_id = $1", post_id) == \
        "Inloopavond op dinsdag"
    page = anna.get(f"/@anna/{post_id}").text
    assert "Bewerkingsgeschiedenis (1 eerdere versie)" in page and "Namens Gemeente Ede" in page
    too_long = anna.post(f"/@anna/{post_id}/edit", {"text": "y" * 600})
    assert too_long.status_code == 422
    assert scalar(ede.database_url, "SELECT source_text FROM posts WHERE id = $1", post_id) == \
        "Inloopavond op woensdag"


def test_only_the_author_can_edit_or_delete(ede: Node, anna: WebClient, bert: WebClient) -> None:
    post_id = post_id_from(anna.compose("Van Anna", voice="personal").headers["location"])
    assert bert.post(f"/@anna/{post_id}/edit", {"text": "Van Bert"}).status_code == 403
    assert bert.post(f"/@anna/{post_id}/delete").status_code == 403
    assert scalar(ede.database_url, "SELECT deleted_at FROM posts WHERE id = $1", post_id) is None
    assert anna.post(f"/@anna/{post_id}/delete").status_code == 303
    assert scalar(ede.database_url, "SELECT deleted_at FROM posts WHERE id = $1", post_id) is not None
    assert anna.get(f"/@anna/{post_id}").status_code == 404


def test_reply_follow_like_and_boost(ede: Node, anna: WebClient, bert: WebClient) -> None:
    post_id = post_id_from(anna.compose("Vragen over de nieuwe parkeerregels?", voice="official").headers["location"])
    reply = bert.compose("Ja: geldt het ook op zondag?", in_reply_to_id=str(post_id))
    reply_id = post_id_from(reply.headers["location"])
    thread = anna.get(f"/@anna/{post_id}").text
    assert f'id="post-{reply_id}"' in thread and "Op persoonlijke titel" in thread
    answer = anna.compose("Nee, op zondag is parkeren gratis.", voice="official", in_reply_to_id=str(reply_id))
    assert answer.status_code == 303
    assert "Namens Gemeente Ede" in bert.get(f"/@bert/{reply_id}").text

    assert bert.post("/@anna/follow").status_code == 303
    assert f'id="post-{post_id}"' in bert.get("/").text
    assert bert.post(f"/@anna/{post_id}/like").status_code == 303
    assert bert.post(f"/@anna/{post_id}/boost").status_code == 303
    assert bert.post(f"/@anna/{post_id}/boost").status_code == 303  # twice is still one boost
    # Bert's boost, once; the organisation's own account boosts official posts too (issue 5), so count his.
    counts = fetch(ede.database_url, """SELECT
        (SELECT count(*) FROM favourites WHERE post_id = $1) AS likes,
        (SELECT count(*) FROM posts WHERE reblog_of_id = $1 AND deleted_at IS NULL
           AND account_id = (SELECT id FROM accounts WHERE username = 'bert')) AS boosts""", post_id)[0]
    assert counts == {"likes": 1, "boosts": 1}
    assert "Bert Burger heeft gedeeld" in bert.get("/@bert").text
    assert bert.post(f"/@anna/{post_id}/unlike").status_code == 303
    assert bert.post(f"/@anna/{post_id}/unboost").status_code == 303
    assert bert.post("/@anna/unfollow").status_code == 303
    counts = fetch(ede.database_url, """SELECT
        (SELECT count(*) FROM favourites WHERE post_id = $1) AS likes,
        (SELECT count(*) FROM posts WHERE reblog_of_id = $1 AND deleted_at IS NULL
           AND account_id = (SELECT id FROM accounts WHERE username = 'bert')) AS boosts,
        (SELECT count(*) FROM follows) AS follows""", post_id)[0]
    assert counts == {"likes": 0, "boosts": 0, "follows": 0}
    kinds = [r["kind"] for r in fetch(ede.database_url, "SELECT kind FROM outbox_events ORDER BY id")]
    for kind in ("follow.created", "favourite.created", "boost.created", "favourite.deleted", "boost.deleted",
                 "follow.deleted"):
        assert kind in kinds


def test_followers_only_posts_are_hidden_from_strangers(ede: Node, anna: WebClient) -> None:
    post_id = post_id_from(anna.compose("Alleen voor volgers", voice="personal", visibility="private")
                           .headers["location"])
    assert WebClient(ede.url).get(f"/@anna/{post_id}").status_code == 404
    assert anna.get(f"/@anna/{post_id}").status_code == 200
