"""ActivityPub federation (WebFinger, actors, HTTP signatures, inbox, delivery): arrives with the federation issue.

Until then the node records every change other servers must hear about in `outbox_events` (server/events.py).
"""
