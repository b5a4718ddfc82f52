"""A person's own controls on one node, through the client API and the pages: mute, block, remove a follower, and
hide a reply from the thread of one's own post."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests import factories
from tests.helpers.database import fetch, scalar
from tests.helpers.nodes import Node
from tests.helpers.polling import eventually
from tests.helpers.web import WebClient


def token_for(node: Node, username: str, scopes: str = "read write follow") -> str:
    result = node.cli("token", "create", "--username", username, "--scopes", scopes)
    assert result.code == 0, result.err
    return result.out.strip()


@pytest.fixture(scope="module")
def ede(node: Node) -> Node:
    factories.organisation(node)
    return node


class People:
    """Fresh people per test (the node is shared by the module), each with an API client and an account id."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.clients: list[httpx.Client] = []

    def __call__(self, username: str, org: str | None = None) -> tuple[httpx.Client, str]:
        factories.person(self.node, username, org=org)
        client = httpx.Client(base_url=self.node.url, timeout=30,
                              headers={"Authorization": f"Bearer {token_for(self.node, username)}"})
        self.clients.append(client)
        return client, client.get("/api/v1/accounts/verify_credentials").json()["id"]


@pytest.fixture()
def people(ede: Node) -> Iterator[People]:
    made = People(ede)
    yield made
    for client in made.clients:
        client.close()


def post(client: httpx.Client, text: str, **fields: str) -> str:
    response = client.post("/api/v1/statuses", data={"status": text, **fields})
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def relationship(client: httpx.Client, other_id: str) -> dict[str, object]:
    found = client.get("/api/v1/accounts/relationships", params={"id[]": other_id}).json()
    assert len(found) == 1
    return found[0]


def ids(statuses: list[dict[str, object]]) -> set[str]:
    return {str(s["id"]) for s in statuses} | {str(s["reblog"]["id"]) for s in statuses if s.get("reblog")}  # type: ignore[index]


def notified_by(client: httpx.Client, account_id: str) -> list[str]:
    return [n["type"] for n in client.get("/api/v1/notifications").json() if n["account"]["id"] == account_id]


def test_mute_hides_posts_boosts_and_notifications_but_not_the_profile(people: People) -> None:
    mia, mia_id = people("mia")
    bas, bas_id = people("bas")
    cor, cor_id = people("cor")
    assert mia.post(f"/api/v1/accounts/{bas_id}/follow").status_code == 200
    assert mia.post(f"/api/v1/accounts/{cor_id}/follow").status_code == 200
    spoken = post(bas, "Hallo @mia, een bericht van Bas")
    boosted = post(mia, "Mia's eigen bericht")
    cor_post = post(cor, "Cor schrijft iets")
    assert bas.post(f"/api/v1/statuses/{cor_post}/reblog").status_code == 200
    assert spoken in ids(mia.get("/api/v1/timelines/home").json())
    assert "mention" in notified_by(mia, bas_id)

    muted = mia.post(f"/api/v1/accounts/{bas_id}/mute")
    assert muted.status_code == 200
    assert muted.json()["muting"] is True and muted.json()["muting_notifications"] is True
    assert muted.json()["following"] is True  # a mute leaves the follow alone

    # Cor (followed) answers Bas, and names him in another post: those leave Mia's home too, as on Mastodon.
    answer = post(cor, "Eens met je, Bas", in_reply_to_id=spoken)
    naming = post(cor, "@bas heeft gelijk")
    home = mia.get("/api/v1/timelines/home").json()
    assert spoken not in ids(home)
    assert not any(s["account"]["id"] == bas_id for s in home), "a boost by the muted account is hidden too"
    assert answer not in ids(home) and naming not in ids(home)
    assert cor_post in ids(home)  # Cor's own post stays
    assert boosted in ids(home)
    assert spoken not in ids(mia.get("/api/v1/timelines/public").json())
    assert notified_by(mia, bas_id) == []
    # Mastodon still shows a muted account's posts when one visits its profile.
    assert spoken in ids(mia.get(f"/api/v1/accounts/{bas_id}/statuses").json())
    # Bas is not told: his side of the relationship says nothing.
    assert relationship(bas, mia_id)["blocked_by"] is False
    assert mia.get("/api/v1/mutes").json()[0]["id"] == bas_id

    # Muting again without notifications: the posts stay hidden, the notifications come back.
    again = mia.post(f"/api/v1/accounts/{bas_id}/mute", data={"notifications": "false"}).json()
    assert again["muting"] is True and again["muting_notifications"] is False
    assert "mention" in notified_by(mia, bas_id)
    assert spoken not in ids(mia.get("/api/v1/timelines/home").json())

    assert mia.post(f"/api/v1/accounts/{bas_id}/unmute").json()["muting"] is False
    home = ids(mia.get("/api/v1/timelines/home").json())
    assert spoken in home and answer in home and naming in home
    assert mia.get("/api/v1/mutes").json() == []


