-- Archive exports started on the web (issue 16, item 4): each a row of a work queue the worker runs.
-- Owner: server/archive_jobs.py (the queue columns as server/db/queue.py defines them).
-- `posts_done`/`posts_total` are the progress the export reports as it runs; `file_name` is the finished bag,
-- zipped, under <data dir>/archive-exports/. The row stays when the file is removed, for the record.
CREATE TABLE archive_exports (
    id              bigint PRIMARY KEY,
    organisation_id bigint NOT NULL REFERENCES organisations (id),
    requested_by    bigint REFERENCES accounts (id),
    period_start    date NOT NULL,
    period_end      date NOT NULL,
    voice           text NOT NULL CHECK (voice IN ('official', 'all')),
    created_at      timestamptz NOT NULL,
    started_at      timestamptz,
    finished_at     timestamptz,
    posts_done      integer NOT NULL DEFAULT 0,
    posts_total     integer,
    file_name       text,
    file_bytes      bigint,
    file_sha256     text,
    state           text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'failed', 'dead')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    last_error      text,
    locked_until    timestamptz,
    locked_by       integer,
    CHECK (period_end >= period_start)
);
CREATE INDEX archive_exports_due ON archive_exports (next_attempt_at) WHERE state = 'pending';
CREATE INDEX archive_exports_organisation ON archive_exports (organisation_id, id DESC);
