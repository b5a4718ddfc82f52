-- Owner: queue_workers and the queue columns of every work queue (server/db/queue.py); the queue tables stay their
-- modules' (outbox_events: server/events.py, inbox_items: federation/inbox.py, deliveries: federation/delivery.py).
-- Issue 12, "one queue module": every queue has the same columns (state, attempts, next_attempt_at, last_error,
-- locked_until, locked_by), and a lease belongs to the worker that holds it.

-- One row per running worker. A worker holds a session-level advisory lock (pg_advisory_lock(space, id)) on its
-- listening connection for as long as it lives; PostgreSQL drops the lock when that backend ends (a SIGKILL of the
-- process closes the connection), so a worker whose lock is gone no longer exists and its leases are taken back.
CREATE TABLE queue_workers (
    id           serial PRIMARY KEY,
    name         text NOT NULL,
    started_at   timestamptz NOT NULL,
    heartbeat_at timestamptz NOT NULL
);

ALTER TABLE inbox_items ADD COLUMN locked_by integer;
ALTER TABLE deliveries ADD COLUMN locked_by integer;

-- Outbox events get the state column the other queues have (processed_at and failed_at stay: when, and which).
ALTER TABLE outbox_events ADD COLUMN state text NOT NULL DEFAULT 'pending'
                              CHECK (state IN ('pending', 'done', 'failed')),
                          ADD COLUMN locked_until timestamptz,
                          ADD COLUMN locked_by integer;
UPDATE outbox_events SET state = CASE WHEN failed_at IS NOT NULL THEN 'failed' ELSE 'done' END
 WHERE processed_at IS NOT NULL;
DROP INDEX outbox_events_pending;
CREATE INDEX outbox_events_pending ON outbox_events (id) WHERE state = 'pending';
