-- Owner: notifications (server/notifications.py). Someone quoted your post (Mastodon 4.5's `quote` type: the
-- quoting post is attached), issue 14 item 6. Keeps every type of 0037; a later migration that changes this
-- constraint must keep `quote` too.
ALTER TABLE notifications DROP CONSTRAINT notifications_type_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_type_check
    CHECK (type IN ('mention', 'status', 'reblog', 'follow', 'follow_request', 'favourite', 'poll', 'update',
                    'review_approved', 'review_rejected', 'review_changes_requested',
                    'scheduled_held', 'scheduled_failed', 'quote'));
