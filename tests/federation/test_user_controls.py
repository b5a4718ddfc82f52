"""A person's own controls across two real nodes: a block sends Block (and Undo on unblock) and ends the follows at
the other server too; removing a follower sends Reject; a blocked remote actor's Follow, Like and Boost are refused;
a reply hidden from a thread here stays on its own server."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from typing import Any

import httpx

from federation import signatures
from tests import factories
from tests.federation.conftest import api
from tests.helpers.database import scalar
from tests.helpers.nodes import Node
from tests.helpers.polling import eventually


def remote_id(client: httpx.Client, handle: str) -> str:
    """The id a node gives an account of the other node, after looking it up there (as an app's search does)."""
    found = client.get("/api/v2/search", params={"q": handle, "resolve": "true", "type": "accounts"}).json()
    assert found["accounts"], f"{handle} was not found"
    return str(found["accounts"][0]["id"])


def relationship(client: httpx.Client, other_id: str) -> dict[str, Any]:
    return client.get("/api/v1/accounts/relationships", params={"id[]": other_id}).json()[0]


def follow_and_wait(client: httpx.Client, other_id: str, what: str) -> None:
    assert client.post(f"/api/v1/accounts/{other_id}/follow").status_code == 200
    eventually(lambda: relationship(client, other_id), lambda r: r["following"], what=what)


def followed_official(gemeente: Node, burger: Node, official: str, citizen: str
                      ) -> tuple[httpx.Client, httpx.Client, str]:
    """An official at gemeente followed by a citizen at burger: their API clients, and the official's id at burger."""
    factories.person(gemeente, official, org="gemeente-ede")
    factories.person(burger, citizen)
    official_api, citizen_api = api(gemeente, official), api(burger, citizen)
    official_there = remote_id(citizen_api, f"@{official}@{gemeente.domain}")
    follow_and_wait(citizen_api, official_there, f"{citizen}'s follow accepted")
    return official_api, citizen_api, official_there


def arrived(citizen: httpx.Client, post: dict[str, Any]) -> str:
    """The id at the citizen's node of a post that reached their home timeline."""
    home = eventually(lambda: citizen.get("/api/v1/timelines/home").json(),
                      lambda tl: any(s["uri"] == post["uri"] for s in tl), what="the post at the other node")
    return str(next(s["id"] for s in home if s["uri"] == post["uri"]))


def received(node: Node, kind: str, actor: str, inner: str | None = None) -> int:
    """How many activities of this type from this actor the node's inbox took in and handled."""
    sql = ("SELECT count(*) FROM inbox_items WHERE activity->>'type' = $1 AND actor_uri = $2 AND state = 'done' "
           "AND ($3::text IS NULL OR activity->'object'->>'type' = $3)")
    return int(scalar(node.database_url, sql, kind, actor, inner))


def follows_between(node: Node, a: str, b: str) -> int:
    return int(scalar(node.database_url, "SELECT count(*) FROM follows f JOIN accounts x ON x.id = f.follower_id "
                      "JOIN accounts y ON y.id = f.followed_id WHERE (x.username, y.username) IN (($1, $2), ($2, $1))",
                      a, b))


def test_block_sends_block_and_ends_follows_there_unblock_sends_undo(gemeente: Node, burger: Node) -> None:
    blokker, volger, blokker_there = followed_official(gemeente, burger, "blokker", "volger")
    volger_here = remote_id(blokker, f"@volger@{burger.domain}")
    follow_and_wait(blokker, volger_here, "blokker's follow accepted")
    copy_id = arrived(volger, blokker.post("/api/v1/statuses", data={"status": "Alleen voor wie ons volgt"}).json())

    answer = blokker.post(f"/api/v1/accounts/{volger_here}/block").json()
    assert answer["blocking"] is True and answer["following"] is False and answer["followed_by"] is False

    actor = f"{gemeente.url}/users/blokker"
    eventually(lambda: received(burger, "Block", actor), lambda n: n == 1, what="the Block at volger's node")
    seen = eventually(lambda: relationship(volger, blokker_there),
                      lambda r: not r["following"] and not r["followed_by"] and r["blocked_by"],
                      what="the follows ended at volger's node")
    assert seen["blocking"] is False  # volger did not block anyone
    assert follows_between(burger, "volger", "blokker") == 0
    assert volger.get(f"/api/v1/statuses/{copy_id}").status_code == 404  # the blocker's posts are gone for him
    assert volger.post(f"/api/v1/accounts/{blokker_there}/follow").status_code == 403

    assert blokker.post(f"/api/v1/accounts/{volger_here}/unblock").json()["blocking"] is False
    eventually(lambda: received(burger, "Undo", actor, "Block"), lambda n: n == 1, what="the Undo at volger's node")
    eventually(lambda: relationship(volger, blokker_there), lambda r: r["blocked_by"] is False,
               what="the block lifted at volger's node")
    assert follows_between(burger, "volger", "blokker") == 0  # ended follows stay ended
    assert volger.get(f"/api/v1/statuses/{copy_id}").status_code == 200


def test_remove_follower_sends_reject_and_the_follow_is_gone_there(gemeente: Node, burger: Node) -> None:
    wethouder, fan, wethouder_there = followed_official(gemeente, burger, "wethouder2", "fan")
    fan_here = eventually(lambda: wethouder.get(
        f"/api/v1/accounts/{wethouder.get('/api/v1/accounts/verify_credentials').json()['id']}/followers").json(),
        bool, what="fan among the followers")[0]["id"]

    answer = wethouder.post(f"/api/v1/accounts/{fan_here}/remove_from_followers").json()
    assert answer["followed_by"] is False
    eventually(lambda: received(burger, "Reject", f"{gemeente.url}/users/wethouder2"), lambda n: n == 1,
               what="the Reject at fan's node")
    eventually(lambda: relationship(fan, wethouder_there), lambda r: not r["following"] and not r["requested"],
               what="the follow gone at fan's node")
    assert follows_between(burger, "fan", "wethouder2") == 0
    assert follows_between(gemeente, "fan", "wethouder2") == 0
    assert relationship(fan, wethouder_there)["blocked_by"] is False  # removed, not blocked: may follow again
    follow_and_wait(fan, wethouder_there, "fan's new follow accepted")


def _signed_post(gemeente: Node, burger: Node, username: str, activity: dict[str, Any]) -> int:
    """Deliver an activity to gemeente's inbox as a burger account would, signed with its own key."""
    assert httpx.get(f"{burger.url}/users/{username}", headers={"Accept": "application/activity+json"}
                     ).status_code == 200  # the key exists
    pem = scalar(burger.database_url, "SELECT k.private_key_pem FROM actor_keys k JOIN accounts a "
                 "ON a.id = k.account_id WHERE a.username = $1 AND a.domain IS NULL", username)
    url = f"{gemeente.url}/inbox"
    body = json.dumps(activity).encode()
    headers = {"Content-Type": "application/activity+json"}
    headers.update(signatures.sign_request_cavage("POST", url, headers, body, signatures.load_private_key(pem),
                                                  f"{burger.url}/users/{username}#main-key",
                                                  datetime.now(UTC)))
    return httpx.post(url, content=body, headers=headers).status_code


def _activity(burger: Node, username: str, kind: str, obj: Any) -> dict[str, Any]:
    actor = f"{burger.url}/users/{username}"
    return {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{actor}#test-{secrets.token_hex(6)}",
            "type": kind, "actor": actor, "object": obj}


def test_a_blocked_remote_actor_cannot_follow_like_boost_or_notify(gemeente: Node, burger: Node) -> None:
    factories.person(gemeente, "afwijzer", org="gemeente-ede")
    factories.person(burger, "lastpak")
    factories.person(burger, "buur")
    afwijzer = api(gemeente, "afwijzer")
    lastpak_here = remote_id(afwijzer, f"@lastpak@{burger.domain}")
    remote_id(afwijzer, f"@buur@{burger.domain}")
    assert afwijzer.post(f"/api/v1/accounts/{lastpak_here}/block").json()["blocking"] is True
    post = afwijzer.post("/api/v1/statuses", data={"status": "Openbare mededeling"}).json()
    target = f"{gemeente.url}/users/afwijzer"

    # The same Like and Announce from a neighbour who is not blocked count: the refusals below are the block's doing.
    assert _signed_post(gemeente, burger, "buur", _activity(burger, "buur", "Like", post["uri"])) == 202
    eventually(lambda: afwijzer.get(f"/api/v1/statuses/{post['id']}").json()["favourites_count"], lambda n: n == 1,
               what="buur's like")

    lastpak = f"{burger.url}/users/lastpak"
    reply = {"id": f"{lastpak}/statuses/{secrets.token_hex(6)}", "type": "Note", "attributedTo": lastpak,
             "inReplyTo": post["uri"], "content": "<p>@afwijzer luister nou</p>", "to": [target],
             "tag": [{"type": "Mention", "href": target, "name": f"@afwijzer@{gemeente.domain}"}],
             "published": datetime.now(UTC).isoformat()}
    create = _activity(burger, "lastpak", "Create", reply) | {"id": f"{reply['id']}/activity", "to": [target]}
    follow = _activity(burger, "lastpak", "Follow", target)
    for activity in (follow, _activity(burger, "lastpak", "Like", post["uri"]),
                     _activity(burger, "lastpak", "Announce", post["uri"]), create):
        assert _signed_post(gemeente, burger, "lastpak", activity) == 202
        eventually(lambda a=activity: scalar(gemeente.database_url, "SELECT state FROM inbox_items "
                                             "WHERE activity_uri = $1", a["id"]), lambda s: s == "done",
                   what=f"lastpak's {activity['type']} handled")
    assert follows_between(gemeente, "lastpak", "afwijzer") == 0
    status = afwijzer.get(f"/api/v1/statuses/{post['id']}").json()
    assert status["favourites_count"] == 1 and status["reblogs_count"] == 0
    eventually(lambda: received(burger, "Reject", target), lambda n: n == 1, what="the Reject of lastpak's Follow")
    # The reply is kept (others may see the thread), but it notifies no one who blocks its author.
    assert scalar(gemeente.database_url, "SELECT count(*) FROM posts WHERE uri = $1", reply["id"]) == 1
    notified = {n["account"]["acct"] for n in afwijzer.get("/api/v1/notifications").json()}
    assert f"buur@{burger.domain}" in notified and f"lastpak@{burger.domain}" not in notified


def test_a_remote_reply_hidden_here_stays_on_its_own_server(gemeente: Node, burger: Node) -> None:
    raadslid, reageerder, _ = followed_official(gemeente, burger, "raadslid", "reageerder")
    post = raadslid.post("/api/v1/statuses", data={"status": "Vragen over de begroting?"}).json()
    copy_id = arrived(reageerder, post)
    reply = reageerder.post("/api/v1/statuses", data={"status": f"@raadslid@{gemeente.domain} Wat een onzin",
                                                      "in_reply_to_id": copy_id}).json()
    here = eventually(lambda: raadslid.get(f"/api/v1/statuses/{post['id']}/context").json()["descendants"],
                      lambda d: len(d) == 1, what="the reply in the thread at gemeente")[0]
    assert here["uri"] == reply["uri"]

    events_before = scalar(gemeente.database_url, "SELECT coalesce(max(id), 0) FROM outbox_events")
    hidden = raadslid.post(f"/api/v1/statuses/{here['id']}/hide_reply")
    assert hidden.status_code == 200 and hidden.json()["hidden_reply"] is True
    # Hiding is this node's own view: no activity is recorded for other servers.
    assert scalar(gemeente.database_url, "SELECT count(*) FROM outbox_events WHERE id > $1", events_before) == 0
    visitor = httpx.get(f"{gemeente.url}/api/v1/statuses/{post['id']}/context").json()
    assert visitor["descendants"] == []
    assert "Wat een onzin" not in httpx.get(f"{gemeente.url}/@raadslid/{post['id']}").text
    owner = raadslid.get(f"/api/v1/statuses/{post['id']}/context").json()["descendants"]
    assert [(s["id"], s["hidden_reply"]) for s in owner] == [(here["id"], True)]
    # The reply is untouched on its own server, in the thread there too.
    assert reageerder.get(f"/api/v1/statuses/{reply['id']}").status_code == 200
    there = reageerder.get(f"/api/v1/statuses/{copy_id}/context").json()["descendants"]
    assert [s["id"] for s in there] == [reply["id"]]
