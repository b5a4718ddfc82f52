"""Every read path of a real node against the visibility rule, with every kind of post.

One node, one cast: Anna (official of Gemeente Ede, whose official posts four eyes hold), Rita (reviewer there),
Fien (follows Anna), Bert (a stranger, mentioned in Anna's direct post), Mona (moderator), and nobody signed in.
Anna writes one post of each kind, each a reply to her public root post and carrying a marker word and a hashtag:
public, unlisted, followers-only, direct, held, rejected and deleted. Rows an earlier bug could leave behind
(a favourite, a notification and a boost of every post) are written straight into the database, so the listings
built on them are tested too.

`ROUTES` classifies every route of the app: a path that shows one post (probed for each kind and viewer), a
listing (probed for each viewer: no marker it may not see, and the public control marker where it belongs), an
action on a post (tests/security/test_findings.py), or a route that shows no post, with the reason. A route added
to the app without an entry here fails `test_every_route_is_classified`.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from starlette.routing import Mount, Route, WebSocketRoute
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from server.app import create_app
from server import streams
from server.config import settings_from
from server.ids import new_id
from tests import factories
from tests.federation.conftest import token_for
from tests.helpers.database import fetch, scalar
from tests.helpers.nodes import Node
from tests.helpers.web import WebClient

KINDS = ("public", "unlisted", "private", "direct", "held", "rejected", "deleted")
VIEWERS = ("nobody", "anna", "rita", "fien", "bert", "mona")
# Who may see each kind (server/visibility.py).
AUDIENCE = {
    "public": set(VIEWERS), "unlisted": set(VIEWERS), "private": {"anna", "fien"}, "direct": {"anna", "bert"},
    "held": {"anna", "rita"}, "rejected": {"anna", "rita"}, "deleted": set(),
}
SIGNED_IN = ("anna", "rita", "fien", "bert", "mona")


def marker(kind: str) -> str:
    return f"zichtbaarheidstest{kind}"


@dataclass
class Town:
    node: Node
    ids: dict[str, int] = field(default_factory=dict)  # kind -> post id
    root: int = 0
    account_ids: dict[str, int] = field(default_factory=dict)
    notification_ids: dict[tuple[str, str], int] = field(default_factory=dict)  # (viewer, kind) -> id
    api: dict[str, httpx.Client] = field(default_factory=dict)
    web: dict[str, WebClient] = field(default_factory=dict)

    def api_client(self, viewer: str) -> httpx.Client:
        if viewer == "nobody":
            return httpx.Client(base_url=self.node.url, timeout=30)
        return self.api[viewer]

    def web_client(self, viewer: str) -> WebClient:
        return WebClient(self.node.url, language="en") if viewer == "nobody" else self.web[viewer]


@pytest.fixture(scope="module")
def town(node: Node) -> Iterator[Town]:
    factories.organisation(node)
    factories.person(node, "anna", org="gemeente-ede", display_name="Anna de Vries")
    factories.person(node, "rita", org="gemeente-ede", role="reviewer")
    for name in ("fien", "bert"):
        factories.person(node, name)
    assert node.cli("admin", "create", "--username", "mona", "--moderator", "--password-stdin",
                    stdin=factories.PASSWORD + "\n").code == 0
    assert node.cli("policy", "set", "--org", "gemeente-ede", "--check", "four-eyes", "--action", "hold").code == 0
    town = Town(node)
    for name in SIGNED_IN:
        town.api[name] = httpx.Client(base_url=node.url, timeout=30,
                                      headers={"Authorization": f"Bearer {token_for(node, name)}"})
        town.web[name] = WebClient(node.url, language="en")
        assert town.web[name].login(name, factories.PASSWORD).status_code == 303
        town.account_ids[name] = int(town.api[name].get("/api/v1/accounts/verify_credentials").json()["id"])
    anna = town.api["anna"]
    assert town.api["fien"].post(f"/api/v1/accounts/{town.account_ids['anna']}/follow").status_code == 200
    root = anna.post("/api/v1/statuses", json={"status": "Wortel van de draad", "voice": "personal"})
    assert root.status_code == 200, root.text
    town.root = int(root.json()["id"])

    def write(kind: str) -> int:
        text = f"{marker(kind)} #geheimtag" + (" @bert" if kind == "direct" else "")
        visibility = kind if kind in ("public", "unlisted", "private", "direct") else "public"
        voice = "official" if kind in ("held", "rejected") else "personal"
        answer = anna.post("/api/v1/statuses", json={"status": text, "visibility": visibility, "voice": voice,
                                                     "in_reply_to_id": str(town.root)})
        if voice == "official":
            assert answer.status_code == 422 and answer.json()["policy"]["outcome"] == "hold", answer.text
            return int(answer.json()["policy"]["status_id"])
        assert answer.status_code == 200, answer.text
        return int(answer.json()["id"])

    for kind in KINDS:
        town.ids[kind] = write(kind)
    assert node.cli("review", "reject", str(town.ids["rejected"]), "--by", "rita", "--reason", "Nee").code == 0
    assert anna.delete(f"/api/v1/statuses/{town.ids['deleted']}").status_code == 200
    # What an earlier bug could leave behind: everyone favourited, was notified of and boosted every post.
    now = datetime.now(UTC)
    for viewer in ("rita", "fien", "bert", "mona"):
        for kind, post_id in town.ids.items():
            fetch(node.database_url, "INSERT INTO favourites (account_id, post_id, created_at) VALUES ($1, $2, $3) "
                  "ON CONFLICT DO NOTHING", town.account_ids[viewer], post_id, now)
            fetch(node.database_url, "INSERT INTO bookmarks (id, account_id, post_id, created_at) VALUES ($1, $2, $3, "
                  "$4)", new_id(), town.account_ids[viewer], post_id, now)
            town.notification_ids[(viewer, kind)] = scalar(
                node.database_url, "INSERT INTO notifications (id, account_id, type, from_account_id, post_id, "
                "created_at) VALUES ($1, $2, 'favourite', $3, $4, $5) RETURNING id",
                post_id + town.account_ids[viewer] % 1000 + 1, town.account_ids[viewer],
                town.account_ids["anna"], post_id, now)
    for kind, post_id in town.ids.items():  # a poll on every kind, its option carrying the marker (issue 14)
        fetch(node.database_url, "INSERT INTO polls (post_id, options, votes, voters_count, expires_at, updated_at) "
              "VALUES ($1, $2, '{0,0}', 0, $3::timestamptz + interval '1 day', $3)", post_id, [marker(kind), "nee"], now)
    for post_id in town.ids.values():  # pins of every kind (the API pins only published, non-direct ones)
        fetch(node.database_url, "INSERT INTO pins (id, account_id, post_id, created_at) VALUES ($1, $2, $3, $4)",
              new_id(), town.account_ids["anna"], post_id, now)
    # Bert follows the tag: public posts with it reach his home timeline and user stream (issue 14, item 5).
    assert town.api["bert"].post("/api/v1/tags/geheimtag/follow").json()["following"] is True
    for kind, post_id in town.ids.items():
        fetch(node.database_url, "INSERT INTO posts (id, account_id, source_text, content_html, spoiler_text, "
              "visibility, voice, language, reblog_of_id, created_at) SELECT max(id) + 1, $1, '', '', '', 'public', "
              "'personal', 'nl', $2, $3 FROM posts", town.account_ids["bert"], post_id, now)
    yield town
    for client in town.api.values():
        client.close()


# ---------------------------------------------------------------- probes: one post


Probe = Callable[[Town, str, int], bool]  # (town, viewer, post id) -> whether the post was shown


def _marker_in(response: httpx.Response, post_id: int, town: Town) -> bool:
    kind = next(k for k, i in town.ids.items() if i == post_id)
    return marker(kind) in response.text


def _api_get(path: str) -> Probe:
    def probe(town: Town, viewer: str, post_id: int) -> bool:
        response = town.api_client(viewer).get(path.format(id=post_id))
        assert response.status_code in (200, 401, 404), (path, response.status_code, response.text[:300])
        return response.status_code == 200 and _marker_in(response, post_id, town)
    return probe


def _api_status(path: str) -> Probe:
    """Endpoints that list accounts, not text: shown means 200 rather than 404."""
    def probe(town: Town, viewer: str, post_id: int) -> bool:
        response = town.api_client(viewer).get(path.format(id=post_id))
        assert response.status_code in (200, 404), (path, response.status_code)
        return response.status_code == 200
    return probe


def _page(path: str, signed_in: bool = False) -> Probe:
    def probe(town: Town, viewer: str, post_id: int) -> bool:
        if signed_in and viewer == "nobody":
            return False
        response = town.web_client(viewer).get(path.format(id=post_id))
        assert response.status_code in (200, 302, 303, 403, 404), (path, response.status_code)
        return response.status_code == 200 and _marker_in(response, post_id, town)
    return probe


def _quotes_of(town: Town, viewer: str, post_id: int) -> bool:
    """GET /api/v1/statuses/:id/quotes (Mastodon 4.5, a user token required): 200 only for a post the viewer sees;
    each quote in it passes the rule itself (it is a status of its own)."""
    response = town.api_client(viewer).get(f"/api/v1/statuses/{post_id}/quotes")
    assert response.status_code in (200, 401, 404), response.status_code
    return response.status_code == 200


def _post_by_id_page(town: Town, viewer: str, post_id: int) -> bool:
    """/posts/{id} sends a reader of one of our posts on to its address; what is not visible is 404."""
    response = town.web_client(viewer).get(f"/posts/{post_id}")
    assert response.status_code in (302, 303, 404), response.status_code
    return response.status_code != 404


def _report_bulk(town: Town, viewer: str, post_id: int) -> bool:
    """The report form sent back without a category shows the chosen posts again (finding 1)."""
    if viewer == "nobody":
        return False
    response = town.web[viewer].post("/report", {"account_id": str(town.account_ids["anna"]),
                                                 "post_ids": str(post_id), "comment": ""})
    return _marker_in(response, post_id, town)


def _ap_get(path: str) -> Probe:
    """An ActivityPub URL asked unsigned, with the ActivityPub Accept header (a page URL too: it then answers
    the document instead of the page)."""
    def probe(town: Town, viewer: str, post_id: int) -> bool:
        response = httpx.get(town.node.url + path.format(id=post_id), headers={"Accept": "application/activity+json"})
        assert response.status_code in (200, 404)
        return response.status_code == 200 and _marker_in(response, post_id, town)
    return probe


def _notification(town: Town, viewer: str, post_id: int) -> bool:
    kind = next(k for k, i in town.ids.items() if i == post_id)
    if (viewer, kind) not in town.notification_ids:
        return False
    response = town.api[viewer].get(f"/api/v1/notifications/{town.notification_ids[(viewer, kind)]}")
    assert response.status_code in (200, 404)
    return response.status_code == 200 and marker(kind) in response.text


ONE_POST: dict[tuple[str, str], Probe] = {
    ("GET", "/api/v1/statuses/{id}"): _api_get("/api/v1/statuses/{id}"),
    ("GET", "/api/v1/statuses"): _api_get("/api/v1/statuses?id[]={id}"),
    ("GET", "/api/v1/statuses/{id}/history"): _api_get("/api/v1/statuses/{id}/history"),
    ("GET", "/api/v1/statuses/{id}/source"): _api_get("/api/v1/statuses/{id}/source"),
    ("GET", "/api/v1/statuses/{id}/context"): _api_status("/api/v1/statuses/{id}/context"),
    ("GET", "/api/v1/statuses/{id}/favourited_by"): _api_status("/api/v1/statuses/{id}/favourited_by"),
    ("GET", "/api/v1/statuses/{id}/reblogged_by"): _api_status("/api/v1/statuses/{id}/reblogged_by"),
    ("GET", "/api/v1/statuses/{id}/quotes"): _quotes_of,
    ("GET", "/api/v1/polls/{id}"): _api_get("/api/v1/polls/{id}"),
    ("GET", "/api/v1/notifications/{id}"): _notification,
    ("GET", "/@{username}/{post_id}"): _page("/@anna/{id}"),
    ("GET", "/posts/{post_id}"): _post_by_id_page,
    ("GET", "/@{username}/{post_id}/edit"): _page("/@anna/{id}/edit", signed_in=True),
    ("GET", "/compose"): _page("/compose?in_reply_to={id}", signed_in=True),
    ("GET", "/report"): _page("/report?post_id={id}", signed_in=True),
    ("POST", "/report"): _report_bulk,
    ("GET", "/admin/posts/{post_id}/remove"): _page("/admin/posts/{id}/remove", signed_in=True),
    ("GET", "/users/{username}/statuses/{post_id}"): _ap_get("/users/anna/statuses/{id}"),
    ("GET", "/users/{username}/statuses/{post_id}/activity"): _ap_get("/users/anna/statuses/{id}/activity"),
    # The post page's URL asked by a server (content negotiation, issue 14): the same rule as the status id.
    ("GET as ActivityPub", "/@{username}/{post_id}"): _ap_get("/@anna/{id}"),
}
# Where a path narrows the audience further: edit is the author's alone, removal shows the post only to a
# moderator who may see it, the AP URL is asked unsigned, notifications exist only for the four who got them.
ONE_POST_AUDIENCE: dict[tuple[str, str], Callable[[str, str], bool]] = {
    ("GET", "/api/v1/notifications/{id}"): lambda kind, viewer: viewer in ("rita", "fien", "bert", "mona")
    and viewer in AUDIENCE[kind],
    **{key: lambda kind, viewer: viewer != "nobody" and viewer in AUDIENCE[kind]
       for key in (("GET", "/compose"), ("GET", "/report"), ("POST", "/report"),
                   ("GET", "/api/v1/statuses/{id}/source"), ("GET", "/api/v1/statuses/{id}/quotes"))},
    ("GET", "/@{username}/{post_id}/edit"): lambda kind, viewer: viewer == "anna" and kind != "deleted",
    ("GET", "/admin/posts/{post_id}/remove"): lambda kind, viewer: viewer == "mona" and kind in ("public",
                                                                                             "unlisted"),
    **{key: lambda kind, viewer: kind in ("public", "unlisted")
       for key in (("GET", "/users/{username}/statuses/{post_id}"),
                   ("GET", "/users/{username}/statuses/{post_id}/activity"),
                   ("GET as ActivityPub", "/@{username}/{post_id}"))},
}


# ---------------------------------------------------------------- probes: listings


Listing = Callable[[Town, str], str | None]  # the text of the listing for this viewer, None when not for them


def _api_list(path: str) -> Listing:
    def listing(town: Town, viewer: str) -> str | None:
        response = town.api_client(viewer).get(path.format(anna=town.account_ids["anna"], root=town.root))
        if response.status_code in (401, 403):
            return None
        assert response.status_code == 200, (path, response.status_code, response.text[:300])
        return response.text
    return listing


def _web_list(path: str) -> Listing:
    def listing(town: Town, viewer: str) -> str | None:
        response = town.web_client(viewer).get(path.format(root=town.root))
        if response.status_code in (302, 303, 401, 403):
            return None
        assert response.status_code == 200, (path, response.status_code)
        return response.text
    return listing


def _ap_outbox(town: Town, viewer: str) -> str | None:
    return httpx.get(f"{town.node.url}/users/anna/outbox?page=true",
                     headers={"Accept": "application/activity+json"}).text


def _ap_featured(town: Town, viewer: str) -> str | None:
    return httpx.get(f"{town.node.url}/users/anna/collections/featured",
                     headers={"Accept": "application/activity+json"}).text


def _notification_ids(town: Town, viewer: str) -> str | None:
    if viewer == "nobody":
        return None
    return town.api[viewer].get("/api/v1/notifications", params={"limit": 40}).text


LISTINGS: dict[tuple[str, str], tuple[Listing, set[str]]] = {
    # listing -> (probe, viewers who must find the public control marker in it)
    ("GET", "/api/v1/timelines/home"): (_api_list("/api/v1/timelines/home"), {"anna", "fien", "bert"}),
    ("GET", "/api/v1/bookmarks"): (_api_list("/api/v1/bookmarks"), {"fien", "bert", "rita", "mona"}),
    ("GET pinned", "/api/v1/accounts/{id}/statuses"): (_api_list("/api/v1/accounts/{anna}/statuses?pinned=true"),
                                                       set(VIEWERS)),
    ("GET", "/users/{username}/collections/featured"): (_ap_featured, set(VIEWERS)),
    ("GET", "/api/v1/timelines/public"): (_api_list("/api/v1/timelines/public"), set(VIEWERS)),
    ("GET", "/api/v1/timelines/tag/{hashtag}"): (_api_list("/api/v1/timelines/tag/geheimtag"), set(VIEWERS)),
    ("GET", "/api/v1/accounts/{id}/statuses"): (_api_list("/api/v1/accounts/{anna}/statuses"), set(VIEWERS)),
    ("GET", "/api/v1/favourites"): (_api_list("/api/v1/favourites"), {"fien", "bert", "rita", "mona"}),
    ("GET", "/api/v1/notifications"): (_notification_ids, {"fien", "bert", "rita", "mona"}),
    ("GET", "/api/v2/search"): (_api_list("/api/v2/search?q=zichtbaarheidstest&type=statuses"), set(VIEWERS)),
    ("GET", "/api/v1/statuses/{id}/context"): (_api_list("/api/v1/statuses/{root}/context"), set(VIEWERS)),
    ("GET", "/"): (_web_list("/"), {"anna", "fien"}),
    ("GET", "/public"): (_web_list("/public"), set(VIEWERS)),
    ("GET", "/tags/{tag}"): (_web_list("/tags/geheimtag"), set(VIEWERS)),
    ("GET", "/@{username}"): (_web_list("/@anna"), set(VIEWERS)),
    ("GET", "/@{username}/{post_id}"): (_web_list("/@anna/{root}"), set(VIEWERS)),
    ("GET", "/orgs/{slug}"): (_web_list("/orgs/gemeente-ede"), set()),
    ("GET", "/notifications"): (_web_list("/notifications"), {"fien", "bert", "rita", "mona"}),
    ("GET", "/review"): (_web_list("/review"), set()),
    ("GET", "/users/{username}/outbox"): (_ap_outbox, set(VIEWERS)),
    # Feeds (issue 13): read as nobody whoever asks, public and published posts only (web/pages/feeds.py).
    ("GET", "/@{username}/feed.rss"): (_web_list("/@anna/feed.rss"), set(VIEWERS)),
    ("GET", "/@{username}/feed.atom"): (_web_list("/@anna/feed.atom"), set(VIEWERS)),
    ("GET", "/@{username}/official.rss"): (_web_list("/@anna/official.rss"), set()),
    ("GET", "/@{username}/official.atom"): (_web_list("/@anna/official.atom"), set()),
    ("GET", "/orgs/{slug}/feed.rss"): (_web_list("/orgs/gemeente-ede/feed.rss"), set()),
    ("GET", "/orgs/{slug}/feed.atom"): (_web_list("/orgs/gemeente-ede/feed.atom"), set()),
    ("GET", "/orgs/{slug}/all.rss"): (_web_list("/orgs/gemeente-ede/all.rss"), set(VIEWERS)),
    ("GET", "/orgs/{slug}/all.atom"): (_web_list("/orgs/gemeente-ede/all.atom"), set(VIEWERS)),
}

# ---------------------------------------------------------------- probes: the streaming API


def _announce_everything(town: Town, viewer: str) -> None:
    """Tell the node's streams that every post of the town (and its boost) was just published, edited and
    deleted, and every notification just made, as if each were new; what a stream passes on must pass the rule.
    Last comes a filters change of the viewer: the node hands events on in order, so once that arrived on the
    viewer's user stream, nothing announced before it is still on its way."""
    ids = list(town.ids.values())
    boosts = [r["id"] for r in fetch(town.node.database_url,
                                     "SELECT id FROM posts WHERE reblog_of_id = ANY($1::bigint[])", ids)]
    events = [f"{kind} {i}" for i in ids + boosts
              for kind in (streams.POST_PUBLISHED, streams.POST_EDITED, streams.POST_DELETED)]
    events += [f"{streams.NOTIFICATION_CREATED} {n}" for n in town.notification_ids.values()]
    events.append(f"{streams.FILTERS_CHANGED} {town.account_ids[viewer]}")
    fetch(town.node.database_url, "SELECT pg_notify($1, e) FROM unnest($2::text[]) WITH ORDINALITY AS x(e, n) "
          "ORDER BY n", streams.CHANNEL, events)


