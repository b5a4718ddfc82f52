-- 0006: trust between government nodes, and what we concluded about remote badges.
-- Owners: trusted_issuers (server/trust.py); accounts' remote badge columns (server/accounts.py).

CREATE TABLE trusted_issuers (
    domain      text PRIMARY KEY CHECK (domain = lower(domain) AND length(domain) BETWEEN 1 AND 253),
    added_at    timestamptz NOT NULL DEFAULT now(),
    added_by    bigint REFERENCES accounts (id)
);

-- The badge a remote actor claims (as received), and whether we could verify it, with the reason if not.
ALTER TABLE accounts
    ADD COLUMN remote_badge          jsonb,
    ADD COLUMN remote_badge_verified boolean NOT NULL DEFAULT false,
    ADD COLUMN remote_badge_reason   text;
