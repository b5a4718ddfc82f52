"""What a link preview shows when a comms team shares a page: OpenGraph and Twitter-card values.

Owns: the title, description, image (with its alt text) and canonical URL of profile, post and organisation pages,
as a dict that web/templates/base.html writes into <meta> tags (Jinja escapes every value).
Never: SQL, or anything a visitor not signed in could not see on the page itself: a preview is built only for a
published public or unlisted post, whoever asks.
"""

from __future__ import annotations

import html
import re

from server import media, uris
from server.accounts import Account
from server.organisations import Organisation
from server.timelines import PostView
from web.context import PageContext, post_path

DESCRIPTION_LENGTH = 200
_TAG = re.compile(r"<[^>]+>")


def _short(text: str, limit: int = DESCRIPTION_LENGTH) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def _avatar(ctx: PageContext, account: Account | None, own_image: str | None = None) -> str:
    """The preview image of a profile or organisation: its own avatar or logo when the page has one at hand."""
    settings = ctx.deps.settings
    if own_image:
        return own_image
    if account is not None and account.avatar_url and not account.is_local:
        return uris.proxied_media(settings, account.avatar_url)  # remote images only through our proxy
    return f"{settings.base_url}/static/avatar.png"


def _actor_id(ctx: PageContext, account: Account) -> str | None:
    return uris.actor(ctx.deps.settings, account.username) if account.is_local else account.actor_uri


def _meta(ctx: PageContext, *, kind: str, title: str, description: str, path: str, image: str,
          image_alt: str = "", large: bool = False, activity_json: str | None = None) -> dict[str, object]:
    """The canonical URL, the (attribute, name, value) of each <meta> tag (OpenGraph, then the Twitter card), and
    the ActivityPub id of what the page shows, for `<link rel="alternate" type="application/activity+json">`:
    a server given this page's URL (a citizen pasting it into Mastodon's search) finds the object there."""
    description, image_alt = _short(description), _short(image_alt, 420)
    og = [("type", kind), ("title", title), ("description", description), ("url", ctx.deps.settings.base_url + path),
          ("image", image), ("image:alt", image_alt), ("locale", "nl_NL" if ctx.lang == "nl" else "en_GB")]
    twitter = [("card", "summary_large_image" if large else "summary"), ("title", title),
               ("description", description), ("image", image), ("image:alt", image_alt)]
    tags = [("name", "description", description), ("property", "og:site_name", "Ambtenaar Online"),
            *[("property", f"og:{key}", value) for key, value in og if value],
            *[("name", f"twitter:{key}", value) for key, value in twitter if value]]
    return {"url": ctx.deps.settings.base_url + path, "tags": tags, "activity_json": activity_json}


def profile_meta(ctx: PageContext, account: Account, organisation: Organisation | None,
                 avatar_url: str | None = None, avatar_alt: str = "", handle_domain: str | None = None
                 ) -> dict[str, object]:
    """`handle_domain`: the account's handle domain when it has one (issue 17: @anna@ede.nl)."""
    handle = f"@{account.username}@{handle_domain or (ctx.deps.settings.domain if account.is_local else account.domain)}"
    about = account.bio if account.is_local else html.unescape(_TAG.sub(" ", account.bio or ""))
    if not about:
        about = (ctx.gettext("%(name)s at %(org)s", name=account.name, org=organisation.name) if organisation
                 else handle)
    return _meta(ctx, kind="profile", title=f"{account.name} ({handle})", description=about,
                 path=f"/@{account.username}" if account.is_local else f"/accounts/{account.id}",
                 image=_avatar(ctx, account, avatar_url), image_alt=avatar_alt if avatar_url else "",
                 activity_json=_actor_id(ctx, account))


def organisation_meta(ctx: PageContext, organisation: Organisation, org_account: Account | None,
                      logo_url: str | None = None) -> dict[str, object]:
    description = (org_account.bio if org_account and org_account.bio else
                   ctx.gettext("Official posts of %(name)s", name=organisation.name))
    return _meta(ctx, kind="website", title=organisation.name, description=description,
                 path=f"/orgs/{organisation.slug}", image=_avatar(ctx, org_account, logo_url),
                 activity_json=_actor_id(ctx, org_account) if org_account else None)


def post_meta(ctx: PageContext, view: PostView) -> dict[str, object] | None:
    """None for a post that nobody signed out may read: a preview would carry it further than its audience."""
    post = view.post
    if post.state != "published" or post.deleted_at is not None or post.visibility not in ("public", "unlisted"):
        return None
    text = post.source_text if view.author.is_local else html.unescape(_TAG.sub(" ", post.content_html))
    description = post.spoiler_text or text  # a content warning stays a warning
    first = view.attachments[0] if view.attachments else None  # a remote image goes through our media proxy
    return _meta(ctx, kind="article", title=ctx.gettext("Post by %(name)s", name=view.author.name),
                 description=description, path=post_path(view),
                 image=media.public_url(ctx.deps.settings, first) if first else _avatar(ctx, view.author),
                 image_alt=first.description if first else "", large=first is not None,
                 activity_json=uris.status(ctx.deps.settings, view.author.username, post.id) if view.author.is_local
                 else post.uri)
