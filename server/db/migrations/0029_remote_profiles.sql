-- Owner: profiles (server/profiles.py). A remote account's profile fields and header, as its actor document
-- (`attachment`, `image`) last said: its server may send more fields than our 4 (ours adds the badge and
-- organisation fields), so the table caps them at 16; a local profile keeps 4 (server/profiles.py).
ALTER TABLE profiles DROP CONSTRAINT profiles_fields_check;
ALTER TABLE profiles ADD CONSTRAINT profiles_fields_check
    CHECK (jsonb_typeof(fields) = 'array' AND jsonb_array_length(fields) <= 16);
ALTER TABLE profiles ADD COLUMN header_url text CHECK (header_url IS NULL OR length(header_url) <= 2048);
