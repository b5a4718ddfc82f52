-- Webcare (issue 15): the organisation answers citizens as a team.
-- Owners: accounts.org_role and invites.org_role gain `webcare` (server/accounts.py, server/invites.py);
-- posts.written_by_id (server/posts.py): the member who wrote a post of the organisation's account, kept here
-- and in the audit log, never on the wire; webcare_* tables (server/webcare.py, server/webcare_settings.py);
-- webcare_webhooks and webcare_webhook_deliveries (server/webcare_hooks.py, queue columns by server/db/queue.py).
ALTER TABLE accounts DROP CONSTRAINT accounts_org_role_check;
ALTER TABLE accounts ADD CONSTRAINT accounts_org_role_check
    CHECK (org_role IN ('official', 'reviewer', 'org_admin', 'webcare'));
ALTER TABLE invites DROP CONSTRAINT invites_org_role_check;
ALTER TABLE invites ADD CONSTRAINT invites_org_role_check
    CHECK (org_role IN ('official', 'reviewer', 'org_admin', 'webcare'));

ALTER TABLE posts ADD COLUMN written_by_id bigint REFERENCES accounts (id);

-- A conversation starts at the citizen's first message that concerns the organisation (a mention of its account,
-- a reply to its account or to a member's official post, a direct message); later messages of that branch of the
-- thread join it (webcare_messages). `last_incoming_at` orders "oldest waiting first"; `waiting_since` is when the
-- citizen's unanswered message arrived (NULL once answered), from which the clock counts.
CREATE TABLE webcare_conversations (
    id bigint PRIMARY KEY,
    organisation_id bigint NOT NULL REFERENCES organisations (id),
    citizen_account_id bigint NOT NULL REFERENCES accounts (id),
    start_post_id bigint NOT NULL REFERENCES posts (id),
    status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'waiting', 'done')),
    assignee_id bigint REFERENCES accounts (id),
    labels text[] NOT NULL DEFAULT '{}',
    visibility text NOT NULL CHECK (visibility IN ('public', 'direct')),
    created_at timestamptz NOT NULL,
    last_activity_at timestamptz NOT NULL,
    waiting_since timestamptz,
    first_response_at timestamptz,
    first_responder_id bigint REFERENCES accounts (id),
    UNIQUE (organisation_id, start_post_id)
);
CREATE INDEX webcare_conversations_list ON webcare_conversations (organisation_id, status, last_activity_at DESC);
CREATE INDEX webcare_conversations_citizen ON webcare_conversations (organisation_id, citizen_account_id);

CREATE TABLE webcare_messages (
    conversation_id bigint NOT NULL REFERENCES webcare_conversations (id) ON DELETE CASCADE,
    post_id bigint NOT NULL REFERENCES posts (id),
    direction text NOT NULL CHECK (direction IN ('in', 'out')),
    written_by_id bigint REFERENCES accounts (id),
    created_at timestamptz NOT NULL,
    PRIMARY KEY (conversation_id, post_id)
);
CREATE INDEX webcare_messages_post ON webcare_messages (post_id);

-- The history of a conversation: message in, claim, release, note, answer, status and label changes. Notes are
-- internal: never federated, shown to the organisation's webcare team only. The id is a sequence, not a time-sorted
-- id with random low bits: several events of one transaction share their time and must keep their order.
CREATE TABLE webcare_events (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id bigint NOT NULL REFERENCES webcare_conversations (id) ON DELETE CASCADE,
    kind text NOT NULL CHECK (kind IN ('opened', 'message_in', 'claimed', 'released', 'note', 'answered',
                                       'status', 'labels')),
    actor_id bigint REFERENCES accounts (id),
    post_id bigint REFERENCES posts (id),
    detail jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL
);
CREATE INDEX webcare_events_conversation ON webcare_events (conversation_id, id);

-- Per organisation: opening hours per ISO weekday (1 = Monday), holidays, the promised first-response time in
-- working minutes, and the time zone the hours are in.
CREATE TABLE webcare_settings (
    organisation_id bigint PRIMARY KEY REFERENCES organisations (id),
    time_zone text NOT NULL DEFAULT 'Europe/Amsterdam',
    promise_minutes integer NOT NULL DEFAULT 240 CHECK (promise_minutes BETWEEN 1 AND 100000),
    hours jsonb NOT NULL DEFAULT '{}',
    holidays date[] NOT NULL DEFAULT '{}'
);

CREATE TABLE webcare_saved_replies (
    id bigint PRIMARY KEY,
    organisation_id bigint NOT NULL REFERENCES organisations (id),
    title text NOT NULL CHECK (length(title) BETWEEN 1 AND 100),
    body_nl text NOT NULL CHECK (length(body_nl) <= 5000),
    body_en text NOT NULL CHECK (length(body_en) <= 5000),
    created_at timestamptz NOT NULL
);
CREATE INDEX webcare_saved_replies_org ON webcare_saved_replies (organisation_id, title);

CREATE TABLE webcare_webhooks (
    id bigint PRIMARY KEY,
    organisation_id bigint NOT NULL REFERENCES organisations (id),
    url text NOT NULL CHECK (length(url) <= 2000),
    secret text NOT NULL,
    created_by bigint REFERENCES accounts (id),
    created_at timestamptz NOT NULL
);
CREATE INDEX webcare_webhooks_org ON webcare_webhooks (organisation_id);

CREATE TABLE webcare_webhook_deliveries (
    id bigint PRIMARY KEY,
    webhook_id bigint NOT NULL REFERENCES webcare_webhooks (id) ON DELETE CASCADE,
    event text NOT NULL,
    body text NOT NULL,
    created_at timestamptz NOT NULL,
    delivered_at timestamptz,
    state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'failed', 'dead')),
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    last_error text CHECK (last_error IS NULL OR length(last_error) <= 1024),
    locked_until timestamptz,
    locked_by integer
);
CREATE INDEX webcare_webhook_deliveries_due ON webcare_webhook_deliveries (next_attempt_at) WHERE state = 'pending';
