"""ActivityPub federation: discovery, actors, HTTP signatures, the inbox and its handlers, the outbox, delivery and
the workers (docs/federation.md). It reads and writes the node through server/ functions."""
