-- Owner: profiles (server/profiles.py). A local account's avatar and header (re-encoded files under
-- <data_dir>/media, cropped to Mastodon's ratios), their alt text, up to 4 profile fields, and the bot and
-- discoverable flags (issue 13, item 2). One row per account that set any of them; none means the defaults.
CREATE TABLE profiles (
    account_id bigint PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    avatar_file text CHECK (avatar_file IS NULL OR avatar_file ~ '^[A-Za-z0-9_-]+\.(jpg|png|webp)$'),
    avatar_description text NOT NULL DEFAULT '' CHECK (length(avatar_description) <= 1500),
    header_file text CHECK (header_file IS NULL OR header_file ~ '^[A-Za-z0-9_-]+\.(jpg|png|webp)$'),
    header_description text NOT NULL DEFAULT '' CHECK (length(header_description) <= 1500),
    fields jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(fields) = 'array' AND jsonb_array_length(fields) <= 4),
    bot boolean NOT NULL DEFAULT false,
    discoverable boolean NOT NULL DEFAULT true,
    updated_at timestamptz NOT NULL
);
