-- Owner: bookmarks (server/bookmarks.py). The posts a person keeps for later (issue 14, item 5: Mastodon's
-- bookmarks). Private to the person; shown only through the visibility rule, so a bookmark of a post that became
-- invisible to them shows nothing.
CREATE TABLE bookmarks (
    id bigint PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    post_id bigint NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    UNIQUE (account_id, post_id)
);
CREATE INDEX bookmarks_post ON bookmarks (post_id);
