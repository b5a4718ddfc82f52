-- 0001: the core of a node.
-- Owners: organisations (server/organisations.py), accounts (server/accounts.py),
-- invites (server/invites.py), web_sessions + login_failures (server/sessions.py),
-- posts, post_edits, post_tags, post_mentions (server/posts.py), follows (server/follows.py),
-- favourites (server/reactions.py), outbox_events (server/events.py).

CREATE TABLE organisations (
    id          bigint PRIMARY KEY,
    slug        text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    kind        text NOT NULL CHECK (kind IN ('gemeente', 'provincie', 'ministerie', 'waterschap',
                                               'uitvoeringsorganisatie', 'other')),
    website     text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE accounts (
    id              bigint PRIMARY KEY,
    username        text NOT NULL CHECK (username ~ '^[A-Za-z0-9_]{1,30}$'),
    email           text,
    password_hash   text,
    display_name    text NOT NULL DEFAULT '' CHECK (length(display_name) <= 100),
    bio             text NOT NULL DEFAULT '' CHECK (length(bio) <= 1000),
    -- person: an official, admin or moderator; organisation: the account of an organisation itself.
    kind            text NOT NULL CHECK (kind IN ('person', 'organisation')),
    organisation_id bigint REFERENCES organisations (id),
    org_role        text CHECK (org_role IN ('official', 'reviewer', 'org_admin')),
    is_admin        boolean NOT NULL DEFAULT false,
    is_moderator    boolean NOT NULL DEFAULT false,
    default_voice   text NOT NULL DEFAULT 'personal' CHECK (default_voice IN ('official', 'personal')),
    language        text NOT NULL DEFAULT 'nl' CHECK (language IN ('nl', 'en')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    disabled_at     timestamptz,
    CHECK ((organisation_id IS NULL) = (org_role IS NULL) OR kind = 'organisation'),
    CHECK (kind = 'person' OR organisation_id IS NOT NULL),
    CHECK (default_voice = 'personal' OR organisation_id IS NOT NULL)
);
CREATE UNIQUE INDEX accounts_username_key ON accounts (lower(username));
CREATE UNIQUE INDEX accounts_email_key ON accounts (lower(email)) WHERE email IS NOT NULL;
CREATE UNIQUE INDEX accounts_one_per_organisation ON accounts (organisation_id) WHERE kind = 'organisation';
CREATE INDEX accounts_organisation ON accounts (organisation_id) WHERE organisation_id IS NOT NULL;

CREATE TABLE invites (
    id              bigint PRIMARY KEY,
    token_hash      bytea NOT NULL UNIQUE,
    organisation_id bigint NOT NULL REFERENCES organisations (id),
    org_role        text NOT NULL CHECK (org_role IN ('official', 'reviewer', 'org_admin')),
    created_by      bigint REFERENCES accounts (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL,
    used_at         timestamptz,
    used_by         bigint REFERENCES accounts (id)
);

CREATE TABLE web_sessions (
    token_hash  bytea PRIMARY KEY,
    account_id  bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL
);
CREATE INDEX web_sessions_account ON web_sessions (account_id);

CREATE TABLE login_failures (
    id          bigserial PRIMARY KEY,
    throttle_key text NOT NULL,
    failed_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_key_time ON login_failures (throttle_key, failed_at);

CREATE TABLE posts (
    id              bigint PRIMARY KEY,
    account_id      bigint NOT NULL REFERENCES accounts (id),
    source_text     text NOT NULL DEFAULT '',
    content_html    text NOT NULL DEFAULT '',
    spoiler_text    text NOT NULL DEFAULT '',
    visibility      text NOT NULL CHECK (visibility IN ('public', 'unlisted', 'private', 'direct')),
    voice           text NOT NULL CHECK (voice IN ('official', 'personal')),
    -- The organisation an official-voice post speaks for, fixed at publication.
    organisation_id bigint REFERENCES organisations (id),
    language        text NOT NULL DEFAULT 'nl',
    in_reply_to_id  bigint REFERENCES posts (id),
    reblog_of_id    bigint REFERENCES posts (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    edited_at       timestamptz,
    deleted_at      timestamptz,
    CHECK (voice = 'personal' OR organisation_id IS NOT NULL)
);
CREATE INDEX posts_account_time ON posts (account_id, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX posts_public_time ON posts (id DESC) WHERE deleted_at IS NULL AND visibility = 'public';
CREATE INDEX posts_reply_to ON posts (in_reply_to_id) WHERE in_reply_to_id IS NOT NULL;
CREATE INDEX posts_organisation_time ON posts (organisation_id, id DESC) WHERE voice = 'official' AND deleted_at IS NULL;
CREATE UNIQUE INDEX posts_one_boost ON posts (account_id, reblog_of_id) WHERE reblog_of_id IS NOT NULL AND deleted_at IS NULL;

CREATE TABLE post_edits (
    id            bigint PRIMARY KEY,
    post_id       bigint NOT NULL REFERENCES posts (id),
    source_text   text NOT NULL,
    content_html  text NOT NULL,
    spoiler_text  text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX post_edits_post ON post_edits (post_id, id);

CREATE TABLE post_tags (
    post_id  bigint NOT NULL REFERENCES posts (id),
    tag      text NOT NULL,
    PRIMARY KEY (post_id, tag)
);
CREATE INDEX post_tags_tag ON post_tags (tag, post_id DESC);

CREATE TABLE post_mentions (
    post_id     bigint NOT NULL REFERENCES posts (id),
    account_id  bigint NOT NULL REFERENCES accounts (id),
    PRIMARY KEY (post_id, account_id)
);

CREATE TABLE follows (
    follower_id  bigint NOT NULL REFERENCES accounts (id),
    followed_id  bigint NOT NULL REFERENCES accounts (id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (follower_id, followed_id),
    CHECK (follower_id <> followed_id)
);
CREATE INDEX follows_followed ON follows (followed_id);

CREATE TABLE favourites (
    account_id  bigint NOT NULL REFERENCES accounts (id),
    post_id     bigint NOT NULL REFERENCES posts (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, post_id)
);
CREATE INDEX favourites_post ON favourites (post_id);

-- Written in the same transaction as the change it describes; federation turns rows into deliveries.
CREATE TABLE outbox_events (
    id          bigserial PRIMARY KEY,
    kind        text NOT NULL,
    subject_id  bigint NOT NULL,
    actor_id    bigint NOT NULL REFERENCES accounts (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    processed_at timestamptz
);
CREATE INDEX outbox_events_pending ON outbox_events (id) WHERE processed_at IS NULL;