def test_a_mute_with_a_duration_ends_by_itself(people: People) -> None:
    fien, _ = people("fien")
    _, gijs_id = people("gijs")
    answer = fien.post(f"/api/v1/accounts/{gijs_id}/mute", data={"duration": "2"}).json()
    assert answer["muting"] is True
    listed = fien.get("/api/v1/mutes").json()
    assert listed[0]["id"] == gijs_id and listed[0]["mute_expires_at"] is not None
    eventually(lambda: relationship(fien, gijs_id)["muting"], lambda muting: muting is False, timeout=15,
               what="the mute's end")
    assert fien.get("/api/v1/mutes").json() == []
    refused = fien.post(f"/api/v1/accounts/{gijs_id}/mute", data={"duration": "-5"})
    assert refused.status_code == 422
    assert relationship(fien, gijs_id)["muting"] is False  # nothing stored from a refused request


def test_block_hides_both_ways_ends_follows_and_refuses_interaction(ede: Node, people: People) -> None:
    ria, ria_id = people("ria")
    sem, sem_id = people("sem")
    assert ria.post(f"/api/v1/accounts/{sem_id}/follow").json()["following"] is True
    assert sem.post(f"/api/v1/accounts/{ria_id}/follow").json()["following"] is True
    ria_post = post(ria, "Ria zegt iets")
    sem_post = post(sem, "Sem zegt iets")
    assert sem.post(f"/api/v1/statuses/{ria_post}/favourite").status_code == 200
    assert "favourite" in notified_by(ria, sem_id)

    blocked = ria.post(f"/api/v1/accounts/{sem_id}/block")
    assert blocked.status_code == 200
    assert blocked.json()["blocking"] is True
    assert blocked.json()["following"] is False and blocked.json()["followed_by"] is False
    assert relationship(sem, ria_id)["blocked_by"] is True
    assert scalar(ede.database_url, "SELECT count(*) FROM follows WHERE (follower_id = $1 AND followed_id = $2) "
                  "OR (follower_id = $2 AND followed_id = $1)", int(ria_id), int(sem_id)) == 0
    assert notified_by(ria, sem_id) == []  # what the blocked account caused is gone

    # Both ways: neither sees the other's posts in timelines, threads or on the profile.
    for viewer, other_post, other_id in ((ria, sem_post, sem_id), (sem, ria_post, ria_id)):
        assert other_post not in ids(viewer.get("/api/v1/timelines/public").json())
        assert other_post not in ids(viewer.get("/api/v1/timelines/home").json())
        assert viewer.get(f"/api/v1/accounts/{other_id}/statuses").json() == []
    assert sem.get(f"/api/v1/statuses/{ria_post}").status_code == 404

    # The blocked account can no longer follow, like, boost, reply to or notify the blocker.
    refused = sem.post(f"/api/v1/accounts/{ria_id}/follow")
    assert refused.status_code == 403
    assert ria.post(f"/api/v1/accounts/{sem_id}/follow").status_code == 403  # unblock first
    assert sem.post(f"/api/v1/statuses/{ria_post}/favourite").status_code == 404
    assert sem.post(f"/api/v1/statuses/{ria_post}/reblog").status_code == 404
    reply = sem.post("/api/v1/statuses", data={"status": "@ria toch nog", "in_reply_to_id": ria_post})
    assert reply.status_code == 404
    post(sem, "Hallo @ria, hoor je me?")
    assert notified_by(ria, sem_id) == []
    assert scalar(ede.database_url, "SELECT count(*) FROM notifications WHERE account_id = $1 AND from_account_id = $2",
                  int(ria_id), int(sem_id)) == 0

    assert [a["id"] for a in ria.get("/api/v1/blocks").json()] == [sem_id]
    lifted = ria.post(f"/api/v1/accounts/{sem_id}/unblock").json()
    assert lifted["blocking"] is False and lifted["following"] is False  # ended follows stay ended
    assert relationship(sem, ria_id)["blocked_by"] is False
    assert sem_post in ids(ria.get("/api/v1/timelines/public").json())
    assert sem.post(f"/api/v1/accounts/{ria_id}/follow").json()["following"] is True


