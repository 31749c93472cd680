"""DIGIT (eGov) behind one client: complaints (PGR v2), workflow v2, bills and payments, master
data (MDMS v1), localization and filestore (CONTRACTS.md §9).

`base_url` is DIGIT's gateway (every service under its own context path, e.g.
`{digit_url}/pgr-services/...`). Every call carries DIGIT's RequestInfo envelope and the tenant.

DIGIT has no idempotency keys. Two habits make repeats harmless here:
- a complaint carries our reference in `service.additionalDetail.clientReference`; before filing,
  the client looks for a complaint of the same citizen with that reference, so filing again after
  a lost answer finds the first complaint instead of opening a second one. The idempotency key
  is also sent as `X-Idempotency-Key`, which the sandbox honours and DIGIT ignores.
- a payment carries the gateway's payment id as `transactionNumber`; the client looks for a
  payment with that number before and (on a refusal) after reporting, so it is reported once.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import httpx
from pydantic import TypeAdapter, ValidationError

from backend_clients.digit.models import (
    Address,
    Bill,
    BillResponse,
    ComplaintRequest,
    Document,
    ErrorDetail,
    ErrorResponse,
    FilesResponse,
    GeoLocation,
    Locality,
    MasterDetail,
    MdmsResponse,
    Message,
    MessagesResponse,
    ModuleDetail,
    Payment,
    PaymentDetail,
    PaymentResponse,
    ProcessInstance,
    ProcessInstanceResponse,
    RequestInfo,
    Service,
    ServiceDef,
    ServiceResponse,
    ServiceWrapper,
    TenantBoundary,
    UserInfo,
    Workflow,
)
from backend_clients.http import (
    BackendClient,
    BackendError,
    BackendRejected,
    ClientConfig,
)

IDEMPOTENCY_HEADER = "X-Idempotency-Key"
REFERENCE_FIELD = "clientReference"  # in service.additionalDetail
_SERVICE_DEFS = TypeAdapter(list[ServiceDef])
_BOUNDARIES = TypeAdapter(list[TenantBoundary])


class DigitRejected(BackendRejected):
    """DIGIT refused the request and said why: `errors` holds its codes and messages (the first
    is also `code` and `digit_message`), for operators to read in full."""

    def __init__(
        self,
        message: str,
        *,
        errors: list[ErrorDetail],
        status_code: int,
        request: httpx.Request | None = None,
        response: httpx.Response | None = None,
    ) -> None:
        super().__init__(message, status_code=status_code, request=request, response=response)
        self.errors = errors

    @property
    def code(self) -> str:
        return self.errors[0].code

    @property
    def digit_message(self) -> str:
        return self.errors[0].message


def _digit_errors(response: httpx.Response) -> list[ErrorDetail] | None:
    """The Errors of DIGIT's error shape, or None when the body is something else."""
    try:
        return ErrorResponse.model_validate_json(response.content).errors
    except ValidationError:
        return None


def _describe(errors: list[ErrorDetail]) -> str:
    parts = []
    for error in errors:
        text = f"{error.code}: {error.message}"
        if error.description and error.description != error.message:
            text += f" ({error.description})"
        parts.append(text)
    return "; ".join(parts)


