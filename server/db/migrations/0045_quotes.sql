-- Owner: quotes (server/quotes.py). Quote posts of our posts (FEP-044f, as Mastodon 4.5 sends them; issue 14,
-- item 6): who may quote (an account's default and a post's own choice: public, followers or nobody; none stored
-- means the default by voice) and every QuoteRequest answered, with the QuoteAuthorization it got (its id is the
-- row's id) until the author revokes it.
CREATE TABLE quote_policies (
    account_id bigint PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    policy     text NOT NULL CHECK (policy IN ('public', 'followers', 'nobody'))
);

CREATE TABLE post_quote_policies (
    post_id bigint PRIMARY KEY REFERENCES posts (id) ON DELETE CASCADE,
    policy  text NOT NULL CHECK (policy IN ('public', 'followers', 'nobody'))
);

CREATE TABLE quotes (
    id              bigint PRIMARY KEY,
    quoted_post_id  bigint NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    -- The quoting post as stored here (a remote post), and its id on the wire.
    quoting_post_id bigint REFERENCES posts (id) ON DELETE SET NULL,
    quoting_uri     text NOT NULL CHECK (length(quoting_uri) <= 2048),
    account_id      bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    request_uri     text CHECK (length(request_uri) <= 2048),
    state           text NOT NULL CHECK (state IN ('accepted', 'revoked')),
    created_at      timestamptz NOT NULL,
    revoked_at      timestamptz,
    UNIQUE (quoted_post_id, quoting_uri)
);
CREATE INDEX quotes_quoted_accepted ON quotes (quoted_post_id, id) WHERE state = 'accepted';
CREATE INDEX quotes_quoting_post ON quotes (quoting_post_id);
