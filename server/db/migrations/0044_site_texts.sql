-- Owner: site texts (server/site_texts.py). The node's privacy policy and terms of service (issue 14, item 5),
-- written by an instance admin on /admin/texts, shown at /privacy and /voorwaarden and served by
-- /api/v1/instance/privacy_policy and /terms_of_service. One row per text.
CREATE TABLE site_texts (
    kind text PRIMARY KEY CHECK (kind IN ('privacy_policy', 'terms_of_service')),
    body text NOT NULL CHECK (length(body) BETWEEN 1 AND 50000),
    updated_at timestamptz NOT NULL,
    updated_by bigint REFERENCES accounts (id) ON DELETE SET NULL
);
