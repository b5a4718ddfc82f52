"""Mastodon client API and OAuth2: the apps officials already use work against this node unchanged."""