def test_mutes_and_blocks_lists_page_with_link_headers(people: People) -> None:
    tom, _ = people("tom")
    targets = [people(f"doel{i}")[1] for i in range(3)]
    for target in targets:
        assert tom.post(f"/api/v1/accounts/{target}/block").status_code == 200
    first = tom.get("/api/v1/blocks", params={"limit": 2})
    assert [a["id"] for a in first.json()] == targets[::-1][:2]
    next_link = first.links["next"]["url"]
    rest = tom.get(next_link)
    assert [a["id"] for a in rest.json()] == [targets[0]]
    assert "next" not in rest.links

    muted = [people(f"stil{i}")[1] for i in range(3)]
    for target in muted:
        assert tom.post(f"/api/v1/accounts/{target}/mute").status_code == 200
    first = tom.get("/api/v1/mutes", params={"limit": 2})
    assert [a["id"] for a in first.json()] == muted[::-1][:2]
    rest = tom.get(first.links["next"]["url"])
    assert [a["id"] for a in rest.json()] == [muted[0]]
    assert "next" not in rest.links


def test_remove_follower(people: People) -> None:
    ulla, ulla_id = people("ulla")
    vic, vic_id = people("vic")
    assert vic.post(f"/api/v1/accounts/{ulla_id}/follow").json()["following"] is True
    answer = ulla.post(f"/api/v1/accounts/{vic_id}/remove_from_followers")
    assert answer.status_code == 200 and answer.json()["followed_by"] is False
    assert relationship(vic, ulla_id)["following"] is False
    assert ulla.get(f"/api/v1/accounts/{ulla_id}/followers").json() == []
    assert vic.post(f"/api/v1/accounts/{ulla_id}/follow").json()["following"] is True  # no block: may follow again


def test_owner_hides_a_reply_from_the_thread(ede: Node, people: People) -> None:
    official, official_id = people("wethouder", org="gemeente-ede")
    troll, _ = people("trol")
    citizen, _ = people("inwoner")
    root = post(official, "Inspraakavond over het nieuwe plan")
    rude = post(troll, "@wethouder onzin", in_reply_to_id=root)
    below = post(citizen, "@trol doe normaal", in_reply_to_id=rude)
    kind = post(citizen, "@wethouder goed idee", in_reply_to_id=root)

    def thread(client: httpx.Client | None) -> list[dict[str, object]]:
        getter = client.get if client else httpx.Client(base_url=ede.url).get
        return getter(f"/api/v1/statuses/{root}/context").json()["descendants"]

    assert [s["id"] for s in thread(citizen)] == [rude, below, kind]
    assert citizen.post(f"/api/v1/statuses/{rude}/hide_reply").status_code == 403  # not the thread's author
    assert official.post(f"/api/v1/statuses/{root}/hide_reply").status_code == 422  # not a reply
    assert troll.post(f"/api/v1/statuses/{rude}/hide_reply").status_code == 403

    hidden = official.post(f"/api/v1/statuses/{rude}/hide_reply")
    assert hidden.status_code == 200 and hidden.json()["hidden_reply"] is True
    # Gone from the thread, with the replies below it, for everyone but the thread's author and the replier.
    assert [s["id"] for s in thread(citizen)] == [kind]
    assert [s["id"] for s in thread(None)] == [kind]
    owner_view = thread(official)
    assert [(s["id"], s["hidden_reply"]) for s in owner_view] == [(rude, True), (below, False), (kind, False)]
    assert (rude, True) in [(s["id"], s["hidden_reply"]) for s in thread(troll)]
    assert official.get(f"/api/v1/statuses/{root}").json()["replies_count"] == 1
    # The reply itself stays: on its own page and on its author's profile.
    assert citizen.get(f"/api/v1/statuses/{rude}").status_code == 200
    assert rude in ids(citizen.get(f"/api/v1/accounts/{troll.get('/api/v1/accounts/verify_credentials').json()['id']}"
                                   f"/statuses").json())
    audit = fetch(ede.database_url, "SELECT action, actor_account_id FROM audit_log WHERE subject_type = 'post' "
                  "AND subject_id = $1 ORDER BY id", rude)
    assert audit == [{"action": "reply.hidden", "actor_account_id": int(official_id)}]

    # The thread page: nothing of the hidden reply for a visitor; the owner sees it marked, with a button.
    visitor_page = WebClient(ede.url).get(f"/@wethouder/{root}")
    assert "onzin" not in visitor_page.text and "goed idee" in visitor_page.text
    owner = WebClient(ede.url)
    assert owner.login("wethouder", factories.PASSWORD).status_code == 303
    owner_page = owner.get(f"/@wethouder/{root}")
    assert "onzin" in owner_page.text and f'action="/posts/{rude}/unhide_reply"' in owner_page.text
    assert f'action="/posts/{kind}/hide_reply"' in owner_page.text

    # Unhide through the page: back in the thread for everyone.
    assert owner.post(f"/posts/{rude}/unhide_reply", {"next": f"/@wethouder/{root}"}).status_code == 303
    assert [s["id"] for s in thread(None)] == [rude, below, kind]
    assert "onzin" in WebClient(ede.url).get(f"/@wethouder/{root}").text
    # And hide through the page.
    assert owner.post(f"/posts/{kind}/hide_reply", {"next": f"/@wethouder/{root}"}).status_code == 303
    assert [s["id"] for s in thread(None)] == [rude, below]
    assert scalar(ede.database_url, "SELECT count(*) FROM audit_log WHERE subject_id = $1", rude) == 2
    owner.close()


