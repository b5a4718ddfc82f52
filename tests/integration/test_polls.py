"""Polls through Mastodon.py (issue 14, item 3): posting one, a second account voting, refreshing it, the limits
/api/v2/instance states, the end of a poll with its notifications, and the organisation's checks reading the
options."""

from __future__ import annotations

import httpx
import pytest
from mastodon import Mastodon, MastodonAPIError

from tests import factories
from tests.contract.mastodon_types import check
from tests.helpers.database import scalar
from tests.helpers.nodes import Node
from tests.helpers.polling import eventually
from tests.integration import test_mastodon_client as client_test
from tests.integration.test_mastodon_client import app_for

# The node with anna (an official of Gemeente Ede) and bert, and their Mastodon.py apps, as the client test has them.
ede, anna, bert = client_test.ede, client_test.anna, client_test.bert


def test_post_vote_refresh_and_end(ede: Node, anna: Mastodon, bert: Mastodon) -> None:
    status = anna.status_post("Waar zullen we de nieuwe bankjes zetten?",
                              poll=anna.make_poll(["Markt", "Park", "Station"], expires_in=3600))
    poll = status["poll"]
    assert [o["title"] for o in poll["options"]] == ["Markt", "Park", "Station"]
    assert poll["votes_count"] == 0 and poll["multiple"] is False and poll["expired"] is False
    assert poll["voted"] is True and poll["own_votes"] == []  # the author counts as having voted, as on Mastodon
    raw = httpx.get(f"{ede.url}/api/v1/statuses/{status['id']}",
                    headers={"Authorization": f"Bearer {anna.access_token}"}).json()["poll"]
    assert check("Poll", raw) == [] and raw["id"] == str(poll["id"])  # Mastodon.py turned dates into objects

    voted = bert.poll_vote(poll["id"], 1)
    assert voted["votes_count"] == 1 and voted["voters_count"] == 1 and voted["own_votes"] == [1]
    assert [o["votes_count"] for o in voted["options"]] == [0, 1, 0]
    with pytest.raises(MastodonAPIError) as again:
        bert.poll_vote(poll["id"], 2)
    assert again.value.args[1] == 422 and "already voted" in str(again.value)
    with pytest.raises(MastodonAPIError) as own:
        anna.poll_vote(poll["id"], 0)
    assert own.value.args[1] == 422

    refreshed = anna.poll(poll["id"])
    assert refreshed["votes_count"] == 1 and refreshed["options"][1]["votes_count"] == 1
    assert bert.status(status["id"])["poll"]["own_votes"] == [1]
    anonymous = httpx.get(f"{ede.url}/api/v1/polls/{poll['id']}").json()
    assert anonymous["votes_count"] == 1 and "voted" not in anonymous

    # The end: the worker closes the poll at its time (moved to the past here) and tells voter and author.
    scalar(ede.database_url, "UPDATE polls SET expires_at = now() - interval '1 second' WHERE post_id = $1",
           int(poll["id"]))
    for client in (bert, anna):
        found = eventually(lambda c=client: [n for n in c.notifications() if n["type"] == "poll"], what="poll notification")
        assert found[0]["status"]["id"] == status["id"] and found[0]["status"]["poll"]["expired"] is True
    with pytest.raises(MastodonAPIError) as ended:
        factories.person(ede, "carla")
        app_for(ede, "carla").poll_vote(poll["id"], 0)
    assert "ended" in str(ended.value)


def test_multiple_choice_and_hidden_totals(anna: Mastodon, bert: Mastodon) -> None:
    status = anna.status_post("Welke dagen komt u naar het spreekuur?",
                              poll=anna.make_poll(["Maandag", "Woensdag", "Vrijdag"], expires_in=600,
                                                  multiple=True, hide_totals=True))
    voted = bert.poll_vote(status["poll"]["id"], [0, 2])
    assert voted["multiple"] is True and voted["own_votes"] == [0, 2] and voted["votes_count"] == 2
    assert [o["votes_count"] for o in voted["options"]] == [None, None, None]  # hidden until the end


def test_a_poll_one_may_not_see_cannot_be_voted_in(ede: Node, anna: Mastodon, bert: Mastodon) -> None:
    private = anna.status_post("Alleen voor volgers", visibility="private", poll=anna.make_poll(["Ja", "Nee"], 600))
    with pytest.raises(MastodonAPIError) as hidden:
        bert.poll_vote(private["poll"]["id"], 0)
    assert hidden.value.args[1] == 404
    assert httpx.get(f"{ede.url}/api/v1/polls/{private['poll']['id']}").status_code == 404


