-- A version number of the federation policy tables (issue 18): every web process keeps the domain gate's decisions
-- in memory (moderation/gate_cache.py) and the inbox's one storing statement (federation/inbox.py) stores an
-- activity only when the version it decided with is still the current one, so a block takes effect at once in
-- every process, with no listener and no expiry. Owner: moderation/domain_blocks.py.
CREATE TABLE federation_policy_version (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    version    bigint NOT NULL
);
INSERT INTO federation_policy_version (singleton, version) VALUES (true, 1);

-- Any change of domain_policies, domain_allows or federation_mode (whoever makes it: a page, the CLI, a test)
-- moves the version on in the same transaction.
CREATE FUNCTION federation_policy_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE federation_policy_version SET version = version + 1;
    RETURN NULL;
END $$;

CREATE TRIGGER domain_policies_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON domain_policies
    FOR EACH STATEMENT EXECUTE FUNCTION federation_policy_changed();
CREATE TRIGGER domain_allows_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON domain_allows
    FOR EACH STATEMENT EXECUTE FUNCTION federation_policy_changed();
CREATE TRIGGER federation_mode_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON federation_mode
    FOR EACH STATEMENT EXECUTE FUNCTION federation_policy_changed();