def test_pages_mute_block_with_confirmation_and_remove_follower(ede: Node, people: People) -> None:
    _, _ = people("web_anna")
    piet_api, piet_id = people("web_piet")
    web = WebClient(ede.url)  # pages in the account's language: Dutch
    assert web.login("web_anna", factories.PASSWORD).status_code == 303
    anna_id = str(scalar(ede.database_url, "SELECT id FROM accounts WHERE username = 'web_anna'"))

    profile = web.get("/@web_piet")
    assert 'action="/@web_piet/mute"' in profile.text and 'href="/@web_piet/block"' in profile.text
    assert web.post("/@web_piet/mute", {"notifications": "on", "duration": "86400"}).status_code == 303
    assert "Genegeerd tot" in web.get("/@web_piet").text
    mutes = web.get("/settings/mutes")
    assert mutes.status_code == 200 and "@web_piet" in mutes.text
    assert web.post("/@web_piet/unmute", {"next": "/settings/mutes"}).headers["location"] == "/settings/mutes"
    assert "@web_piet" not in web.get("/settings/mutes").text

    # Block asks first, on a page that works without JavaScript; the GET changes nothing.
    confirm = web.get("/@web_piet/block")
    assert confirm.status_code == 200 and "blokkeren?" in confirm.text and 'action="/@web_piet/block"' in confirm.text
    assert relationship(piet_api, anna_id)["blocked_by"] is False
    assert web.post("/@web_piet/block").status_code == 303
    assert relationship(piet_api, anna_id)["blocked_by"] is True
    blocked_profile = web.get("/@web_piet").text
    assert 'action="/@web_piet/unblock"' in blocked_profile and 'action="/@web_piet/follow"' not in blocked_profile
    assert "@web_piet" in web.get("/settings/blocks").text
    assert web.post("/@web_piet/unblock").status_code == 303
    assert relationship(piet_api, anna_id)["blocked_by"] is False

    # Remove a follower from the own followers list.
    assert piet_api.post(f"/api/v1/accounts/{anna_id}/follow").json()["following"] is True
    followers = web.get("/settings/followers")
    assert f'action="/settings/followers/{piet_id}/remove"' in followers.text
    assert web.post(f"/settings/followers/{piet_id}/remove").status_code == 303
    assert relationship(piet_api, anna_id)["following"] is False
    assert "@web_piet" not in web.get("/settings/followers").text
    # A form without the CSRF token changes nothing.
    assert web.post("/@web_piet/block", csrf=False).status_code == 403
    assert relationship(piet_api, anna_id)["blocked_by"] is False
    web.close()
