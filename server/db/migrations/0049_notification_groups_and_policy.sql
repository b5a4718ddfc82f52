-- Owners: the new notifications columns (server/notifications.py); notification_policies,
-- notification_requests, notification_permissions (server/notification_policy.py). Issue 14, item 5: Mastodon
-- 4.3's grouped notifications (a favourite, boost or follow notification's `group_key`: its type, post and hour
-- bucket, NULL for types that are never grouped) and notification policy: notifications from accounts a
-- person's policy filters are kept `filtered` (out of the list) and summed up in one request per account.
ALTER TABLE notifications ADD COLUMN group_key text;
ALTER TABLE notifications ADD COLUMN filtered boolean NOT NULL DEFAULT false;
CREATE INDEX notifications_group ON notifications (account_id, group_key, id DESC) WHERE group_key IS NOT NULL;

CREATE TABLE notification_policies (
    account_id            bigint PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    for_not_following     text NOT NULL DEFAULT 'accept' CHECK (for_not_following IN ('accept', 'filter', 'drop')),
    for_not_followers     text NOT NULL DEFAULT 'accept' CHECK (for_not_followers IN ('accept', 'filter', 'drop')),
    for_new_accounts      text NOT NULL DEFAULT 'accept' CHECK (for_new_accounts IN ('accept', 'filter', 'drop')),
    for_private_mentions  text NOT NULL DEFAULT 'filter' CHECK (for_private_mentions IN ('accept', 'filter', 'drop')),
    for_limited_accounts  text NOT NULL DEFAULT 'filter' CHECK (for_limited_accounts IN ('accept', 'filter', 'drop')),
    updated_at            timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE notification_requests (
    id                   bigint PRIMARY KEY,
    account_id           bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    from_account_id      bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    last_post_id         bigint REFERENCES posts (id) ON DELETE SET NULL,
    notifications_count  integer NOT NULL DEFAULT 0,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account_id, from_account_id)
);

CREATE TABLE notification_permissions (
    account_id       bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    from_account_id  bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, from_account_id)
);
