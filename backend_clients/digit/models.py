"""DIGIT's resources as its services speak them (CONTRACTS.md §9; sources in SOURCES.md).

Field names are snake_case here and camelCase on the wire (DIGIT's spelling, including its
own oddities such as `assignes` and `additionDetails`). Answers ignore fields we do not read, so
a newer DIGIT does not break the portal. Amounts are rupees-style decimals, as DIGIT sends them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer
from pydantic.alias_generators import to_camel


def _number(value: Decimal) -> int | float:
    """DIGIT reads amounts as JSON numbers (BigDecimal), never strings."""
    return int(value) if value == value.to_integral_value() else float(value)


Amount = Annotated[Decimal, PlainSerializer(_number, return_type=int | float, when_used="json")]


class _Digit(BaseModel):
    """camelCase on the wire, snake_case in Python; unknown fields are ignored."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    def wire(self) -> dict[str, Any]:
        """The JSON object DIGIT expects: camelCase, without the fields left empty."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


# Envelope


class Role(_Digit):
    code: str
    name: str | None = None
    tenant_id: str | None = None


class UserInfo(_Digit):
    """Who is calling, as DIGIT's RequestInfo carries it (the server trusts authToken, not this)."""

    uuid: str | None = None
    id: int | None = None
    user_name: str | None = None
    name: str | None = None
    mobile_number: str | None = None
    email_id: str | None = None
    type: str | None = None  # CITIZEN, EMPLOYEE, SYSTEM
    tenant_id: str | None = None
    roles: list[Role] = Field(default_factory=list)


class RequestInfo(_Digit):
    api_id: str
    ver: str
    ts: int  # epoch milliseconds
    action: str
    msg_id: str
    did: str | None = None
    key: str | None = None
    auth_token: str | None = None
    user_info: UserInfo | None = None
    correlation_id: str | None = None


class ResponseInfo(_Digit):
    api_id: str | None = None
    ver: str | None = None
    ts: int | None = None
    res_msg_id: str | None = None
    msg_id: str | None = None
    status: str | None = None


class ErrorDetail(_Digit):
    code: str
    message: str = ""
    description: str | None = None
    params: list[str] | None = None


class ErrorResponse(_Digit):
    """DIGIT's error shape: ResponseInfo and one or more Errors."""

    response_info: ResponseInfo | None = Field(default=None, alias="ResponseInfo")
    errors: list[ErrorDetail] = Field(min_length=1, alias="Errors")


class AuditDetails(_Digit):
    created_by: str | None = None
    last_modified_by: str | None = None
    created_time: int | None = None
    last_modified_time: int | None = None


class Document(_Digit):
    """A file already in filestore, attached to a complaint or a workflow action."""

    document_type: str
    file_store_id: str
    id: str | None = None
    document_uid: str | None = None
    additional_details: dict[str, Any] | None = None


# PGR v2


class GeoLocation(_Digit):
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)


class Locality(_Digit):
    """A boundary from egov-location (TenantBoundary): complaints name their locality's code."""

    code: str = Field(min_length=1)
    name: str | None = None
    label: str | None = None
    latitude: str | None = None
    longitude: str | None = None
    children: list[Locality] | None = None


class Address(_Digit):
    locality: Locality
    city: str | None = None
    tenant_id: str | None = None
    door_no: str | None = None
    building_name: str | None = None
    street: str | None = None
    landmark: str | None = None
    pincode: str | None = None
    geo_location: GeoLocation | None = None


class Citizen(_Digit):
    name: str = Field(min_length=1)
    mobile_number: str = Field(min_length=1)
    email_id: str | None = None
    uuid: str | None = None
    type: str = "CITIZEN"
    tenant_id: str | None = None


class Service(_Digit):
    """A complaint (PGR's `service`). Read-only fields are filled by DIGIT in answers."""

    tenant_id: str
    service_code: str = Field(min_length=2, max_length=64)
    description: str | None = Field(default=None, max_length=256)
    source: str = "web"
    address: Address
    citizen: Citizen | None = None
    additional_detail: dict[str, Any] | None = None
    account_id: str | None = None
    # Filled by DIGIT:
    id: str | None = None
    service_request_id: str | None = None
    application_status: str | None = None
    rating: int | None = None
    active: bool | None = None
    audit_details: AuditDetails | None = None


class Workflow(_Digit):
    """PGR's own workflow block: the action to take on the complaint (APPLY to file it)."""

    action: str
    assignes: list[str] | None = None
    comments: str | None = None
    verification_documents: list[Document] | None = None


class ServiceWrapper(_Digit):
    service: Service
    workflow: Workflow | None = None


class ServiceResponse(_Digit):
    response_info: ResponseInfo | None = None  # PGR spells it responseInfo
    service_wrappers: list[ServiceWrapper] = Field(alias="ServiceWrappers")


class ComplaintRequest(BaseModel):
    """What the portal files: our reference goes into additionalDetail so a repeat can be found."""

    client_reference: str = Field(min_length=1, max_length=128)
    service_code: str = Field(min_length=2, max_length=64)
    description: str = Field(min_length=2, max_length=256)
    locality_code: str = Field(min_length=1)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    landmark: str | None = None
    citizen: Citizen
    photos: list[str] = Field(default_factory=list, description="filestore ids")
    source: str = "web"