def _ws(town: Town, viewer: str, query: str = "stream=user", path: str = "/api/v1/streaming") -> Any:
    headers = {} if viewer == "nobody" else {"Authorization": town.api[viewer].headers["Authorization"]}
    return connect(f"ws://{town.node.domain}{path}?{query}", additional_headers=headers)


def _until_filters_changed(socket: Any) -> list[str]:
    received = []
    while '"filters_changed"' not in (received or [""])[-1]:
        received.append(str(socket.recv(timeout=20)))
    return received


def _stream_socket(path: str) -> Listing:
    """The WebSocket with every stream subscribed at once."""
    def listing(town: Town, viewer: str) -> str | None:
        if viewer == "nobody":
            with pytest.raises(InvalidStatus):
                _ws(town, viewer, path=path)
            return None
        with _ws(town, viewer, "", path) as socket:
            return _all_streams(town, viewer, socket)
    return listing


def _all_streams(town: Town, viewer: str, socket: Any) -> str:
    for name in ("user", "user:notification", "public", "public:local", "public:remote", "direct", "public:media",
                 "public:local:media", "public:remote:media"):
        socket.send(json.dumps({"type": "subscribe", "stream": name}))
    for name in ("hashtag", "hashtag:local"):
        socket.send(json.dumps({"type": "subscribe", "stream": name, "tag": "geheimtag"}))
    socket.send(json.dumps({"type": "subscribe", "stream": "no-such-stream"}))
    assert "Unknown stream type" in socket.recv(timeout=20)  # answered after the subscriptions above
    _announce_everything(town, viewer)
    return "\n".join(_until_filters_changed(socket))


