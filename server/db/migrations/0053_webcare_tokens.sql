-- Webcare tokens (issue 15): access tokens of an organisation's own account, made by one of its webcare team for
-- a webcare tool or case system. The token itself is an ordinary oauth_tokens row (server/oauth.py); this table
-- remembers which organisation and which member made it, so that posts through it keep their writer
-- (posts.written_by_id) and the team sees who made each token.
-- Owner: server/webcare_tokens.py.
CREATE TABLE webcare_tokens (
    token_id bigint PRIMARY KEY REFERENCES oauth_tokens (id) ON DELETE CASCADE,
    organisation_id bigint NOT NULL REFERENCES organisations (id),
    created_by bigint NOT NULL REFERENCES accounts (id),
    created_at timestamptz NOT NULL
);
CREATE INDEX webcare_tokens_org ON webcare_tokens (organisation_id);
