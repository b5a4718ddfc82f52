-- Owner: notifications (server/notifications.py). A reviewer's decision on a held post notifies its author
-- (issue 13, item 6): review_approved (the post is published now), review_rejected and review_changes_requested,
-- with the reviewer's reason in `note`. The client API shows them as Mastodon's `status` type (docs/client-api.md).
ALTER TABLE notifications DROP CONSTRAINT notifications_type_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_type_check
    CHECK (type IN ('mention', 'status', 'reblog', 'follow', 'follow_request', 'favourite', 'poll', 'update',
                    'review_approved', 'review_rejected', 'review_changes_requested'));
ALTER TABLE notifications ADD COLUMN note text NOT NULL DEFAULT '' CHECK (length(note) <= 1000);
