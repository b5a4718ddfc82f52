-- The archivist (issue 16): a member who exports the organisation's archive and answers Woo requests.
-- Owners: accounts.org_role (server/accounts.py) and invites.org_role (server/invites.py). `webcare` (0051) stays.
ALTER TABLE accounts DROP CONSTRAINT accounts_org_role_check;
ALTER TABLE accounts ADD CONSTRAINT accounts_org_role_check
    CHECK (org_role IN ('official', 'reviewer', 'org_admin', 'webcare', 'archivist'));
ALTER TABLE invites DROP CONSTRAINT invites_org_role_check;
ALTER TABLE invites ADD CONSTRAINT invites_org_role_check
    CHECK (org_role IN ('official', 'reviewer', 'org_admin', 'webcare', 'archivist'));