def _event_stream(path: str) -> Listing:
    """One server-sent-events path; a WebSocket user stream beside it tells when everything was handed on."""
    def listing(town: Town, viewer: str) -> str | None:
        url = f"{town.node.url}{path}"
        if viewer == "nobody":
            assert httpx.get(url).status_code == 401
            return None
        with _ws(town, viewer) as sentinel, httpx.stream("GET", url, headers=town.api[viewer].headers,
                                                         timeout=httpx.Timeout(20, read=1)) as response:
            if response.status_code == 401:  # a list: there are none
                return None
            assert response.status_code == 200, (path, response.status_code)
            lines = response.iter_lines()
            assert next(lines) == ":)"
            _announce_everything(town, viewer)
            _until_filters_changed(sentinel)
            received = []
            with contextlib.suppress(httpx.ReadTimeout):
                received.extend(lines)
        return "\n".join(received)
    return listing


LISTINGS.update({
    ("WebSocket", "/api/v1/streaming"): (_stream_socket("/api/v1/streaming"), set(SIGNED_IN)),
    # The same handler at any path below it (Mastodon's streaming server upgrades there too).
    ("WebSocket", "/api/v1/streaming/{rest:path}"): (_stream_socket("/api/v1/streaming/"), set(SIGNED_IN)),
    ("GET", "/api/v1/streaming/user"): (_event_stream("/api/v1/streaming/user"), {"anna", "fien", "bert"}),
    ("GET", "/api/v1/streaming/user/notification"): (_event_stream("/api/v1/streaming/user/notification"),
                                                     {"fien", "bert", "rita", "mona"}),
    ("GET", "/api/v1/streaming/public"): (_event_stream("/api/v1/streaming/public"), set(SIGNED_IN)),
    ("GET", "/api/v1/streaming/public/local"): (_event_stream("/api/v1/streaming/public/local"), set(SIGNED_IN)),
    ("GET", "/api/v1/streaming/public/remote"): (_event_stream("/api/v1/streaming/public/remote"), set()),
    ("GET", "/api/v1/streaming/hashtag"): (_event_stream("/api/v1/streaming/hashtag?tag=geheimtag"),
                                           set(SIGNED_IN)),
    ("GET", "/api/v1/streaming/hashtag/local"): (_event_stream("/api/v1/streaming/hashtag/local?tag=GeheimTag"),
                                                 set(SIGNED_IN)),
    ("GET", "/api/v1/streaming/direct"): (_event_stream("/api/v1/streaming/direct"), set()),
})


