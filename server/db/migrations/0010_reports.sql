-- 0010: reports about accounts and posts, and moderators' warnings to accounts.
-- Owner: reports, report_posts and account_warnings (moderation/reports.py). The decisions themselves (who
-- resolved, silenced or suspended, and why) are also written to audit_log in the same transaction.

-- A report comes from a person of this node (reporter_account_id) or from another server's Flag activity
-- (reporter_domain, with the Flag's actor and id). It is about one account; the posts it points at are in
-- report_posts. forwarded_at: when a Flag about a remote account was sent to its server from our instance actor.
CREATE TABLE reports (
    id                      bigint PRIMARY KEY,
    reporter_account_id     bigint REFERENCES accounts (id) ON DELETE SET NULL,
    reporter_domain         text CHECK (reporter_domain IS NULL OR length(reporter_domain) <= 300),
    reporter_actor_uri      text CHECK (reporter_actor_uri IS NULL OR length(reporter_actor_uri) <= 2048),
    flag_uri                text CHECK (flag_uri IS NULL OR length(flag_uri) <= 2048),
    target_account_id       bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    category                text NOT NULL CHECK (category IN ('spam', 'legal', 'violation', 'other')),
    comment                 text NOT NULL DEFAULT '' CHECK (length(comment) <= 5000),
    forward_requested       boolean NOT NULL DEFAULT false,
    forwarded_at            timestamptz,
    state                   text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'resolved')),
    action_taken            text CHECK (action_taken IN ('none', 'warn', 'silence', 'suspend')),
    resolved_by_account_id  bigint REFERENCES accounts (id) ON DELETE SET NULL,
    resolved_at             timestamptz,
    created_at              timestamptz NOT NULL,
    updated_at              timestamptz NOT NULL,
    -- A person who left keeps their reports (SET NULL), so only a remote report must name its domain.
    CHECK (reporter_domain IS NULL OR reporter_account_id IS NULL),
    CHECK ((state = 'resolved') = (resolved_at IS NOT NULL))
);
-- A Flag naming several of our accounts makes one report per account; a Flag seen twice makes nothing new.
CREATE UNIQUE INDEX reports_flag_once ON reports (flag_uri, target_account_id) WHERE flag_uri IS NOT NULL;
CREATE INDEX reports_open ON reports (id DESC) WHERE state = 'open';
CREATE INDEX reports_target ON reports (target_account_id, id DESC);

-- The reported posts, with a copy of what they said when reported: the evidence stays when the post is
-- deleted, edited, or purged with a suspended remote account.
CREATE TABLE report_posts (
    report_id     bigint NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    post_id       bigint REFERENCES posts (id) ON DELETE SET NULL,
    post_uri      text NOT NULL,
    content_html  text NOT NULL DEFAULT '',
    spoiler_text  text NOT NULL DEFAULT '',
    posted_at     timestamptz NOT NULL,
    PRIMARY KEY (report_id, post_uri)
);
CREATE INDEX report_posts_post ON report_posts (post_id) WHERE post_id IS NOT NULL;

-- A moderator's word to an account ("strike" in Mastodon): a warning with text, or the note that goes with a
-- limit or suspension. A person of this node sees them in their notifications; for a remote account it is a record.
CREATE TABLE account_warnings (
    id                     bigint PRIMARY KEY,
    account_id             bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    moderator_account_id   bigint REFERENCES accounts (id) ON DELETE SET NULL,
    report_id              bigint REFERENCES reports (id) ON DELETE SET NULL,
    action                 text NOT NULL CHECK (action IN ('warn', 'silence', 'suspend', 'unsilence', 'unsuspend')),
    text                   text NOT NULL DEFAULT '' CHECK (length(text) <= 5000),
    created_at             timestamptz NOT NULL
);
CREATE INDEX account_warnings_account ON account_warnings (account_id, id DESC);
