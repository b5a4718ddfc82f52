-- Owner: remote_badge_checks (server/badges.py), queue columns by server/db/queue.py. Issue 12: the badge-check
-- queue uses the one queue module like the others, so its lease belongs to the worker that holds it and a worker
-- killed in the middle of a check gives it back at once (queue.reclaim), not after the lease.
ALTER TABLE remote_badge_checks ADD COLUMN locked_by integer;
