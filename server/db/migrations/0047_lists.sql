-- Owner: lists, list_accounts (server/lists.py). Mastodon's lists (issue 14, item 5): a person's named selection
-- of accounts they follow, with a timeline of its own and the `list` stream. `replies_policy` is Mastodon's
-- (followed | list | none); an `exclusive` list's members leave the owner's home timeline.
CREATE TABLE lists (
    id              bigint PRIMARY KEY,
    account_id      bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    title           text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    replies_policy  text NOT NULL DEFAULT 'list' CHECK (replies_policy IN ('followed', 'list', 'none')),
    exclusive       boolean NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX lists_account ON lists (account_id);

CREATE TABLE list_accounts (
    list_id     bigint NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
    account_id  bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (list_id, account_id)
);
CREATE INDEX list_accounts_account ON list_accounts (account_id);

-- Only accounts one follows are on one's lists (Mastodon ties a list entry to the follow): an ended follow
-- (unfollow, block, removed follower) takes the account off the follower's lists, whoever ends it.
CREATE FUNCTION list_accounts_follow_ended() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM list_accounts la USING lists l
     WHERE la.list_id = l.id AND l.account_id = OLD.follower_id AND la.account_id = OLD.followed_id;
    RETURN NULL;
END $$;
CREATE TRIGGER list_accounts_follow_ended AFTER DELETE ON follows
    FOR EACH ROW EXECUTE FUNCTION list_accounts_follow_ended();
