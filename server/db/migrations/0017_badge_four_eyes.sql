-- Owner: badges (server/badges.py). Four eyes on badges, as on posts: a badge an admin issues, changes or renews
-- for themselves waits (awaiting_approval) until a second admin of the organisation, or an instance admin, who
-- is not its holder approves it. Until then it is valid nowhere: not on pages, in the API or on the wire.
ALTER TABLE badges ADD COLUMN awaiting_approval boolean NOT NULL DEFAULT false,
                   ADD COLUMN approved_by bigint REFERENCES accounts (id),
                   ADD COLUMN approved_at timestamptz;
