-- Owner: accessibility statement (server/accessibility_statement.py). The node's accessibility statement in the
-- structure of the Dutch model statement (issue 13, item 5): scope, compliance status (A to E), known issues,
-- contact, and the last audit; filled in by an instance admin, shown at /toegankelijkheid. One row per node.
CREATE TABLE accessibility_statements (
    id smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    organisation_name text NOT NULL CHECK (length(organisation_name) BETWEEN 1 AND 200),
    scope text NOT NULL CHECK (length(scope) BETWEEN 1 AND 2000),
    status text NOT NULL CHECK (status IN ('A', 'B', 'C', 'D', 'E')),
    known_issues text NOT NULL DEFAULT '' CHECK (length(known_issues) <= 5000),
    contact_email text NOT NULL CHECK (length(contact_email) BETWEEN 3 AND 320),
    contact_details text NOT NULL DEFAULT '' CHECK (length(contact_details) <= 2000),
    audit_date date,
    audit_by text NOT NULL DEFAULT '' CHECK (length(audit_by) <= 200),
    audit_report_url text NOT NULL DEFAULT '' CHECK (length(audit_report_url) <= 2000),
    updated_at timestamptz NOT NULL,
    updated_by bigint REFERENCES accounts (id) ON DELETE SET NULL
);
