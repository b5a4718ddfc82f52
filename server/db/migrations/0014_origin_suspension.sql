-- 0014: a remote account suspended by its own server.
-- Owner: accounts' moderation columns (server/accounts.py).

-- Mastodon (and this software) tells followers' servers that an account was suspended with an Update of the actor
-- carrying `suspended: true`. Such an account is hidden here too (suspended_at is set), and this flag says the
-- suspension came from its origin, so that the origin's unsuspension lifts it again; a suspension decided by our
-- own moderators (or a domain policy) is never lifted by the remote server.
ALTER TABLE accounts ADD COLUMN suspended_by_origin boolean NOT NULL DEFAULT false;
ALTER TABLE accounts ADD CONSTRAINT accounts_origin_suspension_is_a_suspension
    CHECK (NOT suspended_by_origin OR (suspended_at IS NOT NULL AND domain IS NOT NULL));