# ---------------------------------------------------------------- lists, grouped notifications, conversations


def _own_list(town: Town, viewer: str) -> str:
    """A list of the viewer's with Anna on it where they may put her there (only Fien follows her)."""
    made = town.api[viewer].post("/api/v1/lists", json={"title": f"Lijst van {viewer}"}).json()
    town.api[viewer].post(f"/api/v1/lists/{made['id']}/accounts", json={"account_ids": [town.account_ids["anna"]]})
    return str(made["id"])


def _list_timeline(town: Town, viewer: str) -> str | None:
    if viewer == "nobody":
        return None
    return _api_list(f"/api/v1/timelines/list/{_own_list(town, viewer)}")(town, viewer)


def _list_stream(town: Town, viewer: str) -> str | None:
    """The list stream of the viewer's own list; someone else's list is refused (tests/integration)."""
    list_id = _own_list(town, viewer) if viewer != "nobody" else "1"
    return _event_stream(f"/api/v1/streaming/list?list={list_id}")(town, viewer)


def _grouped(town: Town, viewer: str) -> str | None:
    return None if viewer == "nobody" else town.api[viewer].get("/api/v2/notifications", params={"limit": 80}).text


def _notification_group(town: Town, viewer: str, post_id: int) -> bool:
    kind = next(k for k, i in town.ids.items() if i == post_id)
    if (viewer, kind) not in town.notification_ids:
        return False
    response = town.api[viewer].get(f"/api/v2/notifications/ungrouped-{town.notification_ids[(viewer, kind)]}")
    assert response.status_code in (200, 404)
    return response.status_code == 200 and marker(kind) in response.text


