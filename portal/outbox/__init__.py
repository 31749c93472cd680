"""The transactional outbox: work for backends written with the change that needs it, and the
worker (`python -m portal worker`) that delivers it with idempotency keys and retries."""

from portal.outbox.queue import enqueue

__all__ = ["enqueue"]
