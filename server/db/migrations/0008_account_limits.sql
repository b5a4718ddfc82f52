-- 0008: moderators' limits on an account, local or remote.
-- Owner: accounts' moderation columns (server/accounts.py); the visibility rule that reads them is
-- server/timelines.py. Who decided, when and why is in audit_log (moderation/ writes it).

-- silenced_at: "limited" in Mastodon's words: posts reach only the account's followers and the people it
--   mentions; they leave the public timelines and search, and its notifications reach only people who follow it.
-- suspended_at: the account is gone from this node's view: no posts, no profile, no sign-in, no federation.
-- A domain policy (moderation/domain_blocks.py) sets these columns for every account of the domain, the way
-- Mastodon does, so the visibility rule needs no second table.
ALTER TABLE accounts
    ADD COLUMN silenced_at  timestamptz,
    ADD COLUMN suspended_at timestamptz;
CREATE INDEX accounts_limited ON accounts (id) WHERE silenced_at IS NOT NULL OR suspended_at IS NOT NULL;
