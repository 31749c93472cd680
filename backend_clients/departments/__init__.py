"""The department case API shared by trade-licence, tax, environment and employer."""

from backend_clients.departments.client import DepartmentClient
from backend_clients.departments.models import (
    Applicant,
    Case,
    CaseEvent,
    CaseReceipt,
    CaseRequest,
    CaseStatus,
    Fee,
    PaymentReport,
    StatusWebhook,
)
from backend_clients.departments.signature import HEADER, sign, verify

__all__ = [
    "HEADER",
    "Applicant",
    "Case",
    "CaseEvent",
    "CaseReceipt",
    "CaseRequest",
    "CaseStatus",
    "DepartmentClient",
    "Fee",
    "PaymentReport",
    "StatusWebhook",
    "sign",
    "verify",
]