ONE_POST[("GET", "/api/v2/notifications/{group_key}")] = _notification_group
ONE_POST_AUDIENCE[("GET", "/api/v2/notifications/{group_key}")] = ONE_POST_AUDIENCE[
    ("GET", "/api/v1/notifications/{id}")]
LISTINGS.update({
    ("GET", "/api/v1/timelines/list/{list_id}"): (_list_timeline, {"fien"}),
    ("GET", "/api/v1/streaming/list"): (_list_stream, {"fien"}),
    ("GET", "/api/v2/notifications"): (_grouped, {"fien", "bert", "rita", "mona"}),
    ("GET", "/api/v1/conversations"): (_api_list("/api/v1/conversations"), set()),
    ("GET", "/api/v1/conversations/"): (_api_list("/api/v1/conversations/"), set()),
    ("GET", "/api/v1/notifications/requests"): (_api_list("/api/v1/notifications/requests"), set()),
})

# Webcare (issue 15): the team reads a conversation as the organisation's account sees it. None of the cast works
# Gemeente Ede's inbox, so all are refused; Wendy of its webcare team (made here) sees what that account may see.
ORG_ACCOUNT_SEES = {"public", "unlisted"}  # it follows nobody, is mentioned nowhere, reviews nothing
_WEBCARE: dict[str, dict[str, int]] = {}  # database url -> kind -> conversation id


def _webcare_threads(town: Town) -> dict[str, int]:
    """One conversation of Gemeente Ede per kind of post (rows as `webcare.take_in` writes them), and Wendy."""
    if town.node.database_url not in _WEBCARE:
        factories.person(town.node, "wendy", org="gemeente-ede", role="webcare")
        town.web["wendy"] = WebClient(town.node.url, language="en")
        assert town.web["wendy"].login("wendy", factories.PASSWORD).status_code == 303
        org = scalar(town.node.database_url, "SELECT id FROM organisations WHERE slug = 'gemeente-ede'")
        now, made = datetime.now(UTC), {}
        for kind, post_id in town.ids.items():
            made[kind] = scalar(town.node.database_url, "INSERT INTO webcare_conversations (id, organisation_id, "
                                "citizen_account_id, start_post_id, visibility, created_at, last_activity_at, "
                                "waiting_since) VALUES ($1, $2, $3, $4, 'public', $5, $5, $5) RETURNING id",
                                new_id(), org, town.account_ids["bert"], post_id, now)
            fetch(town.node.database_url, "INSERT INTO webcare_messages (conversation_id, post_id, direction, "
                  "created_at) VALUES ($1, $2, 'in', $3)", made[kind], post_id, now)
        _WEBCARE[town.node.database_url] = made
    return _WEBCARE[town.node.database_url]


def _webcare_thread(town: Town, viewer: str, post_id: int) -> bool:
    kind = next(k for k, i in town.ids.items() if i == post_id)
    conversation = _webcare_threads(town)[kind]
    client = town.web_client(viewer) if viewer != "wendy" else town.web["wendy"]
    response = client.get(f"/orgs/gemeente-ede/webcare/{conversation}")
    assert response.status_code in (200, 303, 403, 404), response.status_code
    return response.status_code == 200 and marker(kind) in response.text


def _webcare_inbox(town: Town, viewer: str) -> str | None:
    _webcare_threads(town)
    return _web_list("/orgs/gemeente-ede/webcare?status=open")(town, viewer)


_WEBCARE_TOKENS: dict[tuple[str, str], httpx.Client] = {}  # (database url, viewer) -> a webcare-scoped client


def _webcare_api(town: Town, viewer: str) -> httpx.Client:
    """The viewer's webcare tool: a token with the `webcare` scope (everyone can get one; the team rule decides)."""
    if viewer == "nobody":
        return town.api_client(viewer)
    key = (town.node.database_url, viewer)
    if key not in _WEBCARE_TOKENS:
        _WEBCARE_TOKENS[key] = httpx.Client(base_url=town.node.url, timeout=30, headers={
            "Authorization": f"Bearer {token_for(town.node, viewer, 'webcare')}"})
    return _WEBCARE_TOKENS[key]


def _webcare_api_thread(town: Town, viewer: str, post_id: int) -> bool:
    kind = next(k for k, i in town.ids.items() if i == post_id)
    conversation = _webcare_threads(town)[kind]
    response = _webcare_api(town, viewer).get(f"/api/v1/ambtenaar/webcare/conversations/{conversation}")
    assert response.status_code in (200, 401, 403, 404), response.status_code
    return response.status_code == 200 and marker(kind) in response.text


