-- Owner: filters, filter_keywords, filter_statuses (server/filters.py). Mastodon's filters v2 (issue 14, item 5):
-- a person's filter with a title, the contexts it applies in, an action (warn: shown behind a warning; hide:
-- left out) and an optional expiry, matching keywords (whole word or anywhere) or chosen posts.
CREATE TABLE filters (
    id             bigint PRIMARY KEY,
    account_id     bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    title          text NOT NULL CHECK (length(title) BETWEEN 1 AND 256),
    contexts       text[] NOT NULL CHECK (cardinality(contexts) > 0
                       AND contexts <@ ARRAY['home', 'notifications', 'public', 'thread', 'account']),
    filter_action  text NOT NULL DEFAULT 'warn' CHECK (filter_action IN ('warn', 'hide')),
    expires_at     timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX filters_account ON filters (account_id);

CREATE TABLE filter_keywords (
    id          bigint PRIMARY KEY,
    filter_id   bigint NOT NULL REFERENCES filters (id) ON DELETE CASCADE,
    keyword     text NOT NULL CHECK (length(keyword) BETWEEN 1 AND 512),
    whole_word  boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX filter_keywords_filter ON filter_keywords (filter_id);

CREATE TABLE filter_statuses (
    id          bigint PRIMARY KEY,
    filter_id   bigint NOT NULL REFERENCES filters (id) ON DELETE CASCADE,
    post_id     bigint NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (filter_id, post_id)
);
