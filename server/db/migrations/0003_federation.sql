-- 0003: federation.
-- Owners: accounts' remote columns (server/accounts.py), actor_keys (federation/keys.py), posts' remote columns
-- (server/posts.py), follows' state (server/follows.py), inbox_items (federation/inbox.py),
-- outbound_activities, deliveries and federation_domains (federation/delivery.py).

-- Remote actors are accounts with a domain; local accounts have domain NULL.
ALTER TABLE accounts
    ADD COLUMN domain             text,
    ADD COLUMN actor_uri          text,
    ADD COLUMN actor_type         text NOT NULL DEFAULT 'Person',
    ADD COLUMN profile_url        text,
    ADD COLUMN inbox_uri          text,
    ADD COLUMN shared_inbox_uri   text,
    ADD COLUMN followers_uri      text,
    ADD COLUMN key_id             text,
    ADD COLUMN public_key_pem     text,
    ADD COLUMN avatar_url         text,
    ADD COLUMN manually_approves_followers boolean NOT NULL DEFAULT false,
    ADD COLUMN fetched_at         timestamptz,
    ADD COLUMN gone_at            timestamptz;
DROP INDEX accounts_username_key;
CREATE UNIQUE INDEX accounts_username_key ON accounts (lower(username), lower(coalesce(domain, '')));
CREATE UNIQUE INDEX accounts_actor_uri_key ON accounts (actor_uri) WHERE actor_uri IS NOT NULL;
CREATE INDEX accounts_key_id ON accounts (key_id) WHERE key_id IS NOT NULL;
ALTER TABLE accounts ADD CONSTRAINT accounts_remote_has_actor CHECK (domain IS NULL OR actor_uri IS NOT NULL);

-- Key pairs of local actors; account_id NULL is the instance actor, which signs fetches.
CREATE TABLE actor_keys (
    id              bigserial PRIMARY KEY,
    account_id      bigint UNIQUE REFERENCES accounts (id) ON DELETE CASCADE,
    private_key_pem text NOT NULL,
    public_key_pem  text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX actor_keys_one_instance_key ON actor_keys ((account_id IS NULL)) WHERE account_id IS NULL;

ALTER TABLE posts
    ADD COLUMN uri            text,
    ADD COLUMN url            text,
    ADD COLUMN in_reply_to_uri text;
CREATE UNIQUE INDEX posts_uri_key ON posts (uri) WHERE uri IS NOT NULL;

ALTER TABLE follows
    ADD COLUMN state       text NOT NULL DEFAULT 'accepted' CHECK (state IN ('pending', 'accepted')),
    ADD COLUMN follow_uri  text;

ALTER TABLE favourites ADD COLUMN like_uri text;

-- Activities received, stored before any side effect; handlers run after the commit.
CREATE TABLE inbox_items (
    id               bigserial PRIMARY KEY,
    activity_uri     text NOT NULL UNIQUE,
    actor_uri        text NOT NULL,
    activity         jsonb NOT NULL,
    received_at      timestamptz NOT NULL DEFAULT now(),
    state            text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'failed')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    locked_until     timestamptz,
    last_error       text
);
CREATE INDEX inbox_items_due ON inbox_items (next_attempt_at) WHERE state = 'pending';

-- Each activity we send, stored once; its deliveries point at it.
CREATE TABLE outbound_activities (
    id            bigserial PRIMARY KEY,
    activity_uri  text NOT NULL UNIQUE,
    signer_id     bigint REFERENCES accounts (id) ON DELETE CASCADE,
    body          bytea NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- One row per (activity, inbox); workers claim them with FOR UPDATE SKIP LOCKED.
CREATE TABLE deliveries (
    id               bigserial PRIMARY KEY,
    activity_id      bigint NOT NULL REFERENCES outbound_activities (id) ON DELETE CASCADE,
    inbox_uri        text NOT NULL,
    domain           text NOT NULL,
    state            text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed', 'dead')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    locked_until     timestamptz,
    last_status      integer,
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz,
    UNIQUE (activity_id, inbox_uri)
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE state = 'pending';

CREATE TABLE federation_domains (
    domain          text PRIMARY KEY,
    failing_since   timestamptz,
    last_success_at timestamptz,
    unavailable     boolean NOT NULL DEFAULT false
);

-- A remote profile's summary is sanitised HTML of its own length; only local bios keep the local limit.
ALTER TABLE accounts DROP CONSTRAINT accounts_bio_check;
ALTER TABLE accounts ADD CONSTRAINT accounts_local_bio_length CHECK (domain IS NOT NULL OR length(bio) <= 1000);
-- Remote usernames follow their own server's rules (dots, hyphens, longer names); local ones keep ours.
ALTER TABLE accounts DROP CONSTRAINT accounts_username_check;
ALTER TABLE accounts ADD CONSTRAINT accounts_username_form CHECK (
    (domain IS NULL AND username ~ '^[A-Za-z0-9_]{1,30}$') OR (domain IS NOT NULL AND length(username) BETWEEN 1 AND 200));

-- What an event needs once its row is gone (the Follow or Like id an Undo must name).
ALTER TABLE outbox_events ADD COLUMN detail jsonb NOT NULL DEFAULT '{}';
