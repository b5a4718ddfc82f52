"""ActivityStreams coming in: remote JSON to frozen dataclasses, the only place that reads it.

Owns: `parse_*` (activities, actors, Notes, Flags), which normalise "IRI, object or array" and raise
InvalidActivity naming the field; the small readers of other remote documents (a document's id, a WebFinger
answer's actor link, a key document's owner, a badge verification page's status); remote HTML sanitised with
moderation/sanitize.py's policy; `host_of`. Pure: imports no model, database or network code of ours (only the
text rules of server/names.py, through sanitize too); the JSON we send is federation/wire.py's.
Never: touches the database or the network.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from moderation import sanitize
from server import names

AS_PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
PUBLIC_ALIASES = {AS_PUBLIC, "as:Public", "Public"}
ACTOR_TYPES = ("Person", "Service", "Application", "Group", "Organization")
NOTE_TYPES = ("Note", "Question", "Article", "Page", "Event", "Video", "Image")
MAX_CONTENT = 100_000
# The images we show (server/media.py's SUPPORTED_MIME_TYPES; tests/unit/test_vocab.py keeps the two equal).
IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp", "image/gif")


class InvalidActivity(ValueError):
    """Remote JSON that does not have the shape we need; the message names the field."""


def sanitise_html(html: str) -> str:
    """Remote HTML reduced to what Mastodon keeps (moderation/sanitize.py's policy): no scripts, styles, images or
    event handlers."""
    return sanitize.clean_remote_html(html[:MAX_CONTENT])


def escape_html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def host_of(uri: str) -> str:
    return (urlsplit(uri).netloc or "").lower()


def _first(value: Any) -> Any:
    if isinstance(value, list):
        return value[0] if value else None
    return value


def _iri(doc: Mapping[str, Any], name: str, *, required: bool = True) -> str | None:
    """A field that may hold an IRI, an object with an id, or a one-element array of either."""
    value = _first(doc.get(name))
    if isinstance(value, Mapping):
        value = value.get("id") or value.get("href")
    if value is None:
        if required:
            raise InvalidActivity(f"{name} is missing")
        return None
    if not isinstance(value, str) or not value.startswith(("https://", "http://")) or len(value) > 2048:
        raise InvalidActivity(f"{name} must be an http(s) IRI")
    return value


def _iris(doc: Mapping[str, Any], name: str) -> list[str]:
    value = doc.get(name)
    items = value if isinstance(value, list) else [value] if value is not None else []
    found = []
    for item in items[:1000]:
        if isinstance(item, Mapping):
            item = item.get("id") or item.get("href")
        if isinstance(item, str):
            found.append(item)
    return found


def _text(doc: Mapping[str, Any], name: str, limit: int = MAX_CONTENT) -> str:
    value = doc.get(name)
    if value is None:
        return ""
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str)), "")
    if not isinstance(value, str):
        raise InvalidActivity(f"{name} must be text")
    return value[:limit]


def _types(doc: Mapping[str, Any]) -> list[str]:
    value = doc.get("type")
    items = value if isinstance(value, list) else [value]
    return [t for t in items if isinstance(t, str)]


def _time(doc: Mapping[str, Any], name: str) -> datetime | None:
    value = doc.get(name)
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class Activity:
    """The envelope every inbound activity shares; `object_doc` is the embedded object when one was sent."""

    id: str
    type: str
    actor: str
    object_id: str | None
    object_doc: Mapping[str, Any] | None
    object_type: str | None
    to: tuple[str, ...]
    cc: tuple[str, ...]
    raw: Mapping[str, Any]


def parse_activity(doc: Any) -> Activity:
    if not isinstance(doc, Mapping):
        raise InvalidActivity("the activity must be a JSON object")
    types = _types(doc)
    if not types:
        raise InvalidActivity("type is missing")
    activity_id = _iri(doc, "id")
    actor = _iri(doc, "actor")
    obj = _first(doc.get("object"))
    object_doc = obj if isinstance(obj, Mapping) else None
    object_id: str | None = None
    if isinstance(obj, str):
        object_id = obj
    elif object_doc is not None:
        object_id = object_doc.get("id") if isinstance(object_doc.get("id"), str) else None
    object_types = _types(object_doc) if object_doc is not None else []
    return Activity(id=str(activity_id), type=types[0], actor=str(actor), object_id=object_id,
                    object_doc=object_doc, object_type=object_types[0] if object_types else None,
                    to=tuple(_iris(doc, "to")), cc=tuple(_iris(doc, "cc")), raw=doc)


@dataclass(frozen=True)
class RemoteFlag:
    """A report from another server: the objects it points at (accounts and posts, ours or not) and a comment."""

    id: str
    actor: str
    objects: tuple[str, ...]
    content: str


MAX_FLAG_OBJECTS = 100


def parse_flag(doc: Any) -> RemoteFlag:
    """Mastodon sends `object` as an array of IRIs (the account, then posts); one IRI or embedded objects are
    accepted too. The comment is kept as plain text."""
    if not isinstance(doc, Mapping) or "Flag" not in _types(doc):
        raise InvalidActivity("the activity must be a Flag")
    objects = [o for o in _iris(doc, "object") if o.startswith(("https://", "http://")) and len(o) <= 2048]
    if not objects:
        raise InvalidActivity("object must name at least one account or post")
    return RemoteFlag(id=str(_iri(doc, "id")), actor=str(_iri(doc, "actor")),
                      objects=tuple(dict.fromkeys(objects))[:MAX_FLAG_OBJECTS],
                      content=sanitize.plain_text(_text(doc, "content", 20_000), 5000))


@dataclass(frozen=True)
class RemoteActor:
    id: str
    type: str
    preferred_username: str
    name: str
    summary_html: str
    url: str | None
    inbox: str
    shared_inbox: str | None
    followers: str | None
    key_id: str | None
    public_key_pem: str | None
    icon_url: str | None
    manually_approves_followers: bool
    badge: Mapping[str, Any] | None = None  # our `ambtenaarBadge` term, unverified (federation/badge_proofs.py)
    suspended: bool = False  # Mastodon's `toot:suspended`: its own server suspended it
    image_url: str | None = None  # the header
    fields: tuple[dict[str, str], ...] = ()  # PropertyValue attachments: name (plain) and value (sanitised HTML)


def parse_actor(doc: Any) -> RemoteActor:
    if not isinstance(doc, Mapping):
        raise InvalidActivity("the actor must be a JSON object")
    types = _types(doc)
    if not any(t in ACTOR_TYPES for t in types):
        raise InvalidActivity("type must be an actor type (Person, Service, Application, Group, Organization)")
    actor_id = str(_iri(doc, "id"))
    # A handle is shown as @name@host: no invisible or bidi characters, which could show the host reversed.
    username = names.clean_name(_text(doc, "preferredUsername", 200), 200)
    if not username:
        raise InvalidActivity("preferredUsername is missing")
    key = doc.get("publicKey")
    key = _first(key)
    key_id = key.get("id") if isinstance(key, Mapping) and isinstance(key.get("id"), str) else None
    key_pem = key.get("publicKeyPem") if isinstance(key, Mapping) and isinstance(key.get("publicKeyPem"), str) \
        else None
    if isinstance(key, Mapping) and isinstance(key.get("owner"), str) and key["owner"] != actor_id:
        raise InvalidActivity("publicKey.owner is not the actor")
    endpoints = doc.get("endpoints") if isinstance(doc.get("endpoints"), Mapping) else {}
    shared = endpoints.get("sharedInbox") if isinstance(endpoints.get("sharedInbox"), str) else None
    icon = _first(doc.get("icon"))
    icon_url = None
    if isinstance(icon, Mapping):
        icon_url = _first(icon.get("url"))
        icon_url = icon_url.get("href") if isinstance(icon_url, Mapping) else icon_url
    elif isinstance(icon, str):
        icon_url = icon
    url = _first(doc.get("url"))
    url = url.get("href") if isinstance(url, Mapping) else url
    return RemoteActor(
        id=actor_id, type=next(t for t in types if t in ACTOR_TYPES), preferred_username=username,
        name=names.clean_name(_text(doc, "name", 500), 500), summary_html=sanitise_html(_text(doc, "summary")),
        url=sanitize.http_url(url), inbox=str(_iri(doc, "inbox")), shared_inbox=shared,
        followers=_iri(doc, "followers", required=False), key_id=key_id, public_key_pem=key_pem,
        icon_url=icon_url if isinstance(icon_url, str) and icon_url.startswith("http") else None,
        manually_approves_followers=doc.get("manuallyApprovesFollowers") is True,
        badge=_badge(doc.get("ambtenaarBadge")), suspended=doc.get("suspended") is True,
        image_url=_image_url(doc.get("image")), fields=_property_values(doc.get("attachment")))


def _image_url(value: Any) -> str | None:
    image = _first(value)
    url = _first(image.get("url")) if isinstance(image, Mapping) else image
    url = url.get("href") if isinstance(url, Mapping) else url
    return sanitize.http_url(url)


MAX_PROFILE_FIELDS = 16


def _property_values(value: Any) -> tuple[dict[str, str], ...]:
    """An actor's profile fields (Mastodon's PropertyValue attachments), at most 16, the name as plain text and
    the value as sanitised HTML."""
    items = value if isinstance(value, list) else [value]
    found = []
    for item in items:
        if not isinstance(item, Mapping) or "PropertyValue" not in _types(item):
            continue
        name = names.clean_name(sanitize.plain_text(str(item.get("name") or ""), 255), 255)
        if name:
            found.append({"name": name, "value": sanitise_html(str(item.get("value") or "")[:2048])})
    return tuple(found[:MAX_PROFILE_FIELDS])


def _badge(value: Any) -> Mapping[str, Any] | None:
    """A claimed badge, kept as sent (its signature covers it) unless a link in it is not http(s): pages and apps
    link to these, so a `javascript:` address there makes it no badge at all."""
    if not isinstance(value, Mapping):
        return None
    organisation = value.get("organisation") if isinstance(value.get("organisation"), Mapping) else {}
    links = [value.get("verification"), organisation.get("id"), organisation.get("website")]
    # Kept as signed, so not cleaned: a function or organisation name with invisible or bidi characters (which
    # could make it read as another) is no badge at all, like a javascript: link.
    shown = [value.get("function"), value.get("unit"), organisation.get("name")]
    if any(isinstance(text, str) and names.invisible(text) for text in shown):
        return None
    return value if all(link is None or sanitize.http_url(link) for link in links) else None


@dataclass(frozen=True)
class RemoteNote:
    id: str
    attributed_to: str
    content_html: str
    summary: str
    sensitive: bool
    in_reply_to: str | None
    published: datetime | None
    updated: datetime | None
    url: str | None
    to: tuple[str, ...]
    cc: tuple[str, ...]
    mentions: tuple[str, ...]
    hashtags: tuple[str, ...]
    language: str
    voice: str | None = None  # our extension: official or personal; None from other software
    voice_organisation_uri: str | None = None
    attachments: tuple[RemoteImage, ...] = ()
    quote: str | None = None  # the post it quotes (FEP-044f `quote`, or the older quoteUrl, quoteUri, _misskey_quote)
    poll: RemotePoll | None = None  # a Question's options and counts
    name: str = ""  # a Note's `name`: with inReplyTo and no content, a vote in a poll (Mastodon's shape)

    @property
    def may_be_vote(self) -> bool:
        """A Note with a name that answers a post: a vote when that post is a poll of ours with such an option
        (Mastodon's test; federation/inbound/polls.py asks)."""
        return bool(self.name and self.in_reply_to and self.poll is None)


@dataclass(frozen=True)
class RemotePoll:
    """A Question's poll: `oneOf` (one choice) or `anyOf` (several), each option's `replies.totalItems`."""

    options: tuple[str, ...]
    votes: tuple[int, ...]
    multiple: bool
    expires_at: datetime | None  # endTime, else closed
    voters_count: int | None


MAX_POLL_OPTIONS = 20  # server/polls.py's MAX_REMOTE_OPTIONS: a Question with more is read as a post without a poll


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**31 else 0


def parse_poll(doc: Mapping[str, Any]) -> RemotePoll | None:
    """The poll of a Question; None for any other object or a Question that is not a poll we can show."""
    if "Question" not in _types(doc):
        return None
    multiple = isinstance(doc.get("anyOf"), list)
    items = doc.get("anyOf") if multiple else doc.get("oneOf")
    items = items if isinstance(items, list) else [items] if isinstance(items, Mapping) else []
    options: list[str] = []
    votes: list[int] = []
    for item in items:
        if not isinstance(item, Mapping):
            continue
        title = sanitize.plain_text(_text(item, "name", 500), 500).strip()
        replies = item.get("replies")
        if not title or title in options:
            continue
        options.append(title)
        votes.append(_count(replies.get("totalItems")) if isinstance(replies, Mapping) else 0)
    if not 1 <= len(options) <= MAX_POLL_OPTIONS:
        return None
    voters = doc.get("votersCount")
    return RemotePoll(tuple(options), tuple(votes), multiple, _time(doc, "endTime") or _time(doc, "closed"),
                      _count(voters) if isinstance(voters, int) and not isinstance(voters, bool) else None)


@dataclass(frozen=True)
class RemoteImage:
    """An image a remote post links to, as its server describes it (kept as an address: server/media.py)."""

    url: str
    media_type: str
    description: str
    blurhash: str
    width: int
    height: int


def _dimension(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= 100_000 else 0


def parse_attachments(doc: Mapping[str, Any]) -> tuple[RemoteImage, ...]:
    """At most four images with an http(s) address; other media types (video, audio) are left out for now."""
    value = doc.get("attachment")
    found: list[RemoteImage] = []
    for item in (value if isinstance(value, list) else [value] if value else [])[:20]:
        if not isinstance(item, Mapping) or not any(t in ("Document", "Image") for t in _types(item)):
            continue
        url = _first(item.get("url"))
        url = url.get("href") if isinstance(url, Mapping) else url
        media_type = item.get("mediaType")
        if not isinstance(url, str) or not url.startswith(("https://", "http://")) or len(url) > 2048:
            continue
        if media_type not in IMAGE_TYPES:
            continue
        blur, name = item.get("blurhash"), item.get("name")
        found.append(RemoteImage(
            url=url, media_type=str(media_type), description=sanitize.plain_text(name, 1500) if isinstance(name, str) else "",
            blurhash=blur if isinstance(blur, str) and len(blur) <= 100 and blur.isprintable() else "",
            width=_dimension(item.get("width")), height=_dimension(item.get("height"))))
        if len(found) == 4:
            break
    return tuple(found)


def _strip_voice_line(content: str, doc: Mapping[str, Any]) -> str:
    """Our nodes show the voice from the term, so the visible line our senders add is taken off again; only
    that exact prefix, nothing else."""
    voice_line = doc.get("voiceLine")
    if isinstance(voice_line, str) and voice_line and content.startswith(voice_line):
        return content[len(voice_line):]
    return content


# RFC 5646's shape, simplified: a 2-3 letter language (all that ISO 639 assigns; 4-8 letter languages are reserved
# and unused), then any number of subtags of 1-8 ASCII letters or digits (extlang, script, region, variants,
# extensions and private use all have that shape). Nothing outside [A-Za-z0-9-] passes, so a tag is safe in an HTML
# attribute and in JSON as it is. Checking each subtag against the IANA registry would refuse new languages and buy
# nothing here: the tag is only shown as `lang` and given to clients.
_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*")
MAX_LANGUAGE_TAG = 35  # RFC 5646 section 4.4.1: every tag that matters in practice fits in 35 characters


def language_tag(value: object) -> str | None:
    """A well-formed BCP 47 language tag, primary language lower case (tags are case-insensitive; Mastodon and
    our own posts write `nl`, `en`); None for anything else, which is never stored."""
    if not isinstance(value, str) or len(value) > MAX_LANGUAGE_TAG or not _LANGUAGE_TAG.fullmatch(value):
        return None
    primary, _, rest = value.partition("-")
    return primary.lower() + (f"-{rest}" if rest else "")


def parse_note(doc: Any) -> RemoteNote:
    if not isinstance(doc, Mapping):
        raise InvalidActivity("the object must be a JSON object")
    types = _types(doc)
    if not any(t in NOTE_TYPES for t in types):
        raise InvalidActivity("the object must be a Note (or Question, Article, Page)")
    content = _text(doc, "content")
    content_map = doc.get("contentMap")
    language = "und"
    if isinstance(content_map, Mapping) and content_map:
        # The first entry whose key is a language tag gives the language; a key that is not one is never stored or
        # shown as `lang`, but its text is still the note's text when there is no other (language `und`).
        entries = [(language_tag(key), mapped) for key, mapped in content_map.items() if isinstance(mapped, str)]
        tagged = [(tag, mapped) for tag, mapped in entries if tag]
        tag, mapped = (tagged or entries or [(None, "")])[0]
        language = tag or "und"
        if not content and mapped:
            content = mapped[:MAX_CONTENT]
    if "Article" in types or "Page" in types:
        title = _text(doc, "name", 500)
        url_value = _first(doc.get("url"))
        link = url_value if isinstance(url_value, str) else None
        if title:
            content = f"<p><strong>{escape_html(title)}</strong></p>" + (
                f'<p><a href="{escape_html(link)}">{escape_html(link)}</a></p>' if link else "") + content
    mentions, hashtags = [], []
    tag_value = doc.get("tag")
    for tag in (tag_value if isinstance(tag_value, list) else [tag_value] if tag_value else [])[:200]:
        if not isinstance(tag, Mapping):
            continue
        if "Mention" in _types(tag) and isinstance(tag.get("href"), str):
            mentions.append(tag["href"])
        if "Hashtag" in _types(tag) and isinstance(tag.get("name"), str):
            name = tag["name"].lstrip("#").lower()
            if name and len(name) <= 100 and all(ch.isalnum() or ch == "_" for ch in name):
                hashtags.append(name)
    url = _first(doc.get("url"))
    url = url.get("href") if isinstance(url, Mapping) else url
    voice = doc.get("voice") if doc.get("voice") in ("official", "personal") else None
    if voice is not None:
        content = _strip_voice_line(content, doc)
    return RemoteNote(
        id=str(_iri(doc, "id")), attributed_to=str(_iri(doc, "attributedTo")),
        content_html=sanitise_html(content), summary=sanitize.plain_text(_text(doc, "summary", 1000), 1000),
        sensitive=doc.get("sensitive") is True, in_reply_to=_iri(doc, "inReplyTo", required=False),
        published=_time(doc, "published"), updated=_time(doc, "updated"),
        url=url if isinstance(url, str) and url.startswith("http") else None,
        to=tuple(_iris(doc, "to")), cc=tuple(_iris(doc, "cc")), mentions=tuple(dict.fromkeys(mentions)),
        hashtags=tuple(dict.fromkeys(hashtags)), language=language, voice=voice,
        voice_organisation_uri=_iri(doc, "voiceOrganisation", required=False) if voice == "official" else None,
        attachments=parse_attachments(doc), quote=_quote_of(doc), poll=parse_poll(doc),
        name=sanitize.plain_text(_text(doc, "name", 500), 500).strip() if "Note" in types else "")


QUOTE_PROPERTIES = ("quote", "quoteUrl", "quoteUri", "_misskey_quote")


def _quote_of(doc: Mapping[str, Any]) -> str | None:
    """The first quote a post names, as Mastodon reads it: FEP-044f's `quote`, then the older properties."""
    for name in QUOTE_PROPERTIES:
        try:
            found = _iri(doc, name, required=False)
        except InvalidActivity:
            continue
        if found:
            return found
    return None


def parse_target(doc: Mapping[str, Any]) -> str | None:
    """The `target` of an Add or Remove (Mastodon: the actor's `featured` collection); InvalidActivity if no IRI."""
    return _iri(doc, "target", required=False)


def visibility_of(to: Sequence[str], cc: Sequence[str], followers_uri: str | None) -> str:
    """Mastodon's rule: Public in `to` is public, in `cc` unlisted; the followers collection is followers-only."""
    if any(t in PUBLIC_ALIASES for t in to):
        return "public"
    if any(c in PUBLIC_ALIASES for c in cc):
        return "unlisted"
    if followers_uri and (followers_uri in to or followers_uri in cc):
        return "private"
    if any(t.endswith("/followers") for t in (*to, *cc)):
        return "private"
    return "direct"


def document_id(doc: Mapping[str, Any]) -> str | None:
    """The `id` a fetched document gives itself, when it is text (authority follows origin is checked on it)."""
    value = doc.get("id")
    return value if isinstance(value, str) else None


POST_TYPES = ("Note", "Question", "Article", "Page")


def document_kind(doc: Mapping[str, Any]) -> str | None:
    """"actor" or "post" for what a page URL led to (search shows an account or a post), None otherwise."""
    kind = doc.get("type")
    types = kind if isinstance(kind, list) else [kind]
    if any(t in ACTOR_TYPES for t in types):
        return "actor"
    if any(t in POST_TYPES for t in types):
        return "post"
    return None


class _AlternateLinks(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.found is not None or tag != "link":
            return
        values = {k.lower(): (v or "") for k, v in attrs}
        rels = values.get("rel", "").lower().split()
        kind = values.get("type", "").lower()
        if "alternate" in rels and ("application/activity+json" in kind or "application/ld+json" in kind) \
                and values.get("href", "").startswith(("https://", "http://")):
            self.found = values["href"]


def alternate_activity_link(page: str) -> str | None:
    """The ActivityPub document a web page points to (`<link rel="alternate" type="application/activity+json">`),
    as Mastodon looks for it when a pasted link answers HTML; only an absolute http(s) URL counts."""
    parser = _AlternateLinks()
    try:
        parser.feed(page[:512 * 1024])
    except AssertionError:  # HTMLParser gives up on some malformed markup; there is then no usable link
        return None
    return parser.found


def webfinger_actor(jrd: Any) -> str | None:
    """The ActivityPub actor a WebFinger answer links to (`rel: self` with an activity+json type), or None."""
    links = jrd.get("links") if isinstance(jrd, Mapping) else None
    for link in links if isinstance(links, list) else []:
        if isinstance(link, Mapping) and link.get("rel") == "self" and isinstance(link.get("href"), str) \
                and "activity+json" in str(link.get("type", "")) + " activity+json":
            return str(link["href"])
    return None


def webfinger_subject(jrd: Any) -> str | None:
    """The `subject` of a WebFinger answer (`acct:user@domain`: a split-domain server's canonical handle), or None."""
    subject = jrd.get("subject") if isinstance(jrd, Mapping) else None
    return subject if isinstance(subject, str) and len(subject) < 600 else None


SUBSCRIBE = "http://ostatus.org/schema/1.0/subscribe"


def webfinger_subscribe_template(jrd: Any) -> str | None:
    """Where a server sends its users to follow or answer something elsewhere: the OStatus subscribe template of a
    WebFinger answer (an http(s) URL with `{uri}` in it), or None."""
    links = jrd.get("links") if isinstance(jrd, Mapping) else None
    for link in links if isinstance(links, list) else []:
        template = link.get("template") if isinstance(link, Mapping) and link.get("rel") == SUBSCRIBE else None
        if isinstance(template, str) and "{uri}" in template and len(template) < 2000 \
                and template.startswith(("https://", "http://")):
            return template
    return None


def key_owner(doc: Mapping[str, Any]) -> str | None:
    """The actor a separate key document names as its owner."""
    owner = doc.get("owner")
    return owner if isinstance(owner, str) else None


def badge_verification_page(badge: Mapping[str, Any]) -> str | None:
    """The verification page a claimed badge names (its issuer is badge_proofs.issuer_of's, the signed format's)."""
    page = badge.get("verification")
    return page if isinstance(page, str) else None


def badge_page_status(doc: Any) -> str | None:
    """The `status` a badge's verification page (as JSON) gives, or None."""
    status = doc.get("status") if isinstance(doc, Mapping) else None
    return status if isinstance(status, str) else None