def test_limits_are_what_the_instance_says(anna: Mastodon) -> None:
    limits = anna.instance_v2()["configuration"]["polls"]
    assert limits == {"max_options": 4, "max_characters_per_option": 50, "min_expiration": 300,
                      "max_expiration": 2629746}
    too_many = [f"Keuze {n}" for n in range(limits["max_options"] + 1)]
    for poll in (anna.make_poll(["Alleen"], 600), anna.make_poll(too_many, 600),
                 anna.make_poll(["Ja", "x" * (limits["max_characters_per_option"] + 1)], 600),
                 anna.make_poll(["Ja", "Nee"], limits["min_expiration"] - 1),
                 anna.make_poll(["Ja", "Nee"], limits["max_expiration"] + 1),
                 anna.make_poll(["Ja", "ja"], 600)):
        with pytest.raises(MastodonAPIError) as refused:
            anna.status_post("Peiling", poll=poll)
        assert refused.value.args[1] == 422
    at_limits = anna.status_post("Peiling", poll=anna.make_poll(
        [f"{n}" * limits["max_characters_per_option"] for n in range(limits["max_options"])],
        limits["max_expiration"]))
    assert len(at_limits["poll"]["options"]) == limits["max_options"]


def test_form_parameters_as_some_apps_send_them(ede: Node, anna: Mastodon) -> None:
    response = httpx.post(f"{ede.url}/api/v1/statuses", headers={"Authorization": f"Bearer {anna.access_token}"},
                          data={"status": "Formulier", "poll[options][]": ["Eén", "Twee"], "poll[expires_in]": "900",
                                "poll[multiple]": "true"})
    assert response.status_code == 200, response.text
    assert response.json()["poll"]["multiple"] is True and len(response.json()["poll"]["options"]) == 2


def test_the_organisations_checks_read_the_options(ede: Node, anna: Mastodon) -> None:
    """A phone number in an option is found by the phone check, as in the text."""
    assert ede.cli("policy", "set", "--org", "gemeente-ede", "--check", "personal-data.phone",
                   "--action", "block").code == 0
    try:
        response = httpx.post(f"{ede.url}/api/v1/statuses", headers={"Authorization": f"Bearer {anna.access_token}"},
                              json={"status": "Hoe wilt u gebeld worden?",
                                    "poll": {"options": ["Niet", "Op 06-12345678"], "expires_in": 600}})
        assert response.status_code == 422, response.text
        findings = response.json()["policy"]["findings"]
        assert [(f["check"], f["field"], f["attachment"]) for f in findings] == [
            ("personal-data.phone", "poll_options", 1)]
        assert "06-12345678" not in response.text  # found numbers are masked in the answer
        assert anna.status_post("Hoe wilt u gebeld worden?", poll=anna.make_poll(["Niet", "Wel"], 600))["poll"]
    finally:
        assert ede.cli("policy", "set", "--org", "gemeente-ede", "--check", "personal-data.phone",
                       "--action", "off").code == 0


def test_editing_a_post_with_its_poll(ede: Node, anna: Mastodon, bert: Mastodon) -> None:
    """Mastodon's web app sends the poll back with every edit: the words change and the votes stay. New options
    wipe the votes, as on Mastodon, and the organisation's checks read the new options."""
    status = anna.status_post("Welke kleur krijgen de bankjes?", poll=anna.make_poll(["Groen", "Blauw"], 3600))
    bert.poll_vote(status["poll"]["id"], 0)
    same = anna.status_update(status["id"], "Welke kleur krijgen de nieuwe bankjes?",
                              poll=anna.make_poll(["Groen", "Blauw"], 3600))
    assert "nieuwe bankjes" in same["content"] and same["edited_at"] is not None
    assert same["poll"]["votes_count"] == 1 and bert.poll(status["poll"]["id"])["own_votes"] == [0]

    changed = anna.status_update(status["id"], "Welke kleur krijgen de nieuwe bankjes?",
                                 poll=anna.make_poll(["Groen", "Rood", "Geel"], 7200))
    assert [o["title"] for o in changed["poll"]["options"]] == ["Groen", "Rood", "Geel"]
    assert changed["poll"]["votes_count"] == 0 and bert.poll(status["poll"]["id"])["own_votes"] == []
    assert bert.poll_vote(status["poll"]["id"], 2)["own_votes"] == [2]  # bert may vote again

    assert ede.cli("policy", "set", "--org", "gemeente-ede", "--check", "personal-data.phone",
                   "--action", "block").code == 0
    try:
        refused = httpx.put(f"{ede.url}/api/v1/statuses/{status['id']}",
                            headers={"Authorization": f"Bearer {anna.access_token}"},
                            json={"status": "Welke kleur?", "poll": {"options": ["Groen", "Bel 06-12345678"],
                                                                      "expires_in": 600}})
        assert refused.status_code == 422, refused.text
    finally:
        assert ede.cli("policy", "set", "--org", "gemeente-ede", "--check", "personal-data.phone",
                       "--action", "off").code == 0
    kept = anna.status(status["id"])  # nothing of the refused edit stayed
    assert [o["title"] for o in kept["poll"]["options"]] == ["Groen", "Rood", "Geel"]
    assert "nieuwe bankjes" in kept["content"] and kept["poll"]["votes_count"] == 1
