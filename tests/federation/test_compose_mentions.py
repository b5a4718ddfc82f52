"""The web composer looks up an unknown @user@host before it stores the post, as the client API does
(server/compose.py runs the one sequence for both), so the post links and delivers the mention."""

from __future__ import annotations

from tests import factories
from tests.federation.conftest import api
from tests.helpers.nodes import Node
from tests.helpers.polling import eventually
from tests.helpers.web import WebClient


def test_the_web_composer_mentions_someone_this_node_has_never_seen(gemeente: Node, burger: Node) -> None:
    composer = WebClient(gemeente.url, language="en")
    composer.login("anna", factories.PASSWORD)
    sent = composer.compose(f"@bert@{burger.domain} Uw aanvraag is binnen.", voice="personal")
    assert sent.status_code == 303, sent.text[-2000:]
    post_id = sent.headers["location"].rsplit("/", 1)[1]
    post = api(gemeente, "anna").get(f"/api/v1/statuses/{post_id}").json()
    assert [m["acct"] for m in post["mentions"]] == [f"bert@{burger.domain}"]
    assert 'class="u-url mention">@<span>bert</span>' in post["content"]
    bert = api(burger, "bert")
    eventually(lambda: bert.get("/api/v1/notifications", params={"types[]": "mention"}).json(),
               lambda ns: any("aanvraag" in n["status"]["content"] for n in ns), what="bert's mention notification")
