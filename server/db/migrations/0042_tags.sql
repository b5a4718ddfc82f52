-- Owner: tags (server/tags.py). Hashtags a person follows (their public posts come into the home timeline and
-- the user stream) and hashtags they feature on their profile (issue 14, item 5). Tags are stored lower-case,
-- as post_tags holds them.
CREATE TABLE followed_tags (
    id bigint PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    tag text NOT NULL CHECK (length(tag) BETWEEN 1 AND 100),
    created_at timestamptz NOT NULL,
    UNIQUE (account_id, tag)
);
CREATE INDEX followed_tags_tag ON followed_tags (tag);

CREATE TABLE featured_tags (
    id bigint PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    tag text NOT NULL CHECK (length(tag) BETWEEN 1 AND 100),
    created_at timestamptz NOT NULL,
    UNIQUE (account_id, tag)
);