def _webcare_api_list(town: Town, viewer: str) -> str | None:
    _webcare_threads(town)
    response = _webcare_api(town, viewer).get("/api/v1/ambtenaar/webcare/conversations",
                                              params={"org": "gemeente-ede", "status": "open"})
    return response.text if response.status_code == 200 else None


ONE_POST[("GET", "/orgs/{slug}/webcare/{conversation_id}")] = _webcare_thread
ONE_POST_AUDIENCE[("GET", "/orgs/{slug}/webcare/{conversation_id}")] = lambda kind, viewer: False
LISTINGS[("GET", "/orgs/{slug}/webcare")] = (_webcare_inbox, set())
ONE_POST[("GET", "/api/v1/ambtenaar/webcare/conversations/{id}")] = _webcare_api_thread
ONE_POST_AUDIENCE[("GET", "/api/v1/ambtenaar/webcare/conversations/{id}")] = lambda kind, viewer: False
LISTINGS[("GET", "/api/v1/ambtenaar/webcare/conversations")] = (_webcare_api_list, set())


# The record (issue 16): the Woo search shows every version of the organisation's posts, held, rejected, direct and
# deleted ones included, by its own rule (`archive_jobs.may_archive`: org admins, archivists, instance admins), not
# the visibility rule. Nobody of the cast has that role, so every one of them must see none of the seven posts.
LISTINGS[("GET", "/orgs/{slug}/woo")] = (_web_list("/orgs/gemeente-ede/woo?q=zichtbaarheidstest"), set())


def test_webcare_team_reads_threads_as_the_organisation_account(town: Town) -> None:
    shown = {kind for kind in KINDS if _webcare_thread(town, "wendy", town.ids[kind])}
    assert shown == ORG_ACCOUNT_SEES
    inbox = _webcare_inbox(town, "wendy")
    assert inbox is not None and {kind for kind in KINDS if marker(kind) in inbox} == ORG_ACCOUNT_SEES
    through_api = {kind for kind in KINDS if _webcare_api_thread(town, "wendy", town.ids[kind])}
    assert through_api == ORG_ACCOUNT_SEES


