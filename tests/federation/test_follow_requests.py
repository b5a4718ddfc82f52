"""An official who approves followers herself: a remote follow waits, then Accept or Reject goes back."""

from __future__ import annotations

from tests import factories
from tests.federation.conftest import api
from tests.helpers.database import scalar
from tests.helpers.nodes import Node
from tests.helpers.polling import eventually


def test_manual_approval_accept_and_reject(gemeente: Node, burger: Node) -> None:
    factories.person(gemeente, "wethouder", org="gemeente-ede")
    factories.person(burger, "kees")
    official = api(gemeente, "wethouder")
    assert official.patch("/api/v1/accounts/update_credentials", data={"locked": "true"}).json()["locked"] is True
    actor = api(gemeente, "wethouder").get(f"{gemeente.url}/users/wethouder",
                                           headers={"Accept": "application/activity+json"}).json()
    assert actor["manuallyApprovesFollowers"] is True

    for username, accept in (("bert", True), ("kees", False)):
        follower = api(burger, username)
        found = follower.get("/api/v2/search", params={"q": f"@wethouder@{gemeente.domain}", "resolve": "true"})
        target_id = found.json()["accounts"][0]["id"]
        assert follower.post(f"/api/v1/accounts/{target_id}/follow").json()["requested"] is True
        waiting = eventually(lambda: official.get("/api/v1/follow_requests").json(), bool,
                             what=f"{username}'s follow request")
        assert waiting[0]["acct"] == f"{username}@{burger.domain}"
        assert any(n["type"] == "follow_request" for n in official.get("/api/v1/notifications").json())
        decision = "authorize" if accept else "reject"
        assert official.post(f"/api/v1/follow_requests/{waiting[0]['id']}/{decision}").status_code == 200
        if accept:
            eventually(lambda: follower.get("/api/v1/accounts/relationships", params={"id[]": target_id}).json()[0],
                       lambda r: r["following"] and not r["requested"], what="the Accept at bert's node")
        else:
            eventually(lambda: follower.get("/api/v1/accounts/relationships", params={"id[]": target_id}).json()[0],
                       lambda r: not r["following"] and not r["requested"], what="the Reject at kees's node")
    assert scalar(gemeente.database_url, "SELECT count(*) FROM follows f JOIN accounts a ON a.id = f.followed_id "
                  "WHERE a.username = 'wethouder'") == 1
    assert official.get("/api/v1/follow_requests").json() == []
