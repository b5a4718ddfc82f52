-- Owner: polls (server/polls.py). Polls of posts, ours and other servers' (issue 14, item 3), and the votes cast
-- on them. A local poll's counts are counted from poll_votes; a remote poll's are what its server last said (its
-- Question's replies.totalItems), plus the votes of our own people sent since. closed_at is set once, by the
-- worker job that closes an expired poll and notifies its voters (server/voting.py); update_due_at is when a
-- local poll's changed counts go out as an Update (debounced, as Mastodon batches them).
CREATE TABLE polls (
    post_id        bigint PRIMARY KEY REFERENCES posts (id) ON DELETE CASCADE,
    options        text[] NOT NULL CHECK (cardinality(options) BETWEEN 1 AND 20),
    votes          integer[] NOT NULL CHECK (cardinality(votes) = cardinality(options)),
    votes_count    integer NOT NULL DEFAULT 0 CHECK (votes_count >= 0),
    voters_count   integer CHECK (voters_count >= 0),
    multiple       boolean NOT NULL DEFAULT false,
    hide_totals    boolean NOT NULL DEFAULT false,
    expires_at     timestamptz,
    closed_at      timestamptz,
    update_due_at  timestamptz,
    updated_at     timestamptz NOT NULL
);
CREATE INDEX polls_to_close ON polls (expires_at) WHERE closed_at IS NULL AND expires_at IS NOT NULL;
CREATE INDEX polls_update_due ON polls (update_due_at) WHERE update_due_at IS NOT NULL;

CREATE TABLE poll_votes (
    id          bigint PRIMARY KEY,
    post_id     bigint NOT NULL REFERENCES polls (post_id) ON DELETE CASCADE,
    account_id  bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    choice      smallint NOT NULL CHECK (choice >= 0 AND choice < 20),
    -- The vote's Note: a remote voter's id (a retried delivery counts once), or ours for a vote sent elsewhere.
    uri         text CHECK (length(uri) <= 2048),
    created_at  timestamptz NOT NULL,
    UNIQUE (post_id, account_id, choice)
);
CREATE UNIQUE INDEX poll_votes_uri ON poll_votes (uri) WHERE uri IS NOT NULL;
CREATE INDEX poll_votes_account ON poll_votes (account_id, post_id);