ACTIONS = "an action on a post: server/post_rules.py, tests/security/test_findings.py"
# Issue 14, item 5: what shows a post here is probed above (list timeline and stream, grouped notifications,
# conversations, notification requests); these show none, or only one's own choices.
ITEM5_NO_POSTS = {
    "/api/v1/lists/{id}": "lists", "/api/v1/lists/{id}/accounts": "accounts",
    "/api/v2/filters/{id}": "filters", "/api/v2/filters/{filter_id}/keywords": "filters",
    "/api/v2/filters/keywords/{id}": "filters", "/api/v2/filters/{filter_id}/statuses": "post ids one chose",
    "/api/v2/filters/statuses/{id}": "post ids one chose", "/api/v1/filters/{id}": "filters",
    "/api/v2/notifications/unread_count": "a count of visible ones", "/api/v2/notifications/policy": "settings",
    "/api/v1/notifications/policy": "settings", "/api/v2/notifications/{group_key}/accounts": "accounts",
    "/api/v2/notifications/{group_key}/dismiss": "writes", "/api/v1/notifications/requests/merged": "a flag",
    "/api/v1/notifications/requests/accept": "writes", "/api/v1/notifications/requests/dismiss": "writes",
    "/api/v1/notifications/requests/{id}": "one request: its last post through render_status_ids (the rule), "
    "as in the listing probed above", "/api/v1/notifications/requests/{id}/accept": "writes",
    "/api/v1/notifications/requests/{id}/dismiss": "writes", "/api/v1/conversations/{id}": "writes",
    "/api/v1/conversations/{id}/read": "one's own conversation, read through the same query as the listing",
}
NO_POSTS = {
    "/healthz": "process health", "/readyz": "database health", "/.well-known/webfinger": "discovery",
    "/.well-known/host-meta": "discovery", "/.well-known/nodeinfo": "discovery", "/nodeinfo/2.1": "counts only",
    "/nodeinfo/2.0": "counts only",
    "/actor": "instance actor", "/actor/inbox": "inbox (writes)", "/inbox": "inbox (writes)",
    "/ns": "JSON-LD context", "/users/{username}": "actor document", "/users/{username}/inbox": "inbox (writes)",
    "/users/{username}/followers": "accounts", "/users/{username}/following": "accounts",
    "/api/v1/apps": "OAuth apps",
    "/api/v1/apps/verify_credentials": "OAuth app", "/oauth/token": "OAuth", "/oauth/revoke": "OAuth",
    "/oauth/userinfo": "OAuth", "/.well-known/oauth-authorization-server": "OAuth metadata",
    "/api/v1/instance": "instance", "/api/v2/instance": "instance",
    "/api/v1/instance/extended_description": "instance", "/api/v1/follow_requests": "accounts",
    "/api/v1/follow_requests/{id}/authorize": "follows", "/api/v1/follow_requests/{id}/reject": "follows",
    "/api/v1/accounts/verify_credentials": "own account", "/api/v1/accounts/update_credentials": "own account",
    "/api/v1/accounts/lookup": "accounts", "/api/v1/accounts/search": "accounts",
    "/api/v1/accounts/relationships": "accounts", "/api/v1/accounts/{id}": "account",
    "/api/v1/accounts/{id}/followers": "accounts", "/api/v1/accounts/{id}/following": "accounts",
    "/api/v1/accounts/{id}/follow": "follows", "/api/v1/accounts/{id}/unfollow": "follows",
    "/api/v1/ambtenaar/policy/preview": "the caller's own draft", "/api/v1/statuses": ACTIONS,
    "/api/v1/polls/{id}/votes": ACTIONS,  # server/post_rules.check_vote; tests/integration/test_polls.py
    "/api/v1/notifications/clear": "writes", "/api/v1/notifications/unread_count": "a count of visible ones",
    "/api/v1/notifications/{id}/dismiss": "writes", "/api/v1/media": "own uploads", "/api/v2/media": "own uploads",
    "/api/v1/media/{id}": "own uploads", "/api/v1/preferences": "own settings", "/api/v1/markers": "positions",
    "/api/v1/instance/translation_languages": "empty", "/api/v1/push/subscription": "not supported: 404",
    "/api/v1/custom_emojis": "empty", "/api/v1/announcements": "empty", "/api/v1/trends": "empty",
    "/api/v1/trends/tags": "empty", "/api/v1/trends/statuses": "empty", "/api/v1/trends/links": "empty",
    "/api/v1/instance/peers": "domains", "/api/v1/instance/activity": "empty", "/api/v1/instance/rules": "text",
    "/api/v1/directory": "empty", "/api/v1/accounts/{id}/featured_tags": "tags", "/api/v1/filters": "filters",
    "/api/v2/filters": "filters", "/api/v1/lists": "lists", "/api/v1/domain_blocks": "empty",
    "/api/v1/followed_tags": "tags", "/api/v1/featured_tags": "tags",
    "/api/v1/endorsements": "accounts", "/api/v2/suggestions": "empty", "/api/v1/suggestions": "empty",
    "/api/v1/accounts/{id}/lists": "lists", "/api/v1/accounts/familiar_followers": "accounts",
    "/api/v1/accounts/{id}/mute": "relations", "/api/v1/accounts/{id}/unmute": "relations",
    "/api/v1/accounts/{id}/block": "relations", "/api/v1/accounts/{id}/unblock": "relations",
    "/api/v1/accounts/{id}/remove_from_followers": "relations", "/api/v1/mutes": "accounts",
    "/api/v1/blocks": "accounts", "/api/v1/reports": "writes (the posts pass the rule)",
    "/api/v1/reports/": "writes (the posts pass the rule)", "/media/proxy/{signature:str}/{encoded:str}": "images",
    "/login": "sign-in", "/logout": "sign-out", "/invite/{token}": "sign-up", "/lang/{code}": "language",
    "/orgs/{slug}/audit": "audit log (org admins)", "/orgs/{slug}/policy": "settings", "/oauth/authorize": "OAuth",
    "/@{username}/mute": "relations", "/@{username}/unmute": "relations", "/@{username}/block": "relations",
    "/@{username}/unblock": "relations", "/accounts/{account_id}/mute": "relations",
    "/accounts/{account_id}/unmute": "relations", "/accounts/{account_id}/block": "relations",
    "/accounts/{account_id}/unblock": "relations", "/settings/mutes": "accounts", "/settings/blocks": "accounts",
    "/settings/followers": "accounts", "/settings/followers/{account_id}/remove": "relations",
    "/compose/preview": "the caller's own draft", "/@{username}/follow": "follows",
    "/@{username}/unfollow": "follows", "/accounts/{account_id}": "a remote profile: its posts come from the "
    "same account listing as /@{username}", "/accounts/{account_id}/follow": "follows",
    "/accounts/{account_id}/unfollow": "follows", "/search": "accounts", "/settings": "own settings",
    "/settings/tokens/{token_id}/revoke": "tokens", "/settings/follow-requests/{account_id}/accept": "follows",
    "/settings/follow-requests/{account_id}/reject": "follows", "/orgs/{slug}/officials.json": "badges",
    "/orgs/{slug}/officials.html": "badges", "/badges/{badge_id}.json": "badges", "/badges/{badge_id}": "badges",
    "/orgs/{slug}/badges": "badges", "/admin/badges": "badges", "/admin/organisations": "organisations",
    "/admin/reports": "reports (moderators)", "/admin/reports/{report_id}": "copies kept as evidence "
    "(moderation/reports.py snapshots only posts the reporter could see)", "/admin/accounts/{account_id}": "history",
    "/report/sent": "confirmation", "/admin/domains": "domains", "/admin/domains/export": "domains",
    "/about/domains": "domains", "/api/v1/instance/domain_blocks": "domains",
    "/api/v1/instance/languages": "language names",
    # Passwords and two-factor sign-in (issue 13): one's own sign-in, sessions and apps; no post.
    "/login/two-factor": "sign-in", "/two-factor/setup": "sign-in", "/password/reset/{token}": "sign-in",
    "/settings/security": "own sessions and apps", "/settings/security/password": "own password",
    "/settings/security/sessions/others/end": "own sessions", "/settings/security/sessions/{session_id}/end":
    "own sessions", "/settings/security/apps/{app_id}/revoke": "own apps", "/settings/security/recovery-codes":
    "own codes", "/settings/security/two-factor/disable": "own sign-in", "/orgs/{slug}/two-factor": "settings",
    "/robots.txt": "crawl rules", "/favicon.ico": "icon", "/toegankelijkheid": "accessibility statement",
    "/admin/statement": "accessibility statement (admins)",
    # Following and answering from another server (issue 13): /interact names only a local account or a post
    # visible to anyone signed out; /authorize_interaction only redirects to a page that applies the rule itself.
    "/interact": "a public post's or account's URI", "/authorize_interaction": "redirects to a page",
    # Organisations and their people on the web (issue 13): admins only (Account.administers); no post.
    "/admin/organisations/new": "organisations (admins)", "/orgs/{slug}/people": "members (org admins)",
    "/orgs/{slug}/people/invite": "invites (org admins)", "/orgs/{slug}/people/{account_id}/role": "roles (org admins)",
    "/orgs/{slug}/people/{account_id}/offboard": "offboarding (org admins)",
    # An organisation's logo and house colour (issue 13): admins only (Account.administers); no post.
    "/orgs/{slug}/profile": "logo and house colour (org admins)",
    "/api/v1/profile/avatar": "own account", "/api/v1/profile/header": "own account",
    "/api/v1/streaming/health": "the streaming API answers",
    # Issue 14, item 5: marks on accounts and tags, and the node's texts; no post (tag counts: public posts only).
    "/api/v1/accounts": "accounts", "/api/v1/accounts/{id}/pin": "endorsements", "/api/v1/accounts/{id}/unpin":
    "endorsements", "/api/v1/accounts/{id}/note": "own note", "/api/v1/tags/{name}": "tag and public counts",
    "/api/v1/tags/{name}/follow": "tags", "/api/v1/tags/{name}/unfollow": "tags", "/api/v1/featured_tags/{id}":
    "tags", "/api/v1/featured_tags/suggestions": "tags", "/api/v1/instance/privacy_policy": "text",
    "/api/v1/instance/terms_of_service": "text", "/privacy": "text", "/voorwaarden": "text", "/admin/texts": "texts",
    # Scheduled posts (issue 14): only the caller's own, not posts yet (server/scheduled.get_scheduled and
    # list_scheduled read account_id = viewer; tests/integration/test_scheduled_posts.py asks as someone else).
    # Quotes (issue 14, item 6): a QuoteAuthorization names the two posts by id only, and is served only to whoever
    # may see the quoted post (federation/routes.py _visible_post); tests/interop/test_quotes_with_peer.py.
    "/users/{username}/statuses/{post_id}/quotes/{quote_id}": "ids only, under the quoted post's rule",
    "/api/v1/scheduled_statuses": "the caller's own scheduled posts",
    "/api/v1/scheduled_statuses/{id}": "the caller's own scheduled posts", "/scheduled": "own scheduled posts",
    "/scheduled/{scheduled_id}/time": "own scheduled posts", "/scheduled/{scheduled_id}/delete": "own scheduled posts",
    # The webcare API (issue 15): scope webcare and the team rule; conversations with posts are probed above.
    **{f"/api/v1/ambtenaar/webcare/conversations/{{id}}/{step}": "a team step (answer: a post as the organisation, "
       "through the reply rule and the checks), no other post shown"
       for step in ("claim", "release", "status", "labels", "notes", "answer")},
    # An organisation's handle domain (issue 17): its admins and instance admins (Account.administers); no post.
    "/orgs/{slug}/handle-domain": "the handle domain and its check (org admins)",
    "/orgs/{slug}/handle-domain/check": "the self-test (org admins)",
    # Archive exports and the Woo export (issue 16): org admins, archivists and instance admins only
    # (`archive_jobs.may_archive`, tests/integration/test_archive_jobs.py and test_woo.py refuse everyone else); the
    # record, every version and state, is theirs by that rule; the Woo search page is probed above.
    "/orgs/{slug}/archive": "export jobs (admins, archivists)", "/orgs/{slug}/archive/status.json": "progress",
    "/orgs/{slug}/archive/{export_id}/download": "the whole record as a bag, for admins and archivists only",
    "/orgs/{slug}/woo/export": "the redacted record, for admins and archivists only",
    "/orgs/{slug}/woo/settings": "a setting (admins)",
    # Webcare pages (issue 15): the team only (server/webcare.check_team); the posts they show are probed above.
    "/webcare": "redirects to one's own inbox", "/orgs/{slug}/webcare/{conversation_id}/state": "status and names",
    "/orgs/{slug}/webcare/{conversation_id}/answer": "writing a post as the organisation (the reply rule)",
    **{f"/orgs/{{slug}}/webcare/{{conversation_id}}/{step}": "a team step, no post shown"
       for step in ("claim", "release", "status", "labels", "note")},
    **{f"/orgs/{{slug}}/webcare/settings{tail}": "webcare settings (the team, admins)" for tail in (
        "", "/hours", "/replies", "/replies/{reply_id}/remove", "/hooks", "/hooks/{hook_id}/remove", "/tokens",
        "/tokens/{token_id}/revoke")},
    "/orgs/{slug}/webcare/report": "counts", "/orgs/{slug}/webcare/report.csv": "counts",
}


