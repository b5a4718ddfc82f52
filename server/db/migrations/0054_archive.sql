-- Archive (issue 16): how long an organisation keeps its records after they leave the platform, and its
-- selectielijst values for the MDTO export.
-- Owner: archive_settings (server/archive.py).
-- Durations are ISO 8601 (P10Y, P6M, P0D), validated by server/archive.py; NULL columns mean the defaults there.
CREATE TABLE archive_settings (
    organisation_id      bigint PRIMARY KEY REFERENCES organisations (id) ON DELETE CASCADE,
    official_retention   text NOT NULL CHECK (official_retention ~ '^P'),
    personal_retention   text NOT NULL CHECK (personal_retention ~ '^P'),
    received_retention   text NOT NULL CHECK (received_retention ~ '^P'),
    waardering           text NOT NULL DEFAULT 'V' CHECK (waardering IN ('B', 'V', 'N')),
    category_label       text CHECK (length(category_label) BETWEEN 1 AND 200),
    category_code        text CHECK (length(category_code) BETWEEN 1 AND 40),
    selectielijst        text CHECK (length(selectielijst) BETWEEN 1 AND 200),
    updated_at           timestamptz NOT NULL
);
