-- 0015: indexes the moderation issue's queries need.
-- Owners: posts (server/posts.py), notifications (server/notifications.py), idempotency_keys
-- (server/idempotency.py), accounts (server/accounts.py).

-- A purge deletes posts for good: every deleted row makes PostgreSQL look for rows that point at it, which
-- without these indexes is a scan of the whole referencing table per post. The boosts index also serves the
-- boost counts of every timeline.
CREATE INDEX posts_reblog_of ON posts (reblog_of_id) WHERE reblog_of_id IS NOT NULL;
CREATE INDEX notifications_post ON notifications (post_id) WHERE post_id IS NOT NULL;
CREATE INDEX idempotency_keys_post ON idempotency_keys (post_id);

-- Domain policies find the known accounts of a domain.
CREATE INDEX accounts_domain ON accounts (domain) WHERE domain IS NOT NULL;

-- Indexed only what the primary key already serves, and no query lists limited accounts.
DROP INDEX accounts_limited;