class DigitClient(BackendClient):
    name = "digit"

    def __init__(
        self,
        config: ClientConfig,
        *,
        tenant_id: str,
        auth_token: str | None = None,
        user_info: UserInfo | None = None,
        api_id: str = "frontdoor",
        version: str = "1.0",
    ) -> None:
        """`tenant_id` is the city (e.g. "pb.riverside"); `auth_token` is DIGIT's access token
        for the portal's system user, sent in RequestInfo as DIGIT expects."""
        super().__init__(config)
        self.tenant_id = tenant_id
        self._auth_token = auth_token
        self._user_info = user_info
        self._api_id = api_id
        self._version = version

    # Envelope and errors

    def request_info(self, action: str) -> RequestInfo:
        return RequestInfo(
            api_id=self._api_id,
            ver=self._version,
            ts=int(time.time() * 1000),
            action=action,
            msg_id=uuid.uuid4().hex,
            auth_token=self._auth_token,
            user_info=self._user_info,
        )

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """As BackendClient.request, with DIGIT's Errors kept in the exception and its message."""
        try:
            return await super().request(method, path, **kwargs)
        except BackendRejected as error:
            response = error.response
            errors = _digit_errors(response) if response is not None else None
            if errors is None or response is None:
                raise
            raise DigitRejected(
                f"{self.name}: refused with {error.status_code}: {_describe(errors)}",
                errors=errors,
                status_code=error.status_code,
                request=error.request,
                response=response,
            ) from error

    async def _post(
        self,
        path: str,
        action: str,
        body: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        envelope = {"RequestInfo": self.request_info(action).wire(), **(body or {})}
        return await self.request(
            "POST", path, json=envelope, params=params or {}, headers=headers or {}
        )

    # Filestore

    async def upload_file(
        self, content: bytes, filename: str, content_type: str, module: str = "PGR"
    ) -> str:
        """Store a file (say a complaint's photo) and return its fileStoreId."""
        response = await self.request(
            "POST",
            "/filestore/v1/files",
            data={"tenantId": self.tenant_id, "module": module},
            files={"file": (filename, content, content_type)},
        )
        return self.read(response, FilesResponse).files[0].file_store_id

    # PGR v2: complaints

    def service_wrapper(self, complaint: ComplaintRequest) -> ServiceWrapper:
        """The PGR body for a complaint: filed with APPLY, its photos as verificationDocuments."""
        geo = None
        if complaint.latitude is not None and complaint.longitude is not None:
            geo = GeoLocation(latitude=complaint.latitude, longitude=complaint.longitude)
        address = Address(
            tenant_id=self.tenant_id,
            city=self.tenant_id,
            locality=Locality(code=complaint.locality_code),
            landmark=complaint.landmark,
            geo_location=geo,
        )
        service = Service(
            tenant_id=self.tenant_id,
            service_code=complaint.service_code,
            description=complaint.description,
            source=complaint.source,
            address=address,
            citizen=complaint.citizen,
            additional_detail={REFERENCE_FIELD: complaint.client_reference},
        )
        photos = [
            Document(document_type="PHOTO", file_store_id=file_id) for file_id in complaint.photos
        ]
        return ServiceWrapper(
            service=service,
            workflow=Workflow(action="APPLY", verification_documents=photos or None),
        )

    async def create_complaint(
        self, complaint: ComplaintRequest, idempotency_key: str
    ) -> ServiceWrapper:
        """File a complaint once: a complaint of the same citizen with the same client reference
        is answered instead of filing a second one."""
        existing = await self.find_complaint(
            complaint.client_reference, complaint.citizen.mobile_number
        )
        if existing is not None:
            return existing
        body = self.service_wrapper(complaint).wire()
        response = await self._post(
            "/pgr-services/v2/request/_create",
            "_create",
            body,
            params={"tenantId": self.tenant_id},
            headers={IDEMPOTENCY_HEADER: idempotency_key},
        )
        found = self.read(response, ServiceResponse).service_wrappers
        if not found:
            raise BackendError(f"{self.name}: no complaint in the answer to _create")
        return found[0]

    async def search_complaints(
        self,
        *,
        service_request_id: str | None = None,
        mobile_number: str | None = None,
        application_status: Sequence[str] = (),
    ) -> list[ServiceWrapper]:
        params = {"tenantId": self.tenant_id}
        if service_request_id:
            params["serviceRequestId"] = service_request_id
        if mobile_number:
            params["mobileNo"] = mobile_number
        if application_status:
            params["applicationStatus"] = ",".join(application_status)
        response = await self._post("/pgr-services/v2/request/_search", "_search", params=params)
        return self.read(response, ServiceResponse).service_wrappers

    async def get_complaint(self, service_request_id: str) -> ServiceWrapper | None:
        """One complaint by its serviceRequestId (say "PB-PGR-2024-05-01-000001"), or None."""
        found = await self.search_complaints(service_request_id=service_request_id)
        return next(
            (item for item in found if item.service.service_request_id == service_request_id),
            None,
        )

    async def find_complaint(
        self, client_reference: str, mobile_number: str
    ) -> ServiceWrapper | None:
        """The complaint we filed with this reference for this citizen, if DIGIT has it."""
        for item in await self.search_complaints(mobile_number=mobile_number):
            detail = item.service.additional_detail or {}
            if detail.get(REFERENCE_FIELD) == client_reference:
                return item
        return None

    # Workflow v2

    async def transition(self, instance: ProcessInstance) -> ProcessInstance:
        """Take one action on an application (APPLY, FORWARD, SENDBACKTOCITIZEN, RESUBMIT,
        APPROVE, REJECT...); answers the new step with its state and next actions."""
        body = {"ProcessInstances": [instance.wire()]}
        response = await self._post(
            "/egov-workflow-v2/egov-wf/process/_transition", "_transition", body
        )
        found = self.read(response, ProcessInstanceResponse).process_instances
        if not found:
            raise BackendError(f"{self.name}: no process instance in the answer to _transition")
        return found[0]

    async def process_history(
        self, business_ids: Sequence[str], *, history: bool = True
    ) -> list[ProcessInstance]:
        """The steps of one or more applications (newest first, as DIGIT answers); with
        history=False only each one's latest step."""
        params = {
            "tenantId": self.tenant_id,
            "businessIds": ",".join(business_ids),
            "history": "true" if history else "false",
        }
        response = await self._post(
            "/egov-workflow-v2/egov-wf/process/_search", "_search", params=params
        )
        return self.read(response, ProcessInstanceResponse).process_instances

    # Billing and collection

    async def fetch_bill(self, consumer_code: str, business_service: str) -> list[Bill]:
        """The bills to pay for an application (consumerCode = its number); [] when none."""
        params = {
            "tenantId": self.tenant_id,
            "consumerCode": consumer_code,
            "businessService": business_service,
        }
        response = await self._post(
            "/billing-service/bill/v2/_fetchbill", "_fetchbill", params=params
        )
        return self.read(response, BillResponse).bill

    async def search_payments(
        self,
        *,
        consumer_codes: Sequence[str] = (),
        transaction_number: str | None = None,
    ) -> list[Payment]:
        params = {"tenantId": self.tenant_id}
        if consumer_codes:
            params["consumerCodes"] = ",".join(consumer_codes)
        if transaction_number:
            params["transactionNumber"] = transaction_number
        response = await self._post(
            "/collection-services/payments/_search", "_search", params=params
        )
        return self.read(response, PaymentResponse).payments

    def payment_for(
        self,
        bill: Bill,
        *,
        transaction_number: str,
        paid_by: str,
        mobile_number: str,
        amount: Decimal | None = None,
    ) -> Payment:
        """The Payment that reports one online payment of a whole bill (or `amount` of it)."""
        paid = bill.total_amount if amount is None else amount
        return Payment(
            tenant_id=bill.tenant_id,
            total_due=bill.total_amount,
            total_amount_paid=paid,
            transaction_number=transaction_number,
            transaction_date=int(time.time() * 1000),
            payment_mode="ONLINE",
            paid_by=paid_by,
            payer_name=paid_by,
            mobile_number=mobile_number,
            payment_details=[
                PaymentDetail(
                    bill_id=bill.id,
                    total_due=bill.total_amount,
                    total_amount_paid=paid,
                    business_service=bill.business_service,
                )
            ],
        )

    async def report_payment(self, payment: Payment) -> Payment:
        """Record a gateway payment in DIGIT exactly once, whatever happened to an earlier try:
        a payment with the same transactionNumber is answered instead of a second one, before
        reporting and when DIGIT refuses (say the bill is already paid by our first try)."""
        number = payment.transaction_number
        earlier = await self.search_payments(transaction_number=number)
        if earlier:
            return earlier[0]
        try:
            response = await self._post(
                "/collection-services/payments/_create", "_create", {"Payment": payment.wire()}
            )
        except DigitRejected:
            earlier = await self.search_payments(transaction_number=number)
            if earlier:
                return earlier[0]
            raise
        found = self.read(response, PaymentResponse).payments
        if not found:
            raise BackendError(f"{self.name}: no payment in the answer to _create")
        return found[0]

    # MDMS v1

    async def mdms(
        self, module_name: str, masters: Sequence[MasterDetail], tenant_id: str | None = None
    ) -> dict[str, list[dict[str, Any]]]:
        """Masters of one module, by master name (a master DIGIT does not have is left out)."""
        criteria = {
            "tenantId": tenant_id or self.tenant_id,
            "moduleDetails": [
                ModuleDetail(module_name=module_name, master_details=list(masters)).wire()
            ],
        }
        response = await self._post(
            "/egov-mdms-service/v1/_search", "_search", {"MdmsCriteria": criteria}
        )
        return self.read(response, MdmsResponse).mdms_res.get(module_name, {})

    async def complaint_types(self, *, active_only: bool = True) -> list[ServiceDef]:
        masters = await self.mdms("RAINMAKER-PGR", [MasterDetail(name="ServiceDefs")])
        types = self._masters(masters.get("ServiceDefs", []), _SERVICE_DEFS)
        return [item for item in types if item.active or not active_only]

    async def localities(self, hierarchy: str = "ADMIN") -> list[Locality]:
        """The tenant's localities (leaves labelled Locality of its boundary tree)."""
        masters = await self.mdms("egov-location", [MasterDetail(name="TenantBoundary")])
        trees = self._masters(masters.get("TenantBoundary", []), _BOUNDARIES)
        found: list[Locality] = []
        for tree in trees:
            if tree.hierarchy_type.code == hierarchy:
                found.extend(_leaves(tree.boundary))
        return found

    def _masters(self, rows: list[dict[str, Any]], shape: TypeAdapter[Any]) -> Any:
        try:
            return shape.validate_python(rows)
        except ValidationError as error:
            raise BackendError(
                f"{self.name}: unexpected master data ({error.error_count()} problems)"
            ) from error

    # Localization

    async def messages(self, locale: str, module: str) -> list[Message]:
        """DIGIT's texts for one module in one locale (en_IN, es, ar...)."""
        params = {"tenantId": self.tenant_id, "locale": locale, "module": module}
        response = await self._post("/localization/messages/v1/_search", "_search", params=params)
        return self.read(response, MessagesResponse).messages


def _leaves(boundary: Locality) -> list[Locality]:
    """Localities under a boundary: those labelled Locality, else the leaves."""
    if boundary.label == "Locality" or not boundary.children:
        return [boundary]
    found: list[Locality] = []
    for child in boundary.children or []:
        found.extend(_leaves(child))
    return found
