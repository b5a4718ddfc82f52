-- Owner: account_warnings (moderation/reports.py). A moderator's removal of a post (moderation/post_removal.py)
-- tells its author why, as Mastodon's strike of action `delete_statuses` does.
ALTER TABLE account_warnings DROP CONSTRAINT account_warnings_action_check;
ALTER TABLE account_warnings ADD CONSTRAINT account_warnings_action_check
    CHECK (action IN ('warn', 'silence', 'suspend', 'unsilence', 'unsuspend', 'delete_statuses'));
