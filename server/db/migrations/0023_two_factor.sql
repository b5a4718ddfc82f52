-- Owners: server/two_factor.py (two_factor_secrets, recovery_codes, sign_in_challenges, two_factor_requirements),
-- server/password_changes.py (password_resets), server/sessions.py (the new web_sessions columns).
-- Passwords and two-factor sign-in (issue 13): TOTP secrets encrypted with a key derived from the node's secret
-- key (AES-GCM, never in clear), recovery codes and reset links stored only as keyed hashes or hashes, a sign-in
-- half done (password right, second factor or enrolment still to come) kept apart from real sessions.

CREATE TABLE two_factor_secrets (
    account_id   bigint PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    secret_enc   bytea NOT NULL,              -- nonce (12 bytes) || AES-GCM ciphertext, bound to the account id
    created_at   timestamptz NOT NULL,
    confirmed_at timestamptz,                 -- NULL: enrolment begun, not yet confirmed with a code
    last_step    bigint                       -- the last TOTP time step accepted: a code is good once
);

CREATE TABLE recovery_codes (
    id          bigserial PRIMARY KEY,
    account_id  bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    code_hash   bytea NOT NULL,               -- HMAC-SHA256 under a key derived from the secret key
    created_at  timestamptz NOT NULL,
    used_at     timestamptz
);
CREATE INDEX recovery_codes_account ON recovery_codes (account_id);

CREATE TABLE sign_in_challenges (
    token_hash  bytea PRIMARY KEY,
    account_id  bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    stage       text NOT NULL CHECK (stage IN ('second_factor', 'enrol')),
    next_path   text NOT NULL DEFAULT '/',
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL
);
CREATE INDEX sign_in_challenges_account ON sign_in_challenges (account_id);

CREATE TABLE two_factor_requirements (
    organisation_id bigint PRIMARY KEY REFERENCES organisations (id) ON DELETE CASCADE,
    required_at     timestamptz NOT NULL,
    required_by     bigint REFERENCES accounts (id)
);

CREATE TABLE password_resets (
    token_hash  bytea PRIMARY KEY,
    account_id  bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);
CREATE INDEX password_resets_account ON password_resets (account_id);

-- Sessions get a number to name them by on the security page, and what the person may recognise them by.
ALTER TABLE web_sessions ADD COLUMN id bigserial,
                         ADD COLUMN user_agent text NOT NULL DEFAULT '',
                         ADD COLUMN client_address text NOT NULL DEFAULT '';
CREATE UNIQUE INDEX web_sessions_id ON web_sessions (id);
