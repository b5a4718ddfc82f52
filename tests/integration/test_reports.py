"""Reports and moderators' decisions on one real node: reporting through the API and the web form, the queue,
resolve, warn, limit and suspend, with the audit log and refusals that store nothing."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html import unescape

import httpx
import pytest

from tests import factories
from tests.federation.conftest import api as client
from tests.helpers.database import fetch, scalar
from tests.helpers.nodes import Node
from tests.helpers.web import WebClient
from tests.integration.test_mastodon_client import app_for

MODERATOR_PASSWORD = "moderator-wachtwoord"


def account_id(node: Node, username: str) -> int:
    return int(scalar(node.database_url, "SELECT id FROM accounts WHERE username = $1 AND domain IS NULL", username))


def reports_count(node: Node) -> int:
    return int(scalar(node.database_url, "SELECT count(*) FROM reports"))


@pytest.fixture(scope="module", autouse=True)
def people(node: Node) -> None:
    factories.organisation(node)
    factories.person(node, "anna", org="gemeente-ede", display_name="Anna de Vries")
    for name in ("bert", "carla", "dirk", "erik"):
        factories.person(node, name, display_name=name.capitalize())
    assert node.cli("admin", "create", "--username", "mona", "--moderator", "--password-stdin",
                    stdin=MODERATOR_PASSWORD + "\n").code == 0
    assert node.cli("admin", "create", "--username", "beheer", "--password-stdin",
                    stdin=MODERATOR_PASSWORD + "\n").code == 0


@pytest.fixture()
def moderator(node: Node) -> Iterator[WebClient]:
    web = WebClient(node.url, language="en")
    assert web.login("mona", MODERATOR_PASSWORD).status_code == 303
    yield web
    web.close()


def post(node: Node, username: str, text: str, **extra: str) -> dict[str, str]:
    with client(node, username) as api:
        response = api.post("/api/v1/statuses", json={"status": text, "visibility": "public", **extra})
    assert response.status_code == 200, response.text
    return response.json()


def report_id_for(node: Node, target: str) -> int:
    return int(scalar(node.database_url, "SELECT max(id) FROM reports WHERE target_account_id = $1",
                      account_id(node, target)))


def test_a_report_through_the_api_is_stored_with_its_posts_and_audited(node: Node) -> None:
    status = post(node, "anna", "De vuilnisophaal is verplaatst naar woensdag")
    with client(node, "bert") as bert:
        response = bert.post("/api/v1/reports", data={"account_id": status["account"]["id"],
                                                      "status_ids[]": [status["id"]], "category": "spam",
                                                      "comment": "Dit klopt niet", "forward": "true"})
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["target_account"]["id"] == status["account"]["id"] and report["status_ids"] == [status["id"]]
    assert report["category"] == "spam" and report["comment"] == "Dit klopt niet"
    assert report["action_taken"] is False and report["action_taken_at"] is None
    assert report["forwarded"] is False  # anna is on this server: there is nothing to forward
    row = fetch(node.database_url, "SELECT reporter_account_id, state, category FROM reports WHERE id = $1",
                int(report["id"]))[0]
    assert row == {"reporter_account_id": account_id(node, "bert"), "state": "open", "category": "spam"}
    copy = fetch(node.database_url, "SELECT post_id, content_html FROM report_posts WHERE report_id = $1",
                 int(report["id"]))
    assert copy == [{"post_id": int(status["id"]), "content_html": status["content"]}]
    entry = fetch(node.database_url, "SELECT actor_account_id, detail FROM audit_log WHERE action = 'report.created' "
                  "AND subject_type = 'report' AND subject_id = $1", report["id"])
    assert entry and entry[0]["actor_account_id"] == account_id(node, "bert")


def test_bad_reports_are_refused_and_store_nothing(node: Node) -> None:
    anna_post = post(node, "anna", "Spreekuur op dinsdag")
    carla_post = post(node, "carla", "Mijn eigen bericht")
    anna_id = anna_post["account"]["id"]
    before = reports_count(node)
    with client(node, "bert") as bert:
        own = bert.get("/api/v1/accounts/verify_credentials").json()["id"]
        cases = {
            "yourself": ({"account_id": own}, 422),
            "unknown account": ({"account_id": "999999999"}, 404),
            "no account": ({"comment": "x"}, 422),
            "unknown category": ({"account_id": anna_id, "category": "boos"}, 422),
            "long comment": ({"account_id": anna_id, "comment": "x" * 1001}, 422),
            "someone else's post": ({"account_id": anna_id, "status_ids[]": [carla_post["id"]]}, 422),
            "no such post": ({"account_id": anna_id, "status_ids[]": ["12345"]}, 404),
            "rules we do not have": ({"account_id": anna_id, "rule_ids[]": ["1"]}, 422),
        }
        for name, (data, expected) in cases.items():
            response = bert.post("/api/v1/reports", data=data)
            assert response.status_code == expected, (name, response.text)
            assert "error" in response.json()
    anonymous = httpx.post(f"{node.url}/api/v1/reports", data={"account_id": anna_id})
    assert anonymous.status_code == 401
    assert reports_count(node) == before


def test_reporting_from_a_post_with_the_web_form(node: Node) -> None:
    status = post(node, "anna", "Het gemeentehuis is morgen gesloten")
    carla = WebClient(node.url, language="en")
    assert carla.login("carla", factories.PASSWORD).status_code == 303
    page = carla.get(f"/@anna/{status['id']}")
    link = f'/report?account_id={status["account"]["id"]}&amp;post_id={status["id"]}'
    assert link in page.text
    form = carla.get(unescape(link))
    assert form.status_code == 200
    assert re.search(rf'id="post-{status["id"]}" name="post_ids" value="{status["id"]}" checked', form.text)
    before = reports_count(node)
    missing_category = carla.post("/report", {"account_id": status["account"]["id"], "post_ids": status["id"]})
    assert missing_category.status_code == 422 and 'role="alert"' in missing_category.text
    forged = carla.http.post("/report", data={"account_id": status["account"]["id"], "category": "spam",
                                              "csrf_token": "not-the-cookie"})
    assert forged.status_code == 403
    assert reports_count(node) == before
    sent = carla.post("/report", {"account_id": status["account"]["id"], "post_ids": status["id"],
                                  "category": "violation", "comment": "Dit is geen officieel bericht"})
    assert sent.status_code == 303 and sent.headers["location"].startswith("/report/sent")
    assert carla.get(sent.headers["location"]).status_code == 200
    row = fetch(node.database_url, "SELECT r.category, r.comment, p.post_id FROM reports r "
                "JOIN report_posts p ON p.report_id = r.id WHERE r.reporter_account_id = $1 ORDER BY r.id DESC "
                "LIMIT 1", account_id(node, "carla"))[0]
    assert row == {"category": "violation", "comment": "Dit is geen officieel bericht", "post_id": int(status["id"])}
    profile = carla.get("/@anna")
    assert f'/report?account_id={status["account"]["id"]}"' in profile.text


def test_an_official_reports_a_mention_from_the_notifications_page(node: Node) -> None:
    mention = post(node, "erik", "@anna waarom duurt dat zo lang?!")
    anna = WebClient(node.url, language="en")
    assert anna.login("anna", factories.PASSWORD).status_code == 303
    page = anna.get("/notifications")
    assert page.status_code == 200
    link = f'/report?account_id={mention["account"]["id"]}&amp;post_id={mention["id"]}'
    assert link in page.text
    assert anna.get(unescape(link)).status_code == 200


def test_only_moderators_see_the_queue(node: Node) -> None:
    bert = WebClient(node.url, language="en")
    assert bert.login("bert", factories.PASSWORD).status_code == 303
    assert bert.get("/admin/reports").status_code == 403
    some_report = report_id_for(node, "anna")
    assert bert.get(f"/admin/reports/{some_report}").status_code == 403
    assert bert.post(f"/admin/reports/{some_report}/resolve").status_code == 403
    assert scalar(node.database_url, "SELECT state FROM reports WHERE id = $1", some_report) == "open"


def test_moderator_sees_the_reported_content_safely_and_resolves_then_reopens(node: Node,
                                                                             moderator: WebClient) -> None:
    status = post(node, "dirk", "Kijk hier <script>alert(1)</script> <b>vet</b>")
    with client(node, "bert") as bert:
        assert bert.post("/api/v1/reports", data={"account_id": status["account"]["id"], "comment": "<i>hm</i>",
                                                  "status_ids[]": [status["id"]]}).status_code == 200
    report_id = report_id_for(node, "dirk")
    queue = moderator.get("/admin/reports")
    assert queue.status_code == 200 and f'href="/admin/reports/{report_id}"' in queue.text
    page = moderator.get(f"/admin/reports/{report_id}")
    assert page.status_code == 200
    assert "<script>alert(1)</script>" not in page.text and "&lt;script&gt;" in page.text
    assert "&lt;i&gt;hm&lt;/i&gt;" in page.text and "Bert" in page.text
    resolved = moderator.post(f"/admin/reports/{report_id}/resolve")
    assert resolved.status_code == 303
    row = fetch(node.database_url, "SELECT state, action_taken, resolved_by_account_id FROM reports WHERE id = $1",
                report_id)[0]
    assert row == {"state": "resolved", "action_taken": "none",
                   "resolved_by_account_id": account_id(node, "mona")}
    again = moderator.post(f"/admin/reports/{report_id}/resolve")
    assert again.status_code == 409 and 'role="alert"' in again.text
    assert moderator.post(f"/admin/reports/{report_id}/reopen").status_code == 303
    assert scalar(node.database_url, "SELECT state FROM reports WHERE id = $1", report_id) == "open"
    actions = [r["action"] for r in fetch(node.database_url, "SELECT action FROM audit_log WHERE subject_type = "
                                          "'report' AND subject_id = $1 ORDER BY id", str(report_id))]
    assert actions == ["report.created", "report.resolved", "report.reopened"]
    history = moderator.get(f"/admin/reports/{report_id}").text
    assert "Rapportage heropend" in history and "Rapportage afgehandeld" in history  # mona reads Dutch


def test_a_warning_resolves_the_report_and_the_person_reads_it(node: Node, moderator: WebClient) -> None:
    report_id = report_id_for(node, "dirk")
    empty = moderator.post(f"/admin/reports/{report_id}/warn", {"text": "  "})
    assert empty.status_code == 422
    assert scalar(node.database_url, "SELECT count(*) FROM account_warnings") == 0
    warned = moderator.post(f"/admin/reports/{report_id}/warn", {"text": "Geen scripts in berichten, graag."})
    assert warned.status_code == 303
    assert fetch(node.database_url, "SELECT state, action_taken FROM reports WHERE id = $1", report_id)[0] == \
        {"state": "resolved", "action_taken": "warn"}
    entry = fetch(node.database_url, "SELECT actor_account_id, detail FROM audit_log WHERE action = 'account.warned' "
                  "AND subject_type = 'account' AND subject_id = $1", str(account_id(node, "dirk")))
    assert entry and json.loads(entry[0]["detail"])["report_id"] == report_id
    dirk = WebClient(node.url, language="en")
    assert dirk.login("dirk", factories.PASSWORD).status_code == 303
    notes = dirk.get("/notifications").text
    assert "Geen scripts in berichten, graag." in notes and "De moderatoren hebben je een waarschuwing gestuurd" in notes


def test_limiting_an_account_hides_its_posts_from_strangers_until_lifted(node: Node, moderator: WebClient) -> None:
    status = post(node, "carla", "Een bericht voor iedereen")
    carla_id = account_id(node, "carla")

    def public_ids() -> set[str]:
        return {s["id"] for s in httpx.get(f"{node.url}/api/v1/timelines/public", params={"limit": 40}).json()}

    assert status["id"] in public_ids()
    assert moderator.post(f"/admin/accounts/{carla_id}/silence", {"text": ""}).status_code == 303
    assert status["id"] not in public_ids()
    assert moderator.post(f"/admin/accounts/{carla_id}/silence", {"text": ""}).status_code == 409
    assert moderator.post(f"/admin/accounts/{carla_id}/unsilence", {"text": "Opgeheven"}).status_code == 303
    assert status["id"] in public_ids()
    actions = [r["action"] for r in fetch(node.database_url, "SELECT action FROM audit_log WHERE subject_type = "
                                          "'account' AND subject_id = $1 ORDER BY id", str(carla_id))]
    # made with `ambtenaar user create`; the refused second limit left no entry
    assert actions == ["account.created", "account.silenced", "account.unsilenced"]


def test_a_suspended_local_account_cannot_sign_in_or_use_its_token_and_its_profile_is_gone(
        node: Node, moderator: WebClient) -> None:
    factories.person(node, "frank", display_name="Frank")
    status = post(node, "frank", "Nog even iets zeggen @bert")
    bert_api = client(node, "bert")

    def seen_by_bert() -> tuple[bool, bool]:
        mentioned = any(n["account"]["id"] == status["account"]["id"]
                        for n in bert_api.get("/api/v1/notifications").json())
        found = any(a["acct"] == "frank" for a in bert_api.get("/api/v2/search", params={"q": "frank"}).json()["accounts"])
        return mentioned, found

    assert seen_by_bert() == (True, True)
    frank_api = client(node, "frank")
    assert frank_api.get("/api/v1/accounts/verify_credentials").status_code == 200
    frank_web = WebClient(node.url, language="en")
    assert frank_web.login("frank", factories.PASSWORD).status_code == 303
    assert frank_web.get("/settings").status_code == 200
    with client(node, "bert") as bert:
        assert bert.post("/api/v1/reports", data={"account_id": status["account"]["id"], "category": "spam",
                                                  "status_ids[]": [status["id"]]}).status_code == 200
    report_id = report_id_for(node, "frank")
    assert moderator.post(f"/admin/reports/{report_id}/suspend", {"text": "Spam"}).status_code == 303

    assert frank_api.get("/api/v1/accounts/verify_credentials").status_code == 401
    assert seen_by_bert() == (False, False)  # gone from notifications and search too
    assert frank_web.get("/settings").status_code == 303  # the session no longer signs anyone in
    again = WebClient(node.url, language="en").login("frank", factories.PASSWORD)
    assert again.status_code == 403 and "suspended" in again.text
    assert WebClient(node.url).get("/@frank").status_code == 410
    assert httpx.get(f"{node.url}/api/v1/statuses/{status['id']}").status_code == 404
    assert httpx.get(f"{node.url}/api/v1/accounts/{status['account']['id']}").status_code == 404
    actor = httpx.get(f"{node.url}/users/frank", headers={"Accept": "application/activity+json"}).json()
    assert actor["suspended"] is True and actor["summary"] == "" and "icon" not in actor
    note = httpx.get(f"{node.url}/users/frank/statuses/{status['id']}", headers={"Accept": "application/activity+json"})
    assert note.status_code == 404
    assert fetch(node.database_url, "SELECT state, action_taken FROM reports WHERE id = $1", report_id)[0] == \
        {"state": "resolved", "action_taken": "suspend"}
    assert scalar(node.database_url, "SELECT count(*) FROM audit_log WHERE action = 'account.suspended' "
                  "AND subject_id = $1", status["account"]["id"]) == 1

    frank_id = int(status["account"]["id"])
    page = moderator.get(f"/admin/accounts/{frank_id}")
    assert page.status_code == 200
    # Suspending keeps an archive copy of what a remote account sent, unless the box says the law requires
    # destruction (issue 16; the purge itself: tests/federation/test_domain_policies.py); the audit says which.
    assert fetch(node.database_url, "SELECT detail->>'records_destroyed' AS destroyed FROM audit_log WHERE action = "
                 "'account.suspended' AND subject_id = $1", status["account"]["id"]) == [{"destroyed": "false"}]
    assert moderator.post(f"/admin/accounts/{frank_id}/unsuspend", {"text": ""}).status_code == 303
    assert frank_api.get("/api/v1/accounts/verify_credentials").status_code == 200
    assert WebClient(node.url).get("/@frank").status_code == 200
    assert seen_by_bert() == (True, True)
    frank_api.close()
    bert_api.close()


def test_a_moderator_cannot_suspend_an_admin_or_themselves(node: Node, moderator: WebClient) -> None:
    for name in ("beheer", "mona"):
        target = account_id(node, name)
        refused = moderator.post(f"/admin/accounts/{target}/suspend", {"text": ""})
        assert refused.status_code in (403, 422), refused.status_code
        assert scalar(node.database_url, "SELECT suspended_at FROM accounts WHERE id = $1", target) is None


def test_the_admin_page_shows_the_count_of_open_reports(node: Node) -> None:
    admin = WebClient(node.url, language="en")
    assert admin.login("beheer", MODERATOR_PASSWORD).status_code == 303
    open_count = scalar(node.database_url, "SELECT count(*) FROM reports WHERE state = 'open'")
    page = admin.get("/admin/organisations").text
    noun = "rapportage" if open_count == 1 else "rapportages"
    assert f"{open_count} open {noun} voor de moderatoren" in page and 'href="/admin/reports"' in page


def test_mastodon_py_reports_with_its_own_method(node: Node) -> None:
    erik = app_for(node, "erik")
    anna = erik.account_lookup("anna")
    report = erik.report(anna["id"], comment="Via Mastodon.py", category="other")  # POSTs to /api/v1/reports/
    assert report["comment"] == "Via Mastodon.py" and report["target_account"]["acct"] == "anna"
    assert scalar(node.database_url, "SELECT count(*) FROM reports WHERE id = $1", int(report["id"])) == 1


def test_a_post_id_alone_is_enough_to_open_the_form(node: Node) -> None:
    status = post(node, "anna", "Openingstijden in de kerstweek")
    bert = WebClient(node.url, language="en")
    assert bert.login("bert", factories.PASSWORD).status_code == 303
    form = bert.get(f"/report?post_id={status['id']}")
    assert form.status_code == 200
    assert f'name="account_id" value="{status["account"]["id"]}"' in form.text
    assert bert.get("/report?post_id=12345").status_code == 404
