-- Owner: remote_badge_checks (server/badges.py). A badge another server's actor claims is stored with the account
-- as unchecked ("being checked") and checked by a worker (federation/remote_badges.py), not inside the request that
-- brought the actor: one row per account whose latest claim waits for its check (issue 12). `badge` is the claim
-- being checked; a check finishes only while it is still the account's claim. Done checks are deleted.
CREATE TABLE remote_badge_checks (
    account_id bigint PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    badge jsonb NOT NULL,
    state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    locked_until timestamptz,
    last_error text CHECK (last_error IS NULL OR length(last_error) <= 1024),
    queued_at timestamptz NOT NULL
);
CREATE INDEX remote_badge_checks_due ON remote_badge_checks (next_attempt_at) WHERE state = 'pending';
