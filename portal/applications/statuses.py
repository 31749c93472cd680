"""The words for each state of a department request, and an application's overall state."""

from __future__ import annotations

from typing import Literal

from portal.i18n import lazy_gettext as _l

# Who reads the words: the citizen ("you") or staff reading about the citizen (an agent on a
# call), for the few texts that say "you".
Audience = Literal["citizen", "staff"]

# What a timeline entry says, in the reader's language.
STATUS_LABELS = {
    "submitted": _l("Application sent"),
    "sending": _l("Being sent to the department"),
    "received": _l("Received by the department"),
    "in_review": _l("Being reviewed"),
    "information_requested": _l("More information needed"),
    "information_sent": _l("You sent more information"),
    "fee_due": _l("Fee to pay"),
    "paid": _l("Fee paid"),
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
    "certificate_issued": _l("Certificate issued"),
    "resolved": _l("Fixed"),
    "not_delivered": _l("Could not be sent: we are looking into it"),
}
# The labels above that speak to the citizen, as staff read them.
STAFF_LABELS = {
    "information_sent": _l("The citizen sent more information"),
}
FINAL = {"rejected", "certificate_issued", "resolved"}
WAITING_FOR_CITIZEN = {"information_requested", "fee_due"}

# An application's state on "My applications", from its departments' states.
OVERALL_LABELS = {
    "action_needed": _l("Action needed"),
    "in_progress": _l("In progress"),
    "completed": _l("Completed"),
    "rejected": _l("Rejected"),
}
OVERALL_TAGS = {
    "action_needed": "govuk-tag--orange",
    "in_progress": "govuk-tag--blue",
    "completed": "govuk-tag--green",
    "rejected": "govuk-tag--red",
}


def is_final(department_status: str, issues_certificate: bool) -> bool:
    """Whether a department has finished with its case."""
    if department_status == "approved":
        return not issues_certificate
    return department_status in FINAL


def overall(statuses: list[str], finished: list[bool]) -> str:
    """One state for the whole application: what the citizen most needs to know."""
    if any(status in WAITING_FOR_CITIZEN for status in statuses):
        return "action_needed"
    if statuses and all(finished):
        return "rejected" if any(status == "rejected" for status in statuses) else "completed"
    return "in_progress"


def label(status: str, audience: Audience = "citizen") -> str:
    if audience == "staff" and status in STAFF_LABELS:
        return str(STAFF_LABELS[status])
    return str(STATUS_LABELS.get(status, status))
