"""A changed avatar, header and profile fields reach followers' servers as an Update of the actor."""

from __future__ import annotations

import io

import httpx
from PIL import Image

from tests.federation.conftest import api, follow_remote
from tests.helpers.database import scalar
from tests.helpers.nodes import Node
from tests.helpers.polling import eventually


def _png(size: tuple[int, int], colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def test_new_avatar_header_and_fields_reach_the_followers_server(gemeente: Node, burger: Node) -> None:
    anna, bert = api(gemeente, "anna"), api(burger, "bert")
    anna_at_burger = follow_remote(bert, f"anna@{gemeente.domain}")
    before = bert.get(f"/api/v1/accounts/{anna_at_burger}").json()
    assert before["fields"] == [] or all(f["name"] != "Spreekuur" for f in before["fields"])

    changed = anna.patch("/api/v1/accounts/update_credentials",
                         files={"avatar": ("anna.png", _png((600, 600), (200, 20, 20)), "image/png"),
                                "header": ("ede.png", _png((900, 300), (20, 20, 200)), "image/png")},
                         data={"avatar_description": "Anna bij het gemeentehuis", "header_description": "De Markt",
                               "fields_attributes[0][name]": "Spreekuur",
                               "fields_attributes[0][value]": "dinsdag 10-12",
                               "fields_attributes[1][name]": "Website",
                               "fields_attributes[1][value]": "https://ede.example/anna"})
    assert changed.status_code == 200, changed.text

    # The actor document: icon and image with their alt text, the organisation's field first, then hers.
    actor = httpx.get(f"{gemeente.url}/users/anna", headers={"Accept": "application/activity+json"}).json()
    assert actor["icon"]["url"] == changed.json()["avatar"] and actor["icon"]["name"] == "Anna bij het gemeentehuis"
    assert actor["image"]["url"] == changed.json()["header"] and actor["image"]["name"] == "De Markt"
    names = [a["name"] for a in actor["attachment"]]
    assert names[-2:] == ["Spreekuur", "Website"] and names.index("Spreekuur") > 0
    assert all(a["type"] == "PropertyValue" for a in actor["attachment"])

    # The follower's server heard the Update: it shows her fields, and her new avatar and header (proxied).
    seen = eventually(lambda: bert.get(f"/api/v1/accounts/{anna_at_burger}").json(),
                      lambda a: any(f["name"] == "Spreekuur" for f in a["fields"]), what="the Update at burger")
    fields = {f["name"]: f["value"] for f in seen["fields"]}
    assert fields["Spreekuur"] == "dinsdag 10-12"
    assert 'href="https://ede.example/anna"' in fields["Website"]
    for key, size, colour in (("avatar", (400, 400), (200, 20, 20)), ("header", (1500, 500), (20, 20, 200))):
        assert seen[key].startswith(f"{burger.url}/media/proxy/"), seen[key]
        image = Image.open(io.BytesIO(httpx.get(seen[key]).content)).convert("RGB")
        assert image.size == size
        assert all(abs(a - b) < 20 for a, b in zip(image.getpixel((5, 5)), colour))

    # burger rejects gemeente's media: the header goes as the avatar does; a suspension forgets the fields too.
    assert burger.cli("domain", "block", gemeente.domain, "--severity", "reject-media").code == 0
    after = bert.get(f"/api/v1/accounts/{anna_at_burger}").json()
    assert after["header"].endswith("/static/header.png") and after["avatar"].endswith("/static/avatar.png")
    assert any(f["name"] == "Spreekuur" for f in after["fields"])
    assert burger.cli("domain", "block", gemeente.domain, "--severity", "suspend").code == 0
    assert scalar(burger.database_url, "SELECT count(*) FROM profiles WHERE account_id = $1", int(anna_at_burger)) == 0
