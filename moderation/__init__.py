"""Moderation: policy checks before federation and the gate for what comes in; arrives with its issues."""