# Workflow v2


class WorkflowState(_Digit):
    state: str | None = None
    application_status: str | None = None
    uuid: str | None = None
    is_start_state: bool | None = None
    is_terminate_state: bool | None = None


class WorkflowAction(_Digit):
    action: str
    next_state: str | None = None
    roles: list[str] = Field(default_factory=list)


class Assignee(_Digit):
    uuid: str | None = None
    name: str | None = None


class ProcessInstance(_Digit):
    """One step of one application's workflow: the action taken and the state it led to."""

    tenant_id: str
    business_service: str
    business_id: str
    action: str
    module_name: str
    comment: str | None = None
    documents: list[Document] | None = None
    assignes: list[Assignee] | None = None
    # Filled by DIGIT:
    id: str | None = None
    state: WorkflowState | None = None
    previous_status: str | None = None
    next_actions: list[WorkflowAction] | None = None
    audit_details: AuditDetails | None = None


class ProcessInstanceResponse(_Digit):
    response_info: ResponseInfo | None = Field(default=None, alias="ResponseInfo")
    process_instances: list[ProcessInstance] = Field(alias="ProcessInstances")
    total_count: int | None = None


# Billing and collection


class BillAccountDetail(_Digit):
    tax_head_code: str
    amount: Amount
    adjusted_amount: Amount | None = None
    order: int | None = None
    id: str | None = None


class BillDetail(_Digit):
    id: str | None = None
    demand_id: str | None = None
    bill_id: str | None = None
    amount: Amount
    amount_paid: Amount | None = None
    from_period: int | None = None
    to_period: int | None = None
    bill_account_details: list[BillAccountDetail] = Field(default_factory=list)


class Bill(_Digit):
    id: str
    tenant_id: str
    consumer_code: str
    business_service: str
    total_amount: Amount
    status: str  # ACTIVE, PAID, PARTIALLY_PAID, CANCELLED, EXPIRED
    bill_number: str | None = None
    bill_date: int | None = None
    payer_name: str | None = None
    mobile_number: str | None = None
    bill_details: list[BillDetail] = Field(default_factory=list)
    audit_details: AuditDetails | None = None


class BillResponse(_Digit):
    response_info: ResponseInfo | None = Field(default=None, alias="ResponseInfo")
    bill: list[Bill] = Field(alias="Bill")


class PaymentDetail(_Digit):
    bill_id: str
    total_due: Amount | None = None
    total_amount_paid: Amount
    business_service: str | None = None
    id: str | None = None
    receipt_number: str | None = None
    receipt_date: int | None = None
    bill: Bill | None = None


class Payment(_Digit):
    tenant_id: str
    total_due: Amount | None = None
    total_amount_paid: Amount
    transaction_number: str = Field(min_length=1, max_length=128)
    transaction_date: int | None = None
    payment_mode: Literal["CASH", "CHEQUE", "DD", "ONLINE", "CARD"] = "ONLINE"
    paid_by: str = Field(min_length=1, max_length=128)
    mobile_number: str = Field(min_length=1, max_length=64)
    payer_name: str | None = None
    payment_details: list[PaymentDetail] = Field(min_length=1)
    # Filled by DIGIT:
    id: str | None = None
    payment_status: str | None = None  # NEW, DEPOSITED, CANCELLED, DISHONOURED, RECONCILED
    audit_details: AuditDetails | None = None


class PaymentResponse(_Digit):
    response_info: ResponseInfo | None = Field(default=None, alias="ResponseInfo")
    payments: list[Payment] = Field(alias="Payments")


# MDMS, localization, filestore


class MasterDetail(_Digit):
    name: str = Field(min_length=1, max_length=100)
    filter: str | None = Field(default=None, min_length=1, max_length=500)


class ModuleDetail(_Digit):
    module_name: str = Field(min_length=1, max_length=100)
    master_details: list[MasterDetail]


class MdmsResponse(_Digit):
    response_info: ResponseInfo | None = Field(default=None, alias="ResponseInfo")
    mdms_res: dict[str, dict[str, list[dict[str, Any]]]] = Field(alias="MdmsRes")


class ServiceDef(_Digit):
    """A complaint type (RAINMAKER-PGR.ServiceDefs)."""

    service_code: str
    name: str | None = None
    keywords: str = ""
    department: str | None = None
    sla_hours: int | None = None
    menu_path: str | None = None
    active: bool = True
    order: int | None = None


class HierarchyType(_Digit):
    code: str
    name: str | None = None


class TenantBoundary(_Digit):
    """egov-location.TenantBoundary: a tenant's boundary tree for one hierarchy (ADMIN...)."""

    hierarchy_type: HierarchyType
    boundary: Locality


class Message(_Digit):
    code: str
    message: str
    module: str
    locale: str


class MessagesResponse(_Digit):
    messages: list[Message]


class StoredFile(_Digit):
    file_store_id: str
    tenant_id: str | None = None


class FilesResponse(_Digit):
    files: list[StoredFile] = Field(min_length=1)
