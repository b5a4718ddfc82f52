-- Woo requests (issue 16, item 5): an organisation's choice whether its officials' names are public-facing, which
-- decides whether a redacted Woo export keeps them.
-- Owner: server/woo_export.py. The search itself needs no table: server/woo.py reads posts and post_edits with
-- to_tsvector('dutch', ...) in the query (see docs/archive.md, "Woo requests", on speed).
CREATE TABLE woo_settings (
    organisation_id  bigint PRIMARY KEY REFERENCES organisations (id),
    officials_public boolean NOT NULL DEFAULT true,
    updated_at       timestamptz NOT NULL
);
