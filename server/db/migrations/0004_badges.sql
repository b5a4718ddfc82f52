-- 0004: verified ambtenaar badges, organisations verified by their website, and the audit log.
-- Owners: badges (server/badges.py), audit_log (server/audit.py),
-- organisations' verification columns (server/org_verification.py).

-- A badge says: this account is an official of this organisation, in this function, for these dates.
-- It is changed in place (its page URL stays stable, profile fields on other servers link to it) and never deleted:
-- a revoked badge keeps saying when and why it was revoked.
CREATE TABLE badges (
    id              bigint PRIMARY KEY,
    account_id      bigint NOT NULL REFERENCES accounts (id),
    organisation_id bigint NOT NULL REFERENCES organisations (id),
    function_title  text NOT NULL CHECK (length(function_title) BETWEEN 1 AND 200),
    unit            text NOT NULL DEFAULT '' CHECK (length(unit) <= 200),
    valid_from      date NOT NULL,
    valid_until     date,
    issued_by       bigint NOT NULL REFERENCES accounts (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    revoked_at      timestamptz,
    revoked_reason  text CHECK (length(revoked_reason) BETWEEN 1 AND 500),
    revoked_by      bigint REFERENCES accounts (id),
    CHECK (valid_until IS NULL OR valid_until >= valid_from),
    CHECK ((revoked_at IS NULL) = (revoked_reason IS NULL) AND (revoked_at IS NULL) = (revoked_by IS NULL))
);
-- At most one badge per account that is not revoked (it may still be expired or not yet valid).
CREATE UNIQUE INDEX badges_one_current_per_account ON badges (account_id) WHERE revoked_at IS NULL;
CREATE INDEX badges_organisation ON badges (organisation_id, id);

-- Who did what, when: append-only. The trigger refuses UPDATE and DELETE, so even a mistaken query cannot
-- rewrite history; a later migration that prunes or exports must say so explicitly.
CREATE TABLE audit_log (
    id                bigserial PRIMARY KEY,
    at                timestamptz NOT NULL DEFAULT now(),
    actor_account_id  bigint REFERENCES accounts (id),
    action            text NOT NULL CHECK (length(action) BETWEEN 1 AND 100),
    subject_type      text NOT NULL CHECK (length(subject_type) BETWEEN 1 AND 100),
    subject_id        text NOT NULL,
    detail            jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_subject ON audit_log (subject_type, subject_id, id);
CREATE INDEX audit_log_actor ON audit_log (actor_account_id, id) WHERE actor_account_id IS NOT NULL;

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP;
END;
$$;
CREATE TRIGGER audit_log_no_update_or_delete BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- An instance admin checked that the organisation's own website vouches for its account on this node.
ALTER TABLE organisations
    ADD COLUMN verified_at          timestamptz,
    ADD COLUMN verified_by          bigint REFERENCES accounts (id),
    ADD COLUMN verification_method  text CHECK (verification_method IN ('rel_me', 'well_known')),
    ADD COLUMN verification_detail  text;
