-- Owner: endorsements (server/endorsements.py). What a person says about other accounts (issue 14, item 5):
-- the accounts they endorse on their profile (Mastodon's "feature on profile"), and a private note on an
-- account that only they see.
CREATE TABLE endorsements (
    id bigint PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    UNIQUE (account_id, target_account_id)
);

CREATE TABLE account_notes (
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    comment text NOT NULL CHECK (length(comment) BETWEEN 1 AND 2000),
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (account_id, target_account_id)
);
