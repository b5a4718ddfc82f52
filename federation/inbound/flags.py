"""Reports from other servers: a Flag naming our accounts and posts becomes a report in our moderators' queue.

Owns: reading a Flag's objects as ours or not. Never: decides anything about the account (moderators do), or
answers the sender (Mastodon does not either).
"""

from __future__ import annotations

import logging

from federation import vocab
from federation.context import Federation
from federation.inbound.common import local_account, post_by_uri
from federation.vocab import Activity
from moderation import domain_blocks, reports
from server import accounts, visibility
from server.accounts import Account
from server.db.pool import transaction
from server.posts import Post

log = logging.getLogger("ambtenaar.federation")


async def handle_flag(fed: Federation, activity: Activity, sender: Account) -> None:
    """Mastodon sends Flags from its instance actor, so the reporter is the sending server, not a person.

    Objects that are not ours (a post of a third server, an unknown account) are ignored; a Flag that names none of
    our accounts or posts stores nothing. One report per reported account of ours, with its posts.
    """
    try:
        flag = vocab.parse_flag(activity.raw)
    except vocab.InvalidActivity as exc:
        log.info("flag ignored", extra={"activity": activity.id, "reason": str(exc)})
        return
    settings = fed.deps.settings
    now = fed.deps.now()
    async with transaction(fed.deps.pool) as conn:
        if await domain_blocks.rejects_reports(conn, sender.domain or vocab.host_of(flag.actor)):
            log.info("flag ignored: reports from this server are rejected", extra={"activity": activity.id})
            return
        targets: dict[int, Account] = {}
        posts_of: dict[int, list[Post]] = {}
        for uri in flag.objects:
            account = await local_account(conn, settings, uri)
            if account is not None:
                targets.setdefault(account.id, account)
                continue
            post = await post_by_uri(conn, settings, uri)
            author = await accounts.get_account(conn, post.account_id) if post is not None else None
            if post is None or author is None or not author.is_local or post.reblog_of_id is not None:
                continue
            # Only what that server's people could see: a held, deleted or followers-only post they never received
            # is not copied into a report (nor does a Flag confirm that it exists).
            if not await visibility.exists_visible_to_domain(conn, post.id, sender.domain or vocab.host_of(flag.actor)):
                continue
            targets.setdefault(author.id, author)
            posts_of.setdefault(author.id, []).append(post)
        for target in targets.values():
            await reports.receive_flag(conn, flag_uri=flag.id, actor_uri=sender.actor_uri or flag.actor,
                                       domain=sender.domain or vocab.host_of(flag.actor), target=target,
                                       reported=posts_of.get(target.id, []), settings=settings,
                                       comment=flag.content, now=now)
    if not targets:
        log.info("flag about nothing of ours", extra={"activity": activity.id, "from": sender.actor_uri})
