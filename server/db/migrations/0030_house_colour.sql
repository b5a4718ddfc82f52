-- Owner: profiles (server/profiles.py). An organisation's house colour, kept on its own account's profile (whose
-- avatar is the organisation's logo); set once by an organisation admin, shown on its pages (issue 13, item 2).
ALTER TABLE profiles ADD COLUMN house_colour text CHECK (house_colour IS NULL OR house_colour ~ '^#[0-9a-f]{6}$');
