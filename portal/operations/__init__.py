"""The operators' view of the outbox: per backend, what waits, what is retried, what is parked,
and the actions an administrator may take on one message (retry now, park, cancel)."""
