"""An organisation's checks before a post leaves the node: block, warn and confirm, hold and review, audit."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from tests import factories
from tests.helpers.database import fetch, scalar
from tests.helpers.nodes import Node
from tests.helpers.web import WebClient

VALID_BSN = "111222333"  # passes the elfproef


@pytest.fixture(scope="module", autouse=True)
def ede(node: Node) -> None:
    factories.organisation(node)
    factories.person(node, "anna", org="gemeente-ede")
    factories.person(node, "rita", org="gemeente-ede", role="reviewer")
    factories.person(node, "bert")
    for check, action, options in (
            ("personal-data.bsn", "block", []),
            ("deliberation", "warn", ["topics=" + json.dumps([{"terms": ["parkeerbeleid"]}])]),
            ("four-eyes", "hold", [])):
        result = node.cli("policy", "set", "--org", "gemeente-ede", "--check", check, "--action", action,
                          *[arg for option in options for arg in ("--param", option)])
        assert result.code == 0, result.err


@pytest.fixture()
def anna(node: Node) -> Iterator[httpx.Client]:
    token = node.cli("token", "create", "--username", "anna", "--scopes", "read write").out.strip()
    with httpx.Client(base_url=node.url, headers={"Authorization": f"Bearer {token}"}) as client:
        yield client


def count_posts(node: Node) -> int:
    return int(scalar(node.database_url, "SELECT count(*) FROM posts"))


def test_a_bsn_is_blocked_with_the_reason_and_nothing_is_stored(node: Node, anna: httpx.Client) -> None:
    before = count_posts(node)
    response = anna.post("/api/v1/statuses", json={"status": f"Klant met BSN {VALID_BSN} belde", "voice": "personal"})
    assert response.status_code == 422
    body = response.json()
    assert body["policy"]["outcome"] == "block" and body["error"].startswith("Niet gepubliceerd:")  # anna: Dutch
    assert VALID_BSN not in body["error"]  # the number is not echoed back
    assert count_posts(node) == before
    assert scalar(node.database_url, "SELECT count(*) FROM audit_log WHERE action = 'policy.block'") >= 1
    not_a_bsn = anna.post("/api/v1/statuses", json={"status": "Bel ons op nummer 123456788", "voice": "personal"})
    assert not_a_bsn.status_code == 200


def test_a_warning_needs_confirmation(node: Node, anna: httpx.Client) -> None:
    first = anna.post("/api/v1/statuses", json={"status": "Over het parkeerbeleid straks meer", "voice": "personal"})
    assert first.status_code == 422 and first.json()["policy"]["requires_confirmation"] is True
    confirmed = anna.post("/api/v1/statuses", json={"status": "Over het parkeerbeleid straks meer",
                                                    "voice": "personal", "confirm_policy": True})
    assert confirmed.status_code == 200
    entry = fetch(node.database_url, "SELECT detail FROM audit_log WHERE action = 'policy.checked' "
                  "AND subject_id = $1", confirmed.json()["id"])
    assert entry and json.loads(entry[0]["detail"])["confirmed"] is True


def test_official_posts_wait_for_a_second_pair_of_eyes(node: Node, anna: httpx.Client) -> None:
    held = anna.post("/api/v1/statuses", json={"status": "De markt verhuist naar het Museumplein", "voice": "official"})
    assert held.status_code == 422 and held.json()["policy"]["outcome"] == "hold"
    post_id = held.json()["policy"]["status_id"]
    assert scalar(node.database_url, "SELECT state FROM posts WHERE id = $1", int(post_id)) == "held"
    assert httpx.get(f"{node.url}/api/v1/statuses/{post_id}").status_code == 404  # not public
    assert scalar(node.database_url, "SELECT count(*) FROM outbox_events WHERE subject_id = $1",
                  int(post_id)) == 0  # not federated
    assert anna.get(f"/api/v1/statuses/{post_id}").status_code == 200  # the author sees it

    own = WebClient(node.url, language="en")
    own.login("anna", factories.PASSWORD)
    assert own.get("/review").status_code == 403  # an official is no reviewer
    reviewer = WebClient(node.url, language="en")
    reviewer.login("rita", factories.PASSWORD)
    queue = reviewer.get("/review")
    assert queue.status_code == 200, queue.text[-3000:]
    assert "De markt verhuist" in queue.text and "Goedkeuren en publiceren" in queue.text, queue.text[-3000:]
    assert reviewer.post(f"/review/{post_id}/approve").status_code == 422  # the form names the version read
    assert reviewer.review(post_id, "approve").status_code == 303
    assert scalar(node.database_url, "SELECT state FROM posts WHERE id = $1", int(post_id)) == "published"
    assert scalar(node.database_url, "SELECT count(*) FROM outbox_events WHERE subject_id = $1 "
                  "AND kind = 'post.created'", int(post_id)) == 1
    assert httpx.get(f"{node.url}/api/v1/statuses/{post_id}").status_code == 200
    actions = [r["action"] for r in fetch(node.database_url, "SELECT action FROM audit_log WHERE subject_id = $1 "
                                          "ORDER BY id", post_id)]
    assert actions == ["policy.held", "review.approved"]


def test_reviewer_rejects_with_a_reason_and_authors_cannot_review_themselves(node: Node, anna: httpx.Client) -> None:
    post_id = anna.post("/api/v1/statuses", json={"status": "Ongelukkig geformuleerd", "voice": "official"}
                        ).json()["policy"]["status_id"]
    reviewer = WebClient(node.url, language="en")
    reviewer.login("rita", factories.PASSWORD)
    assert reviewer.review(post_id, "reject", "").status_code == 422
    assert reviewer.review(post_id, "changes", "Graag zakelijker").status_code == 303
    assert fetch(node.database_url, "SELECT state, review_note FROM posts WHERE id = $1", int(post_id)) == [
        {"state": "rejected", "review_note": "Graag zakelijker"}]
    author = WebClient(node.url, language="en")
    author.login("anna", factories.PASSWORD)
    page = author.get(f"/@anna/{post_id}").text
    assert "niet goedgekeurd" in page and "Graag zakelijker" in page  # anna reads Dutch
    assert httpx.get(f"{node.url}/api/v1/statuses/{post_id}").status_code == 404


def test_the_web_composer_asks_for_confirmation_without_javascript(node: Node) -> None:
    author = WebClient(node.url, language="en")
    author.login("anna", factories.PASSWORD)
    text = "Mijn mening over het parkeerbeleid"
    asked = author.compose(text, voice="personal")
    assert asked.status_code == 422 and 'name="confirm_policy"' in asked.text
    assert author.compose(text, voice="personal", confirm_policy="yes").status_code == 303


def test_checks_are_off_for_other_organisations_and_bad_settings_are_refused(node: Node) -> None:
    bert = WebClient(node.url)
    bert.login("bert", factories.PASSWORD)
    assert bert.compose(f"Mijn BSN is {VALID_BSN}", voice="personal").status_code == 303  # no organisation
    refused = node.cli("policy", "set", "--org", "gemeente-ede", "--check", "bestaat-niet", "--action", "warn")
    assert refused.code == 1 and "unknown check" in refused.err


def test_organisation_admins_read_filter_and_export_the_audit_log(node: Node, anna: httpx.Client) -> None:
    anna.post("/api/v1/statuses", json={"status": "Weer een officieel bericht", "voice": "official"})
    factories.person(node, "kees", org="gemeente-ede", role="org-admin")
    admin = WebClient(node.url, language="en")
    admin.login("kees", factories.PASSWORD)
    page = admin.get("/orgs/gemeente-ede/audit", params={"action": "policy."})
    assert page.status_code == 200 and "policy.held" in page.text and "policy.setting" in page.text
    exported = admin.get("/orgs/gemeente-ede/audit", params={"format": "json", "action": "policy.held"}).json()
    assert exported and {e["action"] for e in exported} == {"policy.held"} and exported[0]["actor"] == "anna"
    assert exported[0]["detail"]["outcome"] == "hold"
    table = admin.get("/orgs/gemeente-ede/audit", params={"format": "csv"})
    assert table.headers["content-type"].startswith("text/csv")
    assert table.text.splitlines()[0] == "id,at,actor,action,subject_type,subject_id,detail"
    assert admin.get("/orgs/gemeente-ede/audit", params={"from": "gisteren"}).status_code == 422
    reviewer = WebClient(node.url)
    reviewer.login("rita", factories.PASSWORD)
    assert reviewer.get("/orgs/gemeente-ede/audit").status_code == 403


def test_preview_shows_findings_before_sending_and_stores_nothing(node: Node, anna: httpx.Client) -> None:
    before = count_posts(node)
    preview = anna.post("/api/v1/ambtenaar/policy/preview", json={"status": f"BSN {VALID_BSN}", "voice": "personal"})
    assert preview.status_code == 200 and preview.json()["outcome"] == "block"
    page = WebClient(node.url, language="en")
    page.login("anna", factories.PASSWORD)
    inline = page.post("/compose/preview", {"text": "Over het parkeerbeleid", "voice": "personal"}).json()
    assert inline["outcome"] == "warn" and inline["findings"][0]["action"] == "warn"
    assert count_posts(node) == before



def test_reviewers_decide_from_the_cli(node: Node, anna: httpx.Client) -> None:
    post_id = anna.post("/api/v1/statuses", json={"status": "Via de opdrachtregel", "voice": "official"}
                        ).json()["policy"]["status_id"]
    listed = json.loads(node.cli("review", "list", "--org", "gemeente-ede", "--json").out)
    assert post_id in [row["id"] for row in listed]
    assert node.cli("review", "approve", post_id, "--by", "anna").code == 1  # not her own post
    assert node.cli("review", "reject", post_id, "--by", "rita").code == 1  # a rejection needs a reason
    assert node.cli("review", "approve", post_id, "--by", "rita").code == 0
    assert scalar(node.database_url, "SELECT state FROM posts WHERE id = $1", int(post_id)) == "published"
    assert node.cli("review", "approve", post_id, "--by", "rita").code == 1  # decided once
    listed = node.cli("policy", "list", "--org", "gemeente-ede", "--json")
    assert {r["check"]: r["action"] for r in json.loads(listed.out)}["four-eyes"] == "hold"


def test_organisation_admins_switch_checks_on_the_web(node: Node) -> None:
    factories.person(node, "beheerder", org="gemeente-ede", role="org-admin")
    admin = WebClient(node.url, language="en")
    admin.login("beheerder", factories.PASSWORD)
    page = admin.get("/orgs/gemeente-ede/policy")
    assert page.status_code == 200 and "link-denylist" in page.text
    bad = admin.post("/orgs/gemeente-ede/policy", {"action-official-rate": "hold",
                                                   "official-rate/max_per_hour": "veel"})
    assert bad.status_code == 422 and "niet geldig" in bad.text  # the admin reads Dutch
    saved = admin.post("/orgs/gemeente-ede/policy", {  # the form's fields: one per parameter, lists one per line
        "action-link-denylist": "block", "link-denylist/domains": "nepnieuws.example\n",
        "action-four-eyes": "hold", "action-personal-data.bsn": "block",
        "action-deliberation": "warn", "deliberation/topics/0/terms": "parkeerbeleid"})
    assert saved.status_code == 303
    listed = {r["check"]: r for r in json.loads(node.cli("policy", "list", "--org", "gemeente-ede", "--json").out)}
    assert listed["link-denylist"]["action"] == "block" and listed["link-denylist"]["options"] == {
        "domains": ["nepnieuws.example"]}
    assert listed["four-eyes"]["action"] == "hold"
    reviewer = WebClient(node.url)
    reviewer.login("rita", factories.PASSWORD)
    assert reviewer.get("/orgs/gemeente-ede/policy").status_code == 403
