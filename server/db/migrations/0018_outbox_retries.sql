-- Owner: outbox_events (server/events.py). An event whose activity cannot be built is retried with backoff and
-- finally given up, with its error kept, instead of holding up every event after it (server/db/queue.py).
ALTER TABLE outbox_events ADD COLUMN attempts integer NOT NULL DEFAULT 0,
                          ADD COLUMN next_attempt_at timestamptz NOT NULL DEFAULT now(),
                          ADD COLUMN last_error text CHECK (last_error IS NULL OR length(last_error) <= 1024),
                          ADD COLUMN failed_at timestamptz;
-- processed_at is set for events that are done or given up (failed_at tells which).
