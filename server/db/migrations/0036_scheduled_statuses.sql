-- Owner: scheduled_statuses (server/scheduled.py), queue columns by server/db/queue.py; the column
-- media_attachments.scheduled_status_id is server/media.py's.
-- Scheduled posts (issue 14, item 4), as Mastodon's ScheduledStatus: the post's parameters, kept until its time,
-- then published by a worker through server/publishing.create_post (the organisation's checks run again then).
-- A row is a queue row without a lease (claimed FOR UPDATE SKIP LOCKED by the transaction that publishes it and
-- deletes it), so several workers publish each post exactly once. A publication that was refused stays as
-- `failed` with the reason in both languages (`failure`), for its author to read, until deleted.
CREATE TABLE scheduled_statuses (
    id bigint PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    scheduled_at timestamptz NOT NULL,
    params jsonb NOT NULL,
    idempotency_key text CHECK (idempotency_key IS NULL OR length(idempotency_key) <= 200),
    created_at timestamptz NOT NULL,
    failure jsonb,
    state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'failed', 'dead')),
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    last_error text CHECK (last_error IS NULL OR length(last_error) <= 1024),
    locked_until timestamptz,
    locked_by integer
);
CREATE INDEX scheduled_statuses_due ON scheduled_statuses (next_attempt_at) WHERE state = 'pending';
CREATE INDEX scheduled_statuses_account ON scheduled_statuses (account_id, scheduled_at);

-- An upload chosen for a scheduled post belongs to it until publication: neither another post can take it nor is it
-- an unattached upload any more. Deleting the scheduled post gives it back (SET NULL), as Mastodon does.
ALTER TABLE media_attachments ADD COLUMN scheduled_status_id bigint
    REFERENCES scheduled_statuses (id) ON DELETE SET NULL;
CREATE INDEX media_attachments_scheduled ON media_attachments (scheduled_status_id)
    WHERE scheduled_status_id IS NOT NULL;
