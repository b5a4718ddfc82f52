-- 0011: what a person controls themselves: mutes, blocks, and replies hidden from the thread of their own post.
-- Owners: mutes and blocks (server/relationships.py); hidden_replies (server/hidden_replies.py). The listing
-- queries of server/timelines.py and server/notifications.py embed their SQL fragments.

-- A mute hides the muted account's posts and boosts (and, with hide_notifications, its notifications) from the
-- muter's views. Nobody is told. expires_at NULL: until unmuted.
CREATE TABLE mutes (
    id                 bigint PRIMARY KEY,  -- a snowflake: GET /api/v1/mutes pages by it, as Mastodon does
    account_id         bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id  bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    hide_notifications boolean NOT NULL DEFAULT true,
    expires_at         timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account_id, target_account_id),
    CHECK (account_id <> target_account_id)
);
CREATE INDEX mutes_account_page ON mutes (account_id, id DESC);

-- A block: account_id shuts target_account_id out. Local blockers' blocks are sent as Block activities; a remote
-- account's Block of one of ours is kept too (uri: its activity id, so that its Undo finds it), as Mastodon does.
CREATE TABLE blocks (
    id                 bigint PRIMARY KEY,
    account_id         bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id  bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    uri                text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account_id, target_account_id),
    CHECK (account_id <> target_account_id)
);
CREATE INDEX blocks_account_page ON blocks (account_id, id DESC);
CREATE INDEX blocks_target ON blocks (target_account_id, account_id);
CREATE UNIQUE INDEX blocks_uri_key ON blocks (uri) WHERE uri IS NOT NULL;

-- A reply hidden from a thread by the (local) author of the thread's first post. The reply itself is untouched.
CREATE TABLE hidden_replies (
    post_id     bigint PRIMARY KEY REFERENCES posts (id) ON DELETE CASCADE,
    root_id     bigint NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    hidden_by   bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX hidden_replies_root ON hidden_replies (root_id);
