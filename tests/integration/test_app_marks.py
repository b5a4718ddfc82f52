"""What Mastodon 4.3 apps switch on (issue 14, item 5), driven through Mastodon.py against a real node: several
statuses and accounts at once, bookmarks, pins (and the `featured` collection), followed tags in the home timeline,
the tag entity, featured tags, endorsements, private notes, familiar followers, the privacy policy and terms of
service written by an admin, and push answered as not offered."""

from __future__ import annotations

import httpx
import pytest
from mastodon import Mastodon, MastodonAPIError, MastodonNotFoundError

from tests import factories
from tests.federation.conftest import token_for
from tests.helpers.nodes import Node
from tests.helpers.web import WebClient

AP = {"Accept": "application/activity+json"}


@pytest.fixture(scope="module")
def town(node: Node) -> dict[str, Mastodon]:
    factories.organisation(node)
    factories.person(node, "anna", org="gemeente-ede", display_name="Anna de Vries")
    for name in ("bert", "carla"):
        factories.person(node, name)
    assert node.cli("admin", "create", "--username", "beheer", "--password-stdin",
                    stdin=factories.PASSWORD + "\n").code == 0
    return {name: Mastodon(access_token=token_for(node, name), api_base_url=node.url, ratelimit_method="throw",
                           version_check_mode="none") for name in ("anna", "bert", "carla")}


def _id(client: Mastodon) -> str:
    return str(client.account_verify_credentials()["id"])


def test_several_statuses_and_accounts_at_once(town: dict[str, Mastodon]) -> None:
    anna, bert = town["anna"], town["bert"]
    public = anna.status_post("Openbaar bericht")
    private = anna.status_post("Alleen voor volgers", visibility="private")
    found = bert.statuses([public["id"], private["id"], "999999", public["id"]])
    assert [s["id"] for s in found] == [public["id"]]  # the private one and the missing one are left out
    assert [s["id"] for s in anna.statuses([private["id"], public["id"]])] == [private["id"], public["id"]]
    people = bert.accounts([_id(anna), "12345", _id(town["carla"])])
    assert [a["username"] for a in people] == ["anna", "carla"]


def test_bookmarks(town: dict[str, Mastodon]) -> None:
    anna, bert = town["anna"], town["bert"]
    first, second, third = (anna.status_post(f"Bewaar mij {i}") for i in range(3))
    assert bert.status_bookmark(first["id"])["bookmarked"] is True
    bert.status_bookmark(second["id"])
    boost = anna.status_reblog(third["id"])
    assert bert.status_bookmark(boost["id"])["id"] == third["id"]  # a boost stands for the post it boosts
    assert bert.status(first["id"])["bookmarked"] is True and anna.status(first["id"])["bookmarked"] is False
    page = bert.bookmarks(limit=2)
    assert [s["id"] for s in page] == [third["id"], second["id"]]
    assert [s["id"] for s in bert.fetch_next(page)] == [first["id"]]
    assert bert.status_unbookmark(second["id"])["bookmarked"] is False
    assert second["id"] not in [s["id"] for s in bert.bookmarks()]
    hidden = anna.status_post("Geheim", visibility="private")
    with pytest.raises(MastodonNotFoundError):
        bert.status_bookmark(hidden["id"])


def test_pins_and_the_featured_collection(node: Node, town: dict[str, Mastodon]) -> None:
    anna, bert = town["anna"], town["bert"]
    posts = [anna.status_post(f"Vastgezet {i}") for i in range(6)]
    for post in posts[:5]:
        assert anna.status_pin(post["id"])["pinned"] is True
    with pytest.raises(MastodonAPIError) as too_many:
        anna.status_pin(posts[5]["id"])
    assert too_many.value.args[1] == 422
    direct = anna.status_post("Alleen voor @bert", visibility="direct")
    with pytest.raises(MastodonAPIError):
        anna.status_pin(direct["id"])
    with pytest.raises(MastodonAPIError):
        bert.status_pin(posts[5]["id"])  # not one's own post
    pinned = bert.account_statuses(_id(anna), pinned=True)
    assert [s["id"] for s in pinned] == [p["id"] for p in reversed(posts[:5])]
    assert bert.status(posts[0]["id"])["pinned"] is False  # pinned is the viewer's own pin
    featured = httpx.get(f"{node.url}/users/anna/collections/featured", headers=AP).json()
    assert featured["totalItems"] == 5 and featured["orderedItems"][0]["type"] == "Note"
    assert "Vastgezet 4" in featured["orderedItems"][0]["content"]
    assert anna.status_unpin(posts[4]["id"])["pinned"] is False
    assert len(bert.account_statuses(_id(anna), pinned=True)) == 4
    assert anna.status_pin(posts[5]["id"])["pinned"] is True


