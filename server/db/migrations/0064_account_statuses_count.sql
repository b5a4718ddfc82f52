-- 0064: an account's statuses_count (the client API's Account entity, server/timelines.account_stats) as an
-- index-only count: the posts it counts are exactly this index's entries, so the table is not read. At 1,000,000
-- posts the counts for a home page's 26 authors went from 620-746 ms to 3-7 ms (docs/benchmarks.md, issue 18).
-- Still linear in an author's posts; a counters table kept by the publishing path would make it constant.
-- Owner: posts (server/posts.py); the query is server/timelines.py's account_stats.
CREATE INDEX IF NOT EXISTS posts_account_counted ON posts (account_id)
    WHERE deleted_at IS NULL AND state = 'published' AND visibility IN ('public', 'unlisted');
