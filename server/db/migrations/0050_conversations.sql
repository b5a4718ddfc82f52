-- Owner: conversation_states (server/conversations.py). Mastodon's conversations (issue 14, item 5) are the
-- threads of direct posts a person takes part in, worked out from the posts when read; this table keeps only
-- what the person did to one: read it up to a post, or removed it up to a post (a later post brings it back).
CREATE TABLE conversation_states (
    account_id     bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    root_id        bigint NOT NULL,
    read_up_to     bigint NOT NULL DEFAULT 0,
    removed_up_to  bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, root_id)
);
