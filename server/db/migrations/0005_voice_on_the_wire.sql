-- 0005: the voice of a post on other servers, and the organisation's automatic boosts.
-- Owners: organisations' wording and auto_boost (server/organisations.py); posts' remote voice (server/posts.py).

ALTER TABLE organisations
    ADD COLUMN auto_boost          boolean NOT NULL DEFAULT true,
    ADD COLUMN official_label_nl   text,
    ADD COLUMN official_label_en   text,
    ADD COLUMN personal_label_nl   text,
    ADD COLUMN personal_label_en   text;

-- A remote post of one of our nodes says its voice in our extension term; for official voice it names the
-- organisation's actor, which we keep by URI and name (it is not an organisation of this node).
ALTER TABLE posts
    ADD COLUMN voice_declared            boolean NOT NULL DEFAULT true,
    ADD COLUMN voice_organisation_uri    text,
    ADD COLUMN voice_organisation_name   text;
ALTER TABLE posts DROP CONSTRAINT posts_check;
ALTER TABLE posts ADD CONSTRAINT posts_official_voice_names_organisation
    CHECK (voice = 'personal' OR organisation_id IS NOT NULL OR voice_organisation_uri IS NOT NULL);
