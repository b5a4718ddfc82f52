-- Handles on the organisation's own domain (issue 17): @anna@ede.nl for the members of an organisation hosted here.
-- Owner: server/handle_domains.py (both tables).
-- handle_domains: one handle domain per organisation, pending until the self-test passes, then active (and failing
-- while the daily re-check fails; the handle keeps working here, other servers may no longer find it).
-- federated_at: the first moment we saw an account of the organisation federate under the domain (a remote
-- follower, or an official post, since activation); from then on the domain is never changed.
CREATE TABLE handle_domains (
    organisation_id  bigint PRIMARY KEY REFERENCES organisations (id),
    domain           text NOT NULL CHECK (domain ~ '^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$'
                                          AND length(domain) <= 253),
    state            text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'active', 'failing')),
    set_at           timestamptz NOT NULL,
    activated_at     timestamptz,
    checked_at       timestamptz,
    check_lines      text[] NOT NULL DEFAULT '{}',
    federated_at     timestamptz,
    CHECK (state = 'pending' OR activated_at IS NOT NULL)
);
CREATE UNIQUE INDEX handle_domains_domain_key ON handle_domains (domain);

-- remote_handle_domains: a remote account whose handle lives on another domain than its actor (a Mastodon server
-- with LOCAL_DOMAIN != WEB_DOMAIN): bob@example.com whose actor is https://social.example.com/users/bob. The
-- account itself stays one row of accounts, keyed by its actor URI; this row lets a mention or search of the
-- handle find it without asking WebFinger again.
CREATE TABLE remote_handle_domains (
    account_id     bigint PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    username       text NOT NULL,
    handle_domain  text NOT NULL,
    confirmed_at   timestamptz NOT NULL
);
CREATE UNIQUE INDEX remote_handle_domains_handle_key ON remote_handle_domains (lower(username), handle_domain);
