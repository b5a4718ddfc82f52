"""Following and answering from another server (issue 13, item 4), over real HTTP: our WebFinger's subscribe
template, /interact sending a visitor to their own server's template (a stub server stands in for Mastodon), and
/authorize_interaction for our own users, with a second real node as the other server."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest

from tests import factories
from tests.helpers.database import TestPostgres
from tests.helpers.nodes import Node
from tests.helpers.subscribe_stub import SubscribeStub, subscribe_stub
from tests.helpers.web import WebClient


@pytest.fixture(scope="module")
def stub() -> Iterator[SubscribeStub]:
    with subscribe_stub() as running:
        yield running


@pytest.fixture(scope="module")
def ede(node: Node) -> Node:
    factories.organisation(node)
    factories.person(node, "anna", org="gemeente-ede", display_name="Anna de Vries")
    return node


@pytest.fixture(scope="module")
def other(postgres: TestPostgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    """Another node: the server of an account and a post our users open here."""
    running = Node(database_url=postgres.fresh_database(), data_dir=tmp_path_factory.mktemp("other")).start()
    factories.person(running, "bob", display_name="Bob Burger")
    yield running
    running.stop()


def anna_post(node: Node, text: str) -> str:
    token = node.cli("token", "create", "--username", "anna", "--scopes", "read write").out.strip()
    made = httpx.post(f"{node.url}/api/v1/statuses", data={"status": text, "visibility": "public"},
                      headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert made.status_code == 200, made.text
    return str(made.json()["id"])


def test_our_webfinger_carries_the_subscribe_template(ede: Node) -> None:
    jrd = httpx.get(f"{ede.url}/.well-known/webfinger", params={"resource": f"acct:anna@{ede.domain}"}).json()
    templates = [link["template"] for link in jrd["links"] if link["rel"] == "http://ostatus.org/schema/1.0/subscribe"]
    assert templates == [f"{ede.url}/authorize_interaction?uri={{uri}}"]
    # The template works: someone not signed in is asked to sign in first and comes back to it.
    target = templates[0].replace("{uri}", quote(f"acct:anna@{ede.domain}", safe=""))
    answer = httpx.get(target)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=" + quote(target.removeprefix(ede.url), safe="")


def test_follow_button_sends_the_visitor_to_their_own_server(ede: Node, stub: SubscribeStub) -> None:
    visitor = WebClient(ede.url)
    profile = visitor.get("/@anna")
    assert 'href="/interact?account=anna"' in profile.text and "Volgen" in profile.text
    form = visitor.get("/interact?account=anna")
    assert form.status_code == 200 and 'name="handle" value=""' in form.text
    # Only this page lets its form's answer lead to another server (browsers hold redirects to `form-action`).
    assert "form-action 'self' https: http:;" in form.headers["content-security-policy"]
    assert "form-action 'self';" in profile.headers["content-security-policy"]
    sent = visitor.post("/interact", {"account": "anna", "handle": f"@jan@{stub.host()}"})
    assert sent.status_code == 303, sent.text
    actor = f"{ede.url}/users/anna"
    assert sent.headers["location"] == stub.template().replace("{uri}", quote(actor, safe=""))
    # The handle is remembered, and pre-fills the field next time (on a post's "Reageren" too).
    post_id = anna_post(ede, "Spreekuur vandaag")
    page = visitor.get(f"/@anna/{post_id}")
    assert f'href="/interact?post={post_id}"' in page.text and "Reageren" in page.text
    again = visitor.get(f"/interact?post={post_id}")
    assert f'name="handle" value="@jan@{stub.host()}"' in again.text
    reply = visitor.post("/interact", {"post": post_id, "handle": f"jan@{stub.host()}"})
    assert reply.status_code == 303
    assert reply.headers["location"] == stub.template().replace(
        "{uri}", quote(f"{ede.url}/users/anna/statuses/{post_id}", safe=""))
    # The organisation's page has the button too.
    assert 'href="/interact?account=' in visitor.get("/orgs/gemeente-ede").text


@pytest.mark.parametrize("typed", ["jan", "not a handle", "@jan@", "@jan@stub/../x", "@<b>@example.org"])
def test_a_bad_handle_is_refused_with_a_message(ede: Node, stub: SubscribeStub, typed: str) -> None:
    visitor = WebClient(ede.url, language="en")
    before = len(stub.requests)
    refused = visitor.post("/interact", {"account": "anna", "handle": typed})
    assert refused.status_code == 422
    assert "That is not a handle. Type your own handle, like @name@mastodon.social." in refused.text
    assert 'aria-invalid="true"' in refused.text
    assert len(stub.requests) == before


def test_a_server_without_a_template_or_account_gets_a_clear_message(ede: Node, stub: SubscribeStub) -> None:
    visitor = WebClient(ede.url, language="en")
    none = visitor.post("/interact", {"account": "anna", "handle": f"@geen@{stub.host()}"})
    assert none.status_code == 422
    assert f"{stub.host()} does not say where to follow or answer from." in none.text
    assert f"{ede.url}/users/anna" in none.text  # what to search for instead
    unknown = visitor.post("/interact", {"account": "anna", "handle": f"@nobody@{stub.host()}"})
    assert unknown.status_code == 422
    assert f"@nobody@{stub.host()} could not be found." in unknown.text
    ours = visitor.post("/interact", {"account": "anna", "handle": f"@anna@{ede.domain}"})
    assert ours.status_code == 422 and "That account is on this server: sign in here instead." in ours.text
    dutch = WebClient(ede.url).post("/interact", {"account": "anna", "handle": "geen handle"})
    assert "Dat is geen handle." in dutch.text


def test_a_suspended_server_is_not_asked(ede: Node, stub: SubscribeStub) -> None:
    assert ede.cli("domain", "block", "localhost", "--severity", "suspend").code == 0
    try:
        before = len(stub.requests)
        refused = WebClient(ede.url, language="en").post("/interact", {"account": "anna",
                                                                         "handle": f"@jan@{stub.host('localhost')}"})
        assert refused.status_code == 403
        assert f"This server does not federate with {stub.host('localhost')}." in refused.text
        assert len(stub.requests) == before
    finally:
        assert ede.cli("domain", "unblock", "localhost").code == 0


def test_only_our_own_accounts_and_public_posts_can_be_followed_from_elsewhere(ede: Node) -> None:
    visitor = WebClient(ede.url, language="en")
    assert visitor.get("/interact?account=nobody").status_code == 404
    assert visitor.get("/interact?post=123").status_code == 404
    assert visitor.get("/interact").status_code == 404


def signed_in(node: Node, username: str) -> WebClient:
    client = WebClient(node.url, language="en")
    assert client.login(username, factories.PASSWORD).status_code == 303
    return client


def test_authorize_interaction_opens_a_remote_account_with_a_follow_button(ede: Node, other: Node) -> None:
    anna = signed_in(ede, "anna")
    by_handle = anna.get("/authorize_interaction", params={"uri": f"acct:bob@{other.domain}"})
    assert by_handle.status_code == 303, by_handle.text
    location = by_handle.headers["location"]
    assert location.startswith("/accounts/")
    profile = anna.get(location)
    assert "Bob Burger" in profile.text and f'action="{location}/follow"' in profile.text
    by_uri = anna.get("/authorize_interaction", params={"uri": f"{other.url}/users/bob"})
    assert by_uri.headers["location"] == location


def test_authorize_interaction_opens_a_post(ede: Node, other: Node) -> None:
    token = other.cli("token", "create", "--username", "bob", "--scopes", "read write").out.strip()
    made = httpx.post(f"{other.url}/api/v1/statuses", data={"status": "Wanneer is het spreekuur?"},
                      headers={"Authorization": f"Bearer {token}"}, timeout=30).json()
    anna = signed_in(ede, "anna")
    opened = anna.get("/authorize_interaction", params={"uri": made["uri"]})
    assert opened.status_code == 303, opened.text
    assert opened.headers["location"].startswith("/posts/")
    assert "Wanneer is het spreekuur?" in anna.get(opened.headers["location"]).text
    own = anna_post(ede, "Eigen bericht")
    local = anna.get("/authorize_interaction", params={"uri": f"{ede.url}/users/anna/statuses/{own}"})
    assert local.headers["location"] == f"/@anna/{own}"


def test_authorize_interaction_signs_in_first_and_comes_back(ede: Node) -> None:
    visitor = WebClient(ede.url, language="en")
    target = "/authorize_interaction?uri=" + quote(f"{ede.url}/users/anna", safe="")
    asked = visitor.get(target)
    assert asked.status_code == 303 and asked.headers["location"] == "/login?next=" + quote(target, safe="")
    signed = visitor.post("/login", {"username": "anna", "password": factories.PASSWORD, "next": target})
    assert signed.status_code == 303 and signed.headers["location"] == target
    assert visitor.get(target).headers["location"] == "/@anna"


@pytest.mark.parametrize("uri", ["", "javascript:alert(1)", "ftp://example.org/x", "@@", "http://" + "a" * 2100])
def test_authorize_interaction_refuses_a_bad_uri_with_a_page(ede: Node, uri: str) -> None:
    refused = signed_in(ede, "anna").get("/authorize_interaction", params={"uri": uri})
    assert refused.status_code == 422
    assert "Dat is geen adres van een account of een bericht." in refused.text  # anna's language is Dutch


def test_authorize_interaction_for_nothing_there_is_not_found(ede: Node, other: Node) -> None:
    anna = signed_in(ede, "anna")
    assert anna.get("/authorize_interaction", params={"uri": f"{ede.url}/nothing/here"}).status_code == 404
    missing = anna.get("/authorize_interaction", params={"uri": f"{other.url}/users/bob/statuses/1"})
    assert missing.status_code == 404
    assert "Op dat adres is geen account of bericht gevonden." in missing.text
