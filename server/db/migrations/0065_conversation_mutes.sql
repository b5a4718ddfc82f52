-- 0065: conversations a person muted (Mastodon's POST /api/v1/statuses/:id/mute): no notifications about the
-- thread any more, and its posts say `muted` to them. Keyed by the thread's first post (server/posts.root_sql).
-- Owner: server/conversation_mutes.py.
CREATE TABLE IF NOT EXISTS conversation_mutes (
    account_id bigint      NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    root_id    bigint      NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (account_id, root_id)
);
