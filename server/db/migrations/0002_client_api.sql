-- 0002: what the Mastodon client API needs.
-- Owners: oauth_apps, oauth_codes, oauth_tokens (server/oauth.py), notifications (server/notifications.py),
-- media_attachments (server/media.py), markers (server/markers.py), idempotency_keys (server/idempotency.py),
-- rate_limit_hits (server/ratelimits.py).

CREATE TABLE oauth_apps (
    id                  bigint PRIMARY KEY,
    name                text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    website             text NOT NULL DEFAULT '',
    redirect_uris       text[] NOT NULL,
    scopes              text NOT NULL,
    client_id           text NOT NULL UNIQUE,
    client_secret_hash  bytea NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE oauth_codes (
    code_hash       bytea PRIMARY KEY,
    app_id          bigint NOT NULL REFERENCES oauth_apps (id) ON DELETE CASCADE,
    account_id      bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    scopes          text NOT NULL,
    redirect_uri    text NOT NULL,
    code_challenge  text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL,
    used_at         timestamptz
);

CREATE TABLE oauth_tokens (
    id              bigint PRIMARY KEY,
    token_hash      bytea NOT NULL UNIQUE,
    refresh_hash    bytea UNIQUE,
    app_id          bigint REFERENCES oauth_apps (id) ON DELETE CASCADE,
    -- NULL for a client_credentials token: it acts for the app, not for a person.
    account_id      bigint REFERENCES accounts (id) ON DELETE CASCADE,
    scopes          text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_used_at    timestamptz,
    revoked_at      timestamptz
);
CREATE INDEX oauth_tokens_account ON oauth_tokens (account_id) WHERE revoked_at IS NULL;

CREATE TABLE notifications (
    id              bigint PRIMARY KEY,
    account_id      bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    type            text NOT NULL CHECK (type IN ('mention', 'status', 'reblog', 'follow', 'follow_request',
                                                  'favourite', 'poll', 'update')),
    from_account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    post_id         bigint REFERENCES posts (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    dismissed_at    timestamptz
);
CREATE INDEX notifications_account ON notifications (account_id, id DESC) WHERE dismissed_at IS NULL;
CREATE UNIQUE INDEX notifications_once ON notifications (account_id, type, from_account_id, post_id)
    WHERE type IN ('favourite', 'reblog', 'mention', 'status');

CREATE TABLE media_attachments (
    id              bigint PRIMARY KEY,
    account_id      bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    post_id         bigint REFERENCES posts (id),
    content_type    text NOT NULL,
    file_name       text NOT NULL,
    width           integer NOT NULL,
    height          integer NOT NULL,
    preview_width   integer NOT NULL,
    preview_height  integer NOT NULL,
    blurhash        text NOT NULL,
    description     text NOT NULL DEFAULT '' CHECK (length(description) <= 1500),
    focus_x         real NOT NULL DEFAULT 0,
    focus_y         real NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX media_attachments_post ON media_attachments (post_id) WHERE post_id IS NOT NULL;

CREATE TABLE markers (
    account_id   bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    timeline     text NOT NULL CHECK (timeline IN ('home', 'notifications')),
    last_read_id bigint NOT NULL,
    version      integer NOT NULL DEFAULT 1,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, timeline)
);

CREATE TABLE idempotency_keys (
    account_id  bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    key         text NOT NULL,
    post_id     bigint NOT NULL REFERENCES posts (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, key)
);

CREATE TABLE rate_limit_hits (
    bucket        text NOT NULL,
    window_start  timestamptz NOT NULL,
    hits          integer NOT NULL DEFAULT 1,
    PRIMARY KEY (bucket, window_start)
);