NO_POSTS.update(ITEM5_NO_POSTS)


def _route_keys() -> list[tuple[str, str]]:
    app = create_app(settings_from({}, {"secret_key": "s" * 40}))
    keys = []
    for route in app.routes:
        if isinstance(route, Route):
            keys += [(method, route.path) for method in sorted((route.methods or set()) - {"HEAD"})]
        elif isinstance(route, WebSocketRoute):
            keys.append(("WebSocket", route.path))
        else:
            assert isinstance(route, Mount) and route.path in ("/media", "/static"), route
    return keys


def test_every_route_is_classified() -> None:
    """A new endpoint fails here until it says how it applies the visibility rule."""
    missing = []
    for method, path in _route_keys():
        if (method, path) in ONE_POST or (method, path) in LISTINGS or path in NO_POSTS:
            continue
        if method == "POST" and (path.startswith(("/admin/", "/orgs/{slug}/badges")) or path == "/compose"):
            continue  # an admin's or moderator's decision (no post shown), or writing a post (the reply rule)
        if method != "GET" and re.search(r"\{(post_id|id)\}", path) and ("statuses" in path or "posts" in path
                                                                         or path.startswith("/@")
                                                                         or path.startswith("/review")):
            continue  # an action on a post: one rule per action, tested in test_findings.py
        missing.append(f"{method} {path}")
    assert not missing, f"classify these routes in tests/security/test_read_paths.py: {missing}"


@pytest.mark.parametrize("path", list(ONE_POST), ids=lambda p: f"{p[0]} {p[1]}")
def test_one_post_paths_show_a_post_only_to_its_audience(town: Town, path: tuple[str, str]) -> None:
    probe = ONE_POST[path]
    audience = ONE_POST_AUDIENCE.get(path, lambda kind, viewer: viewer in AUDIENCE[kind])
    wrong = []
    for kind in KINDS:
        for viewer in VIEWERS:
            shown = probe(town, viewer, town.ids[kind])
            if shown != audience(kind, viewer):
                wrong.append(f"{kind} post {'shown to' if shown else 'hidden from'} {viewer}")
    assert not wrong, wrong


@pytest.mark.parametrize("path", list(LISTINGS), ids=lambda p: f"{p[0]} {p[1]}")
def test_listings_show_nothing_outside_its_audience(town: Town, path: tuple[str, str]) -> None:
    listing, control_viewers = LISTINGS[path]
    leaks, misses = [], []
    for viewer in VIEWERS:
        text = listing(town, viewer)
        if text is None:
            continue
        leaks += [f"{kind} post shown to {viewer}" for kind in KINDS
                  if viewer not in AUDIENCE[kind] and marker(kind) in text]
        if viewer in control_viewers and marker("public") not in text:
            misses.append(viewer)
    assert not leaks, leaks
    assert not misses, f"the probe is blind: the public post is missing for {misses}"
