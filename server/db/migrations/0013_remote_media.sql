-- 0013: images of remote posts.
-- Owner: media_attachments' remote column (server/media.py).

-- A remote post's image is kept as its address only; pages and apps get it through our media proxy
-- (federation/media_proxy.py), which fetches it with the outgoing-request guard and re-encodes it.
ALTER TABLE media_attachments ADD COLUMN remote_url text;
ALTER TABLE media_attachments ADD CONSTRAINT media_attachments_local_file_or_remote
    CHECK (remote_url IS NOT NULL OR file_name <> '');
