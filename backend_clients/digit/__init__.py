"""DIGIT (eGov): complaints (PGR v2), workflow v2, bills and payments, MDMS, localization and
filestore, through one typed client (CONTRACTS.md §9)."""

from backend_clients.digit.client import (
    IDEMPOTENCY_HEADER,
    REFERENCE_FIELD,
    DigitClient,
    DigitRejected,
)
from backend_clients.digit.models import (
    Bill,
    Citizen,
    ComplaintRequest,
    Document,
    ErrorDetail,
    Locality,
    MasterDetail,
    Message,
    Payment,
    ProcessInstance,
    ServiceDef,
    ServiceWrapper,
    UserInfo,
)

__all__ = [
    "IDEMPOTENCY_HEADER",
    "REFERENCE_FIELD",
    "Bill",
    "Citizen",
    "ComplaintRequest",
    "DigitClient",
    "DigitRejected",
    "Document",
    "ErrorDetail",
    "Locality",
    "MasterDetail",
    "Message",
    "Payment",
    "ProcessInstance",
    "ServiceDef",
    "ServiceWrapper",
    "UserInfo",
]
