"""An official answers a citizen on another server: the mention is linked, delivered and notified there."""

from __future__ import annotations

from tests.federation.conftest import api
from tests.helpers.database import scalar
from tests.helpers.nodes import Node
from tests.helpers.polling import eventually


def test_official_answers_a_remote_question_with_a_mention(gemeente: Node, burger: Node) -> None:
    anna, bert = api(gemeente, "anna"), api(burger, "bert")
    bert.get("/api/v2/search", params={"q": f"@anna@{gemeente.domain}", "resolve": "true"})
    question = bert.post("/api/v1/statuses", data={"status": f"@anna@{gemeente.domain} Wanneer is het spreekuur?"}
                         ).json()
    assert question["mentions"][0]["acct"] == f"anna@{gemeente.domain}"
    notice = eventually(lambda: anna.get("/api/v1/notifications", params={"types[]": "mention"}).json(),
                        lambda ns: any("spreekuur" in n["status"]["content"] for n in ns), what="the question")
    local_copy = next(n["status"] for n in notice if "spreekuur" in n["status"]["content"])
    # The web composer and apps prefill the handle; the server looks up the unknown @user@host itself.
    answer = anna.post("/api/v1/statuses", json={"status": f"@bert@{burger.domain} Elke dinsdag van 9 tot 12.",
                                                 "in_reply_to_id": local_copy["id"], "voice": "official"}).json()
    assert answer["mentions"] and answer["mentions"][0]["acct"] == f"bert@{burger.domain}"
    assert 'class="u-url mention">@<span>bert</span>' in answer["content"]
    eventually(lambda: bert.get("/api/v1/notifications", params={"types[]": "mention"}).json(),
               lambda ns: any("dinsdag" in n["status"]["content"] for n in ns), what="bert's mention notification")
    thread = eventually(lambda: bert.get(f"/api/v1/statuses/{question['id']}/context").json(),
                        lambda c: len(c["descendants"]) == 1, what="the answer in bert's thread")
    answer_there = thread["descendants"][0]
    assert answer_there["voice"] == "official" and answer_there["organisation"]["name"] == "Gemeente Ede"
    assert scalar(burger.database_url, "SELECT count(*) FROM posts WHERE uri = $1", answer["uri"]) == 1
