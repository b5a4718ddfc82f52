"""ActivityStreams we send: our accounts, posts and organisations as the JSON other servers receive or fetch.

Owns: the `@context` with our extension terms, every `*_to_json` builder (actors, Notes, activities, collections)
and addressing as Mastodon does it (`audience`). Never: reads remote JSON (federation/vocab.py does), touches the
database (federation/objects.py loads what a Note or an actor needs) or the network.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from federation.vocab import AS_PUBLIC, escape_html
from server import media_store, profiles, uris
from server.accounts import Account
from server.config import Settings
from server.media import Attachment
from server.organisations import Organisation
from server.posts import Post
from server.profiles import Profile


def context(settings: Settings) -> list[Any]:
    return ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1", {
        "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
        "sensitive": "as:sensitive",
        "Hashtag": "as:Hashtag",
        "toot": "http://joinmastodon.org/ns#",
        "featured": {"@id": "toot:featured", "@type": "@id"},
        "discoverable": "toot:discoverable",
        "suspended": "toot:suspended",
        "indexable": "toot:indexable",
        "blurhash": "toot:blurhash",
        "focalPoint": {"@container": "@list", "@id": "toot:focalPoint"},
        "votersCount": "toot:votersCount",
        "schema": "http://schema.org#",
        "PropertyValue": "schema:PropertyValue",
        "value": "schema:value",
        "ambtenaar": uris.context_document(settings) + "#",
        "voice": "ambtenaar:voice",
        "voiceOrganisation": {"@id": "ambtenaar:voiceOrganisation", "@type": "@id"},
        "voiceLine": "ambtenaar:voiceLine",
        "ambtenaarBadge": "ambtenaar:badge",
        "AmbtenaarBadge": "ambtenaar:AmbtenaarBadge",
        "subject": {"@id": "ambtenaar:subject", "@type": "@id"},
        "organisation": "ambtenaar:organisation",
        "website": {"@id": "ambtenaar:website", "@type": "@id"},
        "function": "ambtenaar:function",
        "unit": "ambtenaar:unit",
        "validFrom": "ambtenaar:validFrom",
        "validUntil": "ambtenaar:validUntil",
        "verification": {"@id": "ambtenaar:verification", "@type": "@id"},
        "proof": "ambtenaar:proof",
        "creator": {"@id": "ambtenaar:creator", "@type": "@id"},
        "signatureValue": "ambtenaar:signatureValue",
        "AmbtenaarBadgeSignature2026": "ambtenaar:AmbtenaarBadgeSignature2026",
        "ostatus": "http://ostatus.org#",
        "atomUri": "ostatus:atomUri",
        # Quote posts (FEP-044f) and who may quote (GoToSocial's interaction policies), as Mastodon 4.5 sends them.
        "gts": "https://gotosocial.org/ns#",
        "interactionPolicy": {"@id": "gts:interactionPolicy", "@type": "@id"},
        "canQuote": {"@id": "gts:canQuote", "@type": "@id"},
        "automaticApproval": {"@id": "gts:automaticApproval", "@type": "@id"},
        "manualApproval": {"@id": "gts:manualApproval", "@type": "@id"},
        "interactingObject": {"@id": "gts:interactingObject", "@type": "@id"},
        "interactionTarget": {"@id": "gts:interactionTarget", "@type": "@id"},
        "QuoteRequest": "https://w3id.org/fep/044f#QuoteRequest",
        "QuoteAuthorization": "https://w3id.org/fep/044f#QuoteAuthorization",
        "quote": {"@id": "https://w3id.org/fep/044f#quote", "@type": "@id"},
        "quoteAuthorization": {"@id": "https://w3id.org/fep/044f#quoteAuthorization", "@type": "@id"},
        # The actor's canonical handle (FEP-2c59), `anna@ede.nl` on an organisation's handle domain (issue 17).
        "webfinger": {"@id": "https://purl.archive.org/socialweb/webfinger#webfinger",
                      "@type": "http://www.w3.org/2001/XMLSchema#string"},
    }]


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def actor_to_json(settings: Settings, account: Account, public_key_pem: str, organisation: Organisation | None,
                  badge_field: tuple[str, str] | None = None,
                  badge_doc: Mapping[str, Any] | None = None, profile: Profile | None = None,
                  handle_domain: str | None = None) -> dict[str, Any]:
    """`badge_field` is (verification URL, text) for the profile field Mastodon shows; `badge_doc` the signed
    badge for machines (federation/badge_proofs.py); `profile` the avatar, header and the person's own fields
    (after the badge's and organisation's); `handle_domain` the organisation's live handle domain, for the
    FEP-2c59 `webfinger` property (the node's domain without one)."""
    name = account.username
    actor_id = uris.actor(settings, name)
    summary = "".join(f"<p>{escape_html(p)}</p>" for p in account.bio.split("\n\n") if p.strip())
    attachment = []
    if badge_field is not None:
        url, text = badge_field
        attachment.append({"type": "PropertyValue", "name": "Ambtenaar",
                           "value": f'<a href="{escape_html(url)}" rel="me nofollow noopener noreferrer" '
                                    f'target="_blank">{escape_html(text)}</a>'})
    if organisation is not None:
        label = "Organisatie" if account.is_organisation else "Ambtenaar bij"
        attachment.append({"type": "PropertyValue", "name": label,
                           "value": f'<a href="{escape_html(settings.base_url)}/orgs/{organisation.slug}" '
                                    f'rel="me nofollow noopener noreferrer" target="_blank">{escape_html(organisation.name)}</a>'})
    for item in profile.fields if profile else []:
        attachment.append({"type": "PropertyValue", "name": item["name"], "value": _field_value(item["value"])})
    doc: dict[str, Any] = {
        "@context": context(settings),
        "id": actor_id,
        "type": "Organization" if account.is_organisation else "Person",
        "preferredUsername": name,
        "webfinger": f"{name}@{handle_domain or settings.domain}",
        "name": account.display_name or name,
        "summary": summary,
        "url": uris.profile(settings, name),
        "published": iso(account.created_at),
        "inbox": uris.inbox(settings, name),
        "outbox": uris.outbox(settings, name),
        "followers": uris.followers(settings, name),
        "following": uris.following(settings, name),
        "featured": uris.featured(settings, name),
        "endpoints": {"sharedInbox": uris.shared_inbox(settings)},
        "manuallyApprovesFollowers": account.manually_approves_followers,
        "discoverable": profile.discoverable if profile else True,
        "indexable": True,
        "icon": _image(settings, profile, "avatar") or {"type": "Image", "mediaType": "image/png",
                                                        "url": f"{settings.base_url}/static/avatar.png"},
        **({"image": header} if (header := _image(settings, profile, "header")) else {}),
        "attachment": attachment,
        "publicKey": {"id": uris.key_id(settings, name), "owner": actor_id, "publicKeyPem": public_key_pem},
        **({"ambtenaarBadge": dict(badge_doc)} if badge_doc else {}),
    }
    if account.is_suspended:
        # As Mastodon serves a suspended actor: still there (its key verifies what it sent before), stripped of
        # profile, and marked, so other servers hide it too.
        doc.update(name=name, summary="", attachment=[], discoverable=False, indexable=False, suspended=True)
        for gone in ("icon", "image", "ambtenaarBadge"):
            doc.pop(gone, None)
    return doc


def _image(settings: Settings, profile: Profile | None, kind: str) -> dict[str, Any] | None:
    """An avatar (`icon`) or header (`image`), with its alt text as `name` when there is one."""
    url = profiles.image_url(settings, profile, kind)
    if profile is None or url is None:
        return None
    image = {"type": "Image", "mediaType": profiles.media_type(url), "url": url}
    return {**image, "name": profile.description(kind)} if profile.description(kind) else image


def _field_value(value: str) -> str:
    """A profile field's value as Mastodon sends it: escaped HTML, an http(s) address as a link."""
    if value.startswith(("https://", "http://")) and " " not in value:
        return (f'<a href="{escape_html(value)}" rel="me nofollow noopener noreferrer" target="_blank">'
                f'{escape_html(value)}</a>')
    return escape_html(value)


def instance_actor_to_json(settings: Settings, public_key_pem: str) -> dict[str, Any]:
    actor_id = uris.instance_actor(settings)
    return {
        "@context": context(settings),
        "id": actor_id,
        "type": "Application",
        "preferredUsername": settings.domain.split(":")[0],
        "name": "Ambtenaar Online",
        "url": f"{settings.base_url}/about",
        "inbox": f"{actor_id}/inbox",
        "outbox": f"{actor_id}/outbox",
        "endpoints": {"sharedInbox": uris.shared_inbox(settings)},
        "manuallyApprovesFollowers": True,
        "publicKey": {"id": uris.instance_key_id(settings), "owner": actor_id, "publicKeyPem": public_key_pem},
    }


@dataclass(frozen=True)
class Audience:
    to: list[str]
    cc: list[str]


def audience(visibility: str, followers_uri: str, mentioned: Sequence[str]) -> Audience:
    """Addressing as Mastodon does it: visibility is read back from where Public and the followers stand."""
    mentioned = list(dict.fromkeys(mentioned))
    if visibility == "public":
        return Audience([AS_PUBLIC], [followers_uri, *mentioned])
    if visibility == "unlisted":
        return Audience([followers_uri], [AS_PUBLIC, *mentioned])
    if visibility == "private":
        return Audience([followers_uri], mentioned)
    return Audience(mentioned, [])


@dataclass(frozen=True)
class NoteContext:
    """What a Note needs besides the post: the URIs of its parent and of the people and tags it names."""

    author: Account
    in_reply_to_uri: str | None
    mentioned: Sequence[Account]
    tags: Sequence[str]
    attachments: Sequence[Attachment] = field(default_factory=tuple)
    voice_line: str = ""  # e.g. "🏛 Namens Gemeente Ede": the visible first line Mastodon readers see
    voice_organisation_uri: str | None = None  # the organisation's actor, for official voice
    quote_policy: str = "nobody"  # who may quote it (server/quotes.py), published as interactionPolicy.canQuote


def account_actor_uri(settings: Settings, account: Account) -> str:
    return account.actor_uri or uris.actor(settings, account.username)


def post_uri(settings: Settings, post: Post, author: Account) -> str:
    return post.uri or uris.status(settings, author.username, post.id)


def note_to_json(settings: Settings, post: Post, ctx: NoteContext, *, with_context: bool = True) -> dict[str, Any]:
    author = ctx.author
    mentioned_uris = [account_actor_uri(settings, m) for m in ctx.mentioned]
    addressed = audience(post.visibility, uris.followers(settings, author.username), mentioned_uris)
    tags: list[dict[str, Any]] = [
        {"type": "Mention", "href": account_actor_uri(settings, m),
         "name": f"@{m.username}@{m.domain or settings.domain}"} for m in ctx.mentioned]
    tags += [{"type": "Hashtag", "href": f"{settings.base_url}/tags/{t}", "name": f"#{t}"} for t in ctx.tags]
    line_html = f"<p>{escape_html(ctx.voice_line)}</p>" if ctx.voice_line else ""
    content = line_html + post.content_html
    note: dict[str, Any] = {
        "id": post_uri(settings, post, author),
        "type": "Note",
        "summary": post.spoiler_text or None,
        "inReplyTo": ctx.in_reply_to_uri,
        "published": iso(post.created_at),
        "url": uris.post_page(settings, author.username, post.id),
        "attributedTo": uris.actor(settings, author.username),
        "to": addressed.to,
        "cc": addressed.cc,
        "sensitive": bool(post.spoiler_text),
        "content": content,
        "contentMap": {post.language: content},
        "attachment": [{"type": "Document", "mediaType": a.content_type,
                        "url": media_store.url(settings, a.file_name), "name": a.description or None,
                        "blurhash": a.blurhash, "width": a.width, "height": a.height,
                        "focalPoint": [a.focus_x, a.focus_y]} for a in ctx.attachments],
        "tag": tags,
        "voice": post.voice,
        "voiceLine": line_html,
        "interactionPolicy": {"canQuote": {"automaticApproval": quote_approval(settings, author, ctx.quote_policy)}},
    }
    if post.voice == "official" and ctx.voice_organisation_uri:
        note["voiceOrganisation"] = ctx.voice_organisation_uri
    if post.edited_at:
        note["updated"] = iso(post.edited_at)
    if with_context:
        note = {"@context": context(settings), **note}
    return note


def quote_approval(settings: Settings, author: Account, policy: str) -> list[str]:
    """Who is approved at once, as Mastodon 4.5 lists it; "nobody" is the author alone (FEP-044f: an empty list
    would read as no policy at all)."""
    if policy == "public":
        return [AS_PUBLIC]
    if policy == "followers":
        return [uris.followers(settings, author.username)]
    return [uris.actor(settings, author.username)]


def create_to_json(settings: Settings, note: dict[str, Any]) -> dict[str, Any]:
    return {"@context": context(settings), "id": f"{note['id']}/activity", "type": "Create",
            "actor": note["attributedTo"], "published": note["published"], "to": note["to"], "cc": note["cc"],
            "object": {k: v for k, v in note.items() if k != "@context"}}


def update_note_to_json(settings: Settings, note: dict[str, Any], edited_at: datetime) -> dict[str, Any]:
    return {"@context": context(settings), "id": f"{note['id']}#updates/{int(edited_at.timestamp() * 1000)}",
            "type": "Update", "actor": note["attributedTo"], "published": iso(edited_at), "to": note["to"],
            "cc": note["cc"], "object": {k: v for k, v in note.items() if k != "@context"}}


def delete_to_json(settings: Settings, actor_uri: str, object_uri: str) -> dict[str, Any]:
    return {"@context": context(settings), "id": f"{object_uri}#delete", "type": "Delete", "actor": actor_uri,
            "to": [AS_PUBLIC], "object": {"id": object_uri, "type": "Tombstone", "atomUri": object_uri}}


def announce_to_json(settings: Settings, boost: Post, booster: Account, original_uri: str,
                     original_author_uri: str) -> dict[str, Any]:
    booster_uri = uris.actor(settings, booster.username)
    to, cc = ([AS_PUBLIC], [original_author_uri, uris.followers(settings, booster.username)]) \
        if boost.visibility == "public" else ([uris.followers(settings, booster.username)],
                                              [AS_PUBLIC, original_author_uri])
    return {"@context": context(settings), "id": f"{uris.status(settings, booster.username, boost.id)}/activity",
            "type": "Announce", "actor": booster_uri, "published": iso(boost.created_at), "to": to, "cc": cc,
            "object": original_uri}


def like_to_json(settings: Settings, liker: Account, post_id: int, object_uri: str) -> dict[str, Any]:
    return {"@context": context(settings), "id": uris.activity(settings, liker.username, "likes", post_id),
            "type": "Like", "actor": uris.actor(settings, liker.username), "object": object_uri}


def follow_to_json(settings: Settings, follower: Account, target_uri: str, follow_id: str) -> dict[str, Any]:
    return {"@context": context(settings), "id": follow_id, "type": "Follow",
            "actor": uris.actor(settings, follower.username), "object": target_uri}


def block_to_json(settings: Settings, blocker: Account, target_uri: str, block_id: str) -> dict[str, Any]:
    """Mastodon's Block: addressed to the blocked actor alone; its server ends the follows and shows nothing."""
    return {"@context": context(settings), "id": block_id, "type": "Block",
            "actor": uris.actor(settings, blocker.username), "object": target_uri}


def undo_to_json(settings: Settings, actor_uri: str, inner: dict[str, Any]) -> dict[str, Any]:
    body = {k: v for k, v in inner.items() if k != "@context"}
    return {"@context": context(settings), "id": f"{inner['id']}/undo", "type": "Undo", "actor": actor_uri,
            "object": body}


def accept_to_json(settings: Settings, actor_uri: str, follow: Mapping[str, Any], *, reject: bool = False
                   ) -> dict[str, Any]:
    kind = "Reject" if reject else "Accept"
    return {"@context": context(settings), "id": f"{actor_uri}#{kind.lower()}s/{_slug(str(follow['id']))}",
            "type": kind, "actor": actor_uri,
            "object": {"id": follow["id"], "type": "Follow", "actor": follow["actor"], "object": follow["object"]}}


def update_actor_to_json(settings: Settings, actor_json: dict[str, Any], change_id: int) -> dict[str, Any]:
    """`change_id` (the outbox event's id) makes each Update's id unique: two changes within one second (a
    suspension lifted at once) must not share an id, or receivers drop the second as a duplicate."""
    body = {k: v for k, v in actor_json.items() if k != "@context"}
    return {"@context": context(settings), "id": f"{actor_json['id']}#updates/{change_id}",
            "type": "Update", "actor": actor_json["id"], "to": [AS_PUBLIC], "cc": [actor_json["followers"]],
            "object": body}


def flag_to_json(settings: Settings, report_id: int, objects: Sequence[str], content: str) -> dict[str, Any]:
    """A report forwarded to the reported account's server, as Mastodon sends it: from our instance actor (the
    reporter stays anonymous), the account first among the objects, then the reported posts, the comment as
    plain text."""
    return {"@context": context(settings), "id": f"{uris.instance_actor(settings)}#flags/{report_id}",
            "type": "Flag", "actor": uris.instance_actor(settings), "content": content, "object": list(objects)}


def ordered_collection(settings: Settings, collection_id: str, total: int, first: str | None = None,
                       items: list[Any] | None = None) -> dict[str, Any]:
    """A collection with our whole context, so that whatever its pages hold keeps its meaning for a JSON-LD
    reader; `items` for a collection small enough to give inline (the featured posts)."""
    doc: dict[str, Any] = {"@context": context(settings), "id": collection_id, "type": "OrderedCollection",
                           "totalItems": total}
    if items is not None:
        doc["orderedItems"] = items
    if first:
        doc["first"] = first
    return doc


def collection_page(settings: Settings, page_id: str, part_of: str, items: list[Any],
                    next_page: str | None) -> dict[str, Any]:
    """A page of a collection; its items are given without their own @context (this one defines every term)."""
    doc: dict[str, Any] = {"@context": context(settings), "id": page_id, "type": "OrderedCollectionPage",
                           "partOf": part_of, "orderedItems": items}
    if next_page:
        doc["next"] = next_page
    return doc


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text)[-60:].strip("-")


