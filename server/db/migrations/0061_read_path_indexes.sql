-- 0061: indexes that keep the read paths independent of the size of the tables (issue 18, item 5).
-- Owners: post_mentions, posts (server/posts.py), accounts (server/accounts.py); the queries are
-- server/timelines.py's, server/notifications.py's, server/conversations.py's and server/visibility.py's.
-- tests/integration/test_query_plans.py checks each path's plan on a seeded database.

-- The posts that mention an account, newest first: the home timeline's "mentions me" source, the visibility
-- rule's "mentioned" test when PostgreSQL hashes it per viewer, and the conversations of direct posts.
CREATE INDEX IF NOT EXISTS post_mentions_account ON post_mentions (account_id, post_id DESC);

-- The few suspended accounts: the notifications list leaves out what they sent, as an anti-join on this index
-- instead of a scan of every account.
CREATE INDEX IF NOT EXISTS accounts_suspended ON accounts (id) WHERE suspended_at IS NOT NULL;

-- An account's own direct posts, newest first: its conversations (the rest come through post_mentions_account).
CREATE INDEX IF NOT EXISTS posts_account_direct ON posts (account_id, id DESC)
    WHERE visibility = 'direct' AND deleted_at IS NULL;

-- The local timeline: public posts written here (no uri), not boosts. On a node that mostly receives, these are
-- a small share of posts_public_time, which a page would otherwise read through.
CREATE INDEX IF NOT EXISTS posts_local_public_time ON posts (id DESC)
    WHERE deleted_at IS NULL AND visibility = 'public' AND uri IS NULL AND reblog_of_id IS NULL;
