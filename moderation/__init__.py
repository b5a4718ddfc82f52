"""Moderation: the organisations' policy checks before federation (moderation/policy/, a pure library) and the
moderation of what comes in: reports, account actions, post removal, domain policies, rate limits, sanitising."""
