-- Owner: notifications (server/notifications.py). A scheduled post that was held for review when its time came
-- (scheduled_held, the held post attached) or could not be published (scheduled_failed, the reason in `note`)
-- notifies its author (issue 14, item 4). Mastodon has no such types: docs/client-api.md says how the API shows
-- them. A later migration that changes this constraint must keep these two types.
ALTER TABLE notifications DROP CONSTRAINT notifications_type_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_type_check
    CHECK (type IN ('mention', 'status', 'reblog', 'follow', 'follow_request', 'favourite', 'poll', 'update',
                    'review_approved', 'review_rejected', 'review_changes_requested',
                    'scheduled_held', 'scheduled_failed'));
