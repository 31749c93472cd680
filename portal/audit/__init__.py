"""The audit trail: every sign-in, refusal and action on someone's behalf.

Append-only and chained by hashes, so that a changed or removed row is detectable:
`python -m portal audit-verify`.
"""

from portal.audit.log import AuditLog, verify_chain

__all__ = ["AuditLog", "verify_chain"]
