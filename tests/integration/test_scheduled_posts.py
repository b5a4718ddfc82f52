"""Scheduled posts (issue 14, item 4) through Mastodon.py: scheduled, listed, moved, cancelled, and published once
when their time comes, with the organisation's checks run again at that moment."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from mastodon import Mastodon, MastodonAPIError, MastodonNotFoundError

from tests import factories
from tests.helpers.database import fetch, scalar
from tests.helpers.nodes import Node
from tests.helpers.photos import png
from tests.helpers.polling import eventually
from tests.helpers.web import WebClient
from tests.integration.test_mastodon_client import app_for, post_with_voice

HOUR = timedelta(hours=1)


def soon(delta: timedelta) -> datetime:
    return (datetime.now(timezone.utc) + delta).replace(microsecond=0)


def make_due(node: Node, *ids: str) -> None:
    """Their time has come (the limits keep a new time at least 5 minutes ahead, so the test moves it itself)."""
    scalar(node.database_url, "UPDATE scheduled_statuses SET scheduled_at = now(), next_attempt_at = now() "
           "WHERE id = ANY($1::bigint[])", [int(i) for i in ids])


def posts_with(node: Node, text: str) -> list[dict]:  # type: ignore[type-arg]
    return fetch(node.database_url, "SELECT id, state, visibility, voice FROM posts WHERE source_text = $1", text)


@pytest.fixture(scope="module")
def town(node: Node) -> Node:
    factories.organisation(node)
    factories.organisation(node, slug="gemeente-oss", name="Gemeente Oss", website="https://www.oss.nl")
    factories.person(node, "anna", org="gemeente-ede")
    factories.person(node, "olga", org="gemeente-oss")
    factories.person(node, "bert")
    return node


@pytest.fixture(scope="module")
def anna(town: Node) -> Mastodon:
    return app_for(town, "anna")


@pytest.fixture(scope="module")
def bert(town: Node) -> Mastodon:
    return app_for(town, "bert")


def test_schedule_list_move_and_publish_once(town: Node, anna: Mastodon, bert: Mastodon) -> None:
    image = anna.media_post(png(), mime_type="image/png", description="Het gemeentehuis")
    when = soon(HOUR)
    planned = anna.status_post("Spreekuur morgen om 10:00", scheduled_at=when, media_ids=[image],
                               visibility="unlisted", language="nl")
    assert planned["scheduled_at"] == when and planned["params"]["text"] == "Spreekuur morgen om 10:00"
    assert planned["params"]["visibility"] == "unlisted" and planned["params"]["media_ids"] == [str(image["id"])]
    assert [a["id"] for a in planned["media_attachments"]] == [image["id"]]
    assert posts_with(town, "Spreekuur morgen om 10:00") == []  # never published early
    with pytest.raises(MastodonAPIError):  # the image is kept for the scheduled post
        anna.status_post("Een ander bericht", media_ids=[image])

    assert [s["id"] for s in anna.scheduled_statuses()] == [planned["id"]]
    assert anna.scheduled_status(planned["id"])["params"]["text"] == "Spreekuur morgen om 10:00"
    # Someone else's scheduled post does not exist for them.
    assert bert.scheduled_statuses() == []
    for attempt in (lambda: bert.scheduled_status(planned["id"]),
                    lambda: bert.scheduled_status_update(planned["id"], soon(2 * HOUR)),
                    lambda: bert.scheduled_status_delete(planned["id"])):
        with pytest.raises(MastodonNotFoundError):
            attempt()

    later = soon(2 * HOUR)
    assert anna.scheduled_status_update(planned["id"], later)["scheduled_at"] == later
    for too_soon in (lambda: anna.scheduled_status_update(planned["id"], soon(timedelta(minutes=2))),
                     lambda: anna.status_post("Te vroeg", scheduled_at=soon(timedelta(minutes=2)))):
        with pytest.raises(MastodonAPIError) as refused:
            too_soon()
        assert refused.value.args[1] == 422 and "5" in str(refused.value.args[-1])
    # A time already past publishes at once, as Mastodon does.
    assert "Meteen" in anna.status_post("Meteen", scheduled_at=soon(-timedelta(minutes=1)))["content"]

    make_due(town, planned["id"])
    me = anna.account_verify_credentials()
    published = eventually(lambda: [s for s in anna.account_statuses(me["id"]) if "Spreekuur morgen" in s["content"]],
                           what="the scheduled post published")
    assert published[0]["visibility"] == "unlisted" and published[0]["language"] == "nl"
    assert [a["id"] for a in published[0]["media_attachments"]] == [image["id"]]
    assert len(posts_with(town, "Spreekuur morgen om 10:00")) == 1
    assert anna.scheduled_statuses() == []
    with pytest.raises(MastodonNotFoundError):
        anna.scheduled_status(planned["id"])


def test_cancelling_gives_the_images_back(anna: Mastodon) -> None:
    image = anna.media_post(png((200, 30, 30)), mime_type="image/png", description="Een rode deur")
    planned = anna.status_post("Open dag volgende week", scheduled_at=soon(HOUR), media_ids=[image])
    anna.scheduled_status_delete(planned["id"])
    assert anna.scheduled_statuses() == []
    assert anna.status_post("Open dag!", media_ids=[image])["media_attachments"][0]["id"] == image["id"]


def test_twenty_five_on_one_day(bert: Mastodon) -> None:
    day = soon(timedelta(days=3)).replace(hour=9, minute=0, second=0)
    for n in range(25):
        bert.status_post(f"Bericht {n}", scheduled_at=day + timedelta(minutes=n))
    with pytest.raises(MastodonAPIError) as refused:
        bert.status_post("Nummer 26", scheduled_at=day + timedelta(hours=2))
    assert refused.value.args[1] == 422 and "25" in str(refused.value.args[-1])
    assert bert.status_post("Een dag later", scheduled_at=day + timedelta(days=1))["id"]
    assert len(bert.scheduled_statuses(limit=40)) == 26


def test_checks_run_when_scheduled_and_again_at_the_time(town: Node) -> None:
    olga = app_for(town, "olga")
    result = town.cli("policy", "set", "--org", "gemeente-oss", "--check", "personal-data.bsn", "--action", "block")
    assert result.code == 0, result.err
    with pytest.raises(MastodonAPIError) as blocked:
        post_with_voice(olga, "Klant met BSN 111222333 belde", "personal", scheduled_at=soon(HOUR).isoformat())
    assert blocked.value.args[1] == 422 and "BSN" in str(blocked.value.args[-1])
    assert scalar(town.database_url, "SELECT count(*) FROM scheduled_statuses s JOIN accounts a "
                  "ON a.id = s.account_id WHERE a.username = 'olga'") == 0

    held = post_with_voice(olga, "De markt verhuist naar het Museumplein", "official",
                           scheduled_at=soon(HOUR).isoformat())
    stopped = post_with_voice(olga, "Het parkeerbeleid wordt eindelijk eerlijk", "personal",
                              scheduled_at=soon(HOUR).isoformat())
    assert held["params"]["voice"] == "official"
    # Meanwhile the organisation asks for a second pair of eyes, and a deliberation period starts.
    for check, action, options in (("four-eyes", "hold", []), ("deliberation", "block", [
            "--param", "topics=" + json.dumps([{"terms": ["parkeerbeleid"]}])])):
        result = town.cli("policy", "set", "--org", "gemeente-oss", "--check", check, "--action", action, *options)
        assert result.code == 0, result.err
    make_due(town, held["id"], stopped["id"])

    def outcomes() -> dict[str, dict]:  # type: ignore[type-arg]
        return {n["ambtenaar_scheduled"]["outcome"]: n for n in olga.notifications() if "ambtenaar_scheduled" in n}
    found = eventually(outcomes, until=lambda o: len(o) == 2, what="both scheduled posts decided")
    assert found["held"]["type"] == "status" and "Museumplein" in found["held"]["status"]["content"]
    assert found["failed"]["type"] == "ambtenaar_scheduled_failed" and not found["failed"].get("status")
    assert "parkeerbeleid" in found["failed"]["ambtenaar_scheduled"]["reason"]
    assert [p["state"] for p in posts_with(town, "De markt verhuist naar het Museumplein")] == ["held"]
    assert posts_with(town, "Het parkeerbeleid wordt eindelijk eerlijk") == []
    assert olga.scheduled_statuses() == []  # the API lists waiting ones; the failed one is on the web page
    page = WebClient(town.url, language="en")
    page.login("olga", factories.PASSWORD)
    listed = page.get("/scheduled").text
    assert "Niet gepubliceerd" in listed and "Het parkeerbeleid wordt eindelijk eerlijk" in listed
    assert scalar(town.database_url, "SELECT count(*) FROM audit_log WHERE action = 'policy.block'") >= 2


def test_several_workers_publish_each_post_once(town: Node, anna: Mastodon) -> None:
    workers = [town.spawn("worker"), town.spawn("worker")]  # and the one inside `serve`
    try:
        texts = [f"Tegelijk gepland {n}" for n in range(12)]
        ids = [anna.status_post(text, scheduled_at=soon(HOUR))["id"] for text in texts]
        make_due(town, *ids)
        eventually(lambda: scalar(town.database_url, "SELECT count(*) FROM scheduled_statuses "
                                  "WHERE id = ANY($1::bigint[])", [int(i) for i in ids]),
                   until=lambda left: left == 0, what="all published")
        assert [len(posts_with(town, text)) for text in texts] == [1] * len(texts)
    finally:
        for worker in workers:
            worker.terminate()
            worker.wait(timeout=20)


def test_after_offboarding_only_the_personal_post_goes_out(town: Node) -> None:
    factories.person(town, "piet", org="gemeente-ede")
    token = town.cli("token", "create", "--username", "piet", "--scopes", "read write").out.strip()
    piet = Mastodon(access_token=token, api_base_url=town.url)
    official = post_with_voice(piet, "Namens de gemeente: de brug gaat open", "official",
                               scheduled_at=soon(HOUR).isoformat())
    personal = post_with_voice(piet, "Mijn laatste werkdag was mooi", "personal", scheduled_at=soon(HOUR).isoformat())
    result = town.cli("user", "offboard", "--username", "piet", "--reason", "Vertrokken")
    assert result.code == 0, result.err
    make_due(town, official["id"], personal["id"])
    eventually(lambda: fetch(town.database_url, "SELECT state, failure FROM scheduled_statuses WHERE id = $1",
                             int(official["id"])), until=lambda rows: rows and rows[0]["state"] == "failed",
               what="the official post refused")
    assert len(posts_with(town, "Mijn laatste werkdag was mooi")) == 1
    assert posts_with(town, "Namens de gemeente: de brug gaat open") == []
    failure = fetch(town.database_url, "SELECT failure FROM scheduled_statuses WHERE id = $1", int(official["id"]))
    assert "official voice" in str(failure[0]["failure"])


def test_a_scheduled_poll_opens_at_publication(town: Node, anna: Mastodon) -> None:
    poll = anna.make_poll(["Dinsdag", "Donderdag"], expires_in=86400)
    planned = anna.status_post("Wanneer het spreekuur?", scheduled_at=soon(HOUR), poll=poll)
    assert planned["params"]["poll"]["options"] == ["Dinsdag", "Donderdag"]
    make_due(town, planned["id"])
    me = anna.account_verify_credentials()
    published = eventually(lambda: [s for s in anna.account_statuses(me["id"]) if "spreekuur?" in s["content"]],
                           what="the scheduled poll published")
    assert [o["title"] for o in published[0]["poll"]["options"]] == ["Dinsdag", "Donderdag"]
    assert published[0]["poll"]["expires_at"] > datetime.now(timezone.utc) + timedelta(hours=23)