def test_followed_tags_fill_the_home_timeline(town: dict[str, Mastodon]) -> None:
    anna, carla = town["anna"], town["carla"]  # carla does not follow anna
    tag = carla.tag_follow("Fietsen")
    assert tag["name"] == "fietsen" and tag["following"] is True
    public = anna.status_post("Nieuwe fietsroute #fietsen")
    unlisted = anna.status_post("Ook een fietsroute #fietsen", visibility="unlisted")
    home = [s["id"] for s in carla.timeline_home()]
    assert public["id"] in home and unlisted["id"] not in home  # public posts only, as Mastodon
    entity = carla.tag("fietsen")
    assert entity["following"] is True and len(entity["history"]) == 7
    assert entity["history"][0]["uses"] == "1" and entity["history"][0]["accounts"] == "1"
    assert [t["name"] for t in carla.followed_tags()] == ["fietsen"]
    assert carla.tag_unfollow("fietsen")["following"] is False
    assert public["id"] not in [s["id"] for s in carla.timeline_home()]
    assert carla.followed_tags() == []
    with pytest.raises(MastodonAPIError):
        carla.tag_follow("2024")  # a tag needs a letter


def test_featured_tags(town: dict[str, Mastodon]) -> None:
    anna, bert = town["anna"], town["bert"]
    anna.status_post("Raadsvergadering #ede #raad")
    anna.status_post("Weer een raadsvergadering #raad")
    featured = anna.featured_tag_create("raad")
    assert featured["name"] == "raad" and featured["statuses_count"] == "2"
    assert [t["name"] for t in anna.featured_tags()] == ["raad"]
    assert [t["name"] for t in bert.account_featured_tags(_id(anna))] == ["raad"]
    suggested = [t["name"] for t in anna.featured_tag_suggestions()]
    assert "ede" in suggested and "raad" not in suggested
    anna.featured_tag_delete(featured["id"])
    assert anna.featured_tags() == []


def test_endorsements_notes_and_familiar_followers(town: dict[str, Mastodon]) -> None:
    anna, bert, carla = town["anna"], town["bert"], town["carla"]
    anna_id, carla_id = _id(anna), _id(carla)
    with pytest.raises(MastodonAPIError):
        bert.account_pin(anna_id)  # only an account one follows
    bert.account_follow(anna_id)
    assert bert.account_pin(anna_id)["endorsed"] is True
    assert [a["username"] for a in bert.endorsements()] == ["anna"]
    assert bert.account_unpin(anna_id)["endorsed"] is False
    assert bert.endorsements() == []

    assert bert.account_note_set(anna_id, "Woordvoerder, snel antwoord")["note"] == "Woordvoerder, snel antwoord"
    assert bert.account_relationships([anna_id])[0]["note"] == "Woordvoerder, snel antwoord"
    assert carla.account_relationships([anna_id])[0]["note"] == ""  # private to bert
    assert bert.account_note_set(anna_id, "")["note"] == ""

    carla.account_follow(anna_id)
    bert.account_follow(carla_id)
    familiar = bert.account_familiar_followers([anna_id, carla_id])
    assert [(str(f["id"]), [a["username"] for a in f["accounts"]]) for f in familiar] == [(anna_id, ["carla"]),
                                                                                           (carla_id, [])]


def test_privacy_policy_and_terms_are_written_by_an_admin(node: Node, town: dict[str, Mastodon]) -> None:
    assert httpx.get(f"{node.url}/api/v1/instance/privacy_policy").status_code == 404
    assert "nog niet geschreven" in WebClient(node.url).get("/privacy").text
    official = WebClient(node.url)
    assert official.login("anna", factories.PASSWORD).status_code == 303
    assert official.get("/admin/texts").status_code == 403
    assert official.post("/admin/texts", {"privacy_policy": "Niets", "terms_of_service": ""}).status_code == 403
    admin = WebClient(node.url)
    assert admin.login("beheer", factories.PASSWORD).status_code == 303
    saved = admin.post("/admin/texts", {"privacy_policy": "Wij bewaren <weinig>.\n\nVragen? privacy@ede.nl",
                                        "terms_of_service": "Wees beleefd."})
    assert saved.status_code == 303
    policy = httpx.get(f"{node.url}/api/v1/instance/privacy_policy").json()
    assert policy["content"] == "<p>Wij bewaren &lt;weinig&gt;.</p><p>Vragen? privacy@ede.nl</p>"
    assert policy["updated_at"].endswith("Z")
    terms = town["bert"].instance_terms_of_service()
    assert terms["content"] == "<p>Wees beleefd.</p>" and terms["effective"] is True
    page = WebClient(node.url).get("/voorwaarden").text
    assert "Wees beleefd." in page and 'href="/privacy"' in page and 'href="/voorwaarden"' in page
    urls = httpx.get(f"{node.url}/api/v2/instance").json()["configuration"]["urls"]
    assert urls["terms_of_service"] == f"{node.url}/voorwaarden"


def test_push_is_not_offered(node: Node, town: dict[str, Mastodon]) -> None:
    instance = httpx.get(f"{node.url}/api/v2/instance").json()
    assert instance["configuration"]["vapid"]["public_key"] == ""
    assert instance["configuration"]["accounts"] == {"max_featured_tags": 10, "max_pinned_statuses": 5}
    token = token_for(node, "bert", "read write follow push")
    with pytest.raises(MastodonNotFoundError):
        Mastodon(access_token=token, api_base_url=node.url, version_check_mode="none").push_subscription()
    answer = httpx.post(f"{node.url}/api/v1/push/subscription", headers={"Authorization": f"Bearer {token}"},
                        json={"subscription": {"endpoint": "https://push.example/p", "keys": {"p256dh": "x"}}})
    assert answer.status_code == 404 and "push" in answer.json()["error"]
