-- 0009: what this node does with other servers: domain policies (suspend, silence, reject media), and the
-- federation mode (everyone but the blocked, or only the allowed).
-- Owner: moderation/domain_blocks.py (the gate decisions and every change, audited in audit_log).

-- One row per blocked domain, shaped like Mastodon's domain blocks so its CSV export round-trips:
-- severity suspend | silence | noop ("noop" with reject_media is our "reject-media"), and the three flags.
-- A policy on example.com covers its subdomains; the most specific policy wins. A domain may carry a port
-- (host:port) for nodes that are not on the default port; a policy without a port covers every port.
-- limited_at: the moment written into accounts.silenced_at / suspended_at by this policy, so that lifting the
-- policy lifts only the limits that came from it (a moderator's own limit on one account stays).
CREATE TABLE domain_policies (
    domain          text PRIMARY KEY CHECK (domain = lower(domain) AND length(domain) BETWEEN 1 AND 253),
    severity        text NOT NULL CHECK (severity IN ('suspend', 'silence', 'noop')),
    reject_media    boolean NOT NULL DEFAULT false,
    reject_reports  boolean NOT NULL DEFAULT false,
    obfuscate       boolean NOT NULL DEFAULT false,
    private_comment text NOT NULL DEFAULT '' CHECK (length(private_comment) <= 2000),
    public_comment  text NOT NULL DEFAULT '' CHECK (length(public_comment) <= 2000),
    created_at      timestamptz NOT NULL,
    created_by      bigint REFERENCES accounts (id) ON DELETE SET NULL,
    updated_at      timestamptz NOT NULL,
    limited_at      timestamptz NOT NULL
);

-- Domains this node federates with in allowlist mode (subdomains included, as for policies).
CREATE TABLE domain_allows (
    domain      text PRIMARY KEY CHECK (domain = lower(domain) AND length(domain) BETWEEN 1 AND 253),
    created_at  timestamptz NOT NULL,
    created_by  bigint REFERENCES accounts (id) ON DELETE SET NULL
);

-- One row at most: absent means blocklist mode (the default: federate with everyone not suspended).
CREATE TABLE federation_mode (
    singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    mode        text NOT NULL CHECK (mode IN ('blocklist', 'allowlist')),
    changed_at  timestamptz NOT NULL,
    changed_by  bigint REFERENCES accounts (id) ON DELETE SET NULL
);
