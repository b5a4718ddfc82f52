-- 0007: the organisations' policy checks before a post leaves the node, and held posts.
-- Owners: policy_settings (server/policy_settings.py); posts' review columns (server/posts.py).

CREATE TABLE policy_settings (
    organisation_id  bigint NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    check_id         text NOT NULL,
    action           text NOT NULL CHECK (action IN ('warn', 'hold', 'block')),
    options          jsonb NOT NULL DEFAULT '{}',
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organisation_id, check_id)
);

-- A held post is stored but neither public nor federated until a reviewer approves it.
ALTER TABLE posts
    ADD COLUMN state            text NOT NULL DEFAULT 'published' CHECK (state IN ('published', 'held', 'rejected')),
    ADD COLUMN policy_findings  jsonb,
    ADD COLUMN review_note      text;
CREATE INDEX posts_held ON posts (organisation_id, id) WHERE state = 'held';
