-- Owner: pins (server/pins.py). Posts an account pinned to its profile (issue 14, item 5): local ones through the
-- API (at most 5, as Mastodon), remote ones from the Add and Remove their servers send for the actor's
-- `featured` collection. Federated as that collection.
CREATE TABLE pins (
    id bigint PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    post_id bigint NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    UNIQUE (account_id, post_id)
);
CREATE INDEX pins_post ON pins (post_id);