def quote_request_to_json(request: Mapping[str, Any]) -> dict[str, Any]:
    """The QuoteRequest we answer, as our Accept or Reject embeds it (the quoting post by its id only)."""
    return {"type": "QuoteRequest", "id": request["id"], "actor": request["actor"], "object": request["object"],
            "instrument": request["instrument"]}


def quote_answer_to_json(settings: Settings, actor_uri: str, request: Mapping[str, Any], answer_id: str,
                         authorization_uri: str | None) -> dict[str, Any]:
    """FEP-044f: Accept with the QuoteAuthorization as `result`, or Reject (no authorization), to the quoter."""
    doc = {"@context": context(settings), "id": answer_id, "type": "Accept" if authorization_uri else "Reject",
           "actor": actor_uri, "to": [request["actor"]], "object": quote_request_to_json(request)}
    if authorization_uri:
        doc["result"] = authorization_uri
    return doc


def quote_authorization_to_json(settings: Settings, authorization_uri: str, author_uri: str, quoting_uri: str,
                                quoted_uri: str) -> dict[str, Any]:
    """The approval stamp other servers fetch to check a quote; it names both posts and embeds neither."""
    return {"@context": context(settings), "id": authorization_uri, "type": "QuoteAuthorization",
            "attributedTo": author_uri, "interactingObject": quoting_uri, "interactionTarget": quoted_uri}


def delete_quote_authorization_to_json(settings: Settings, actor_uri: str, authorization_uri: str) -> dict[str, Any]:
    """Revoking a quote: Delete of the authorization by its id alone, as Mastodon sends it."""
    return {"@context": context(settings), "id": f"{authorization_uri}#delete", "type": "Delete",
            "actor": actor_uri, "to": [AS_PUBLIC], "object": authorization_uri}


def featured_change_to_json(settings: Settings, actor_uri: str, change_id: str, object_uri: str, target: str, *,
                            remove: bool = False) -> dict[str, Any]:
    """Mastodon's Add (a pin) or Remove (an unpin) of a post in the actor's `featured` collection; Mastodon sends no
    id, we send one (`change_id`) so receivers can drop a repeat."""
    return {"@context": context(settings), "id": change_id, "type": "Remove" if remove else "Add",
            "actor": actor_uri, "object": object_uri, "target": target}
