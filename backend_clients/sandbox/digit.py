"""A DIGIT (eGov) stand-in under /digit (CONTRACTS.md §9), written from DIGIT's published
contracts (backend_clients/digit/SOURCES.md), never from the client's models.

One city, tenant `pb.riverside` (state `pb`). In memory: PGR v2 complaints, workflow v2 process
instances (businessService `PGR` for complaints, `NewTL` for trade licences), a bill per
licence once approved, collection payments, MDMS masters, localization messages and files.

Every call must carry RequestInfo and a tenant, else DIGIT's error shape with 400. Complaints
and licences move on the app's clock (PGR: assigned, resolved, closed; NewTL: forwarded to
field inspection, to approval, approved with a bill) and stop where someone else must act (the
applicant after SENDBACKTOCITIZEN, the payer once a bill is due). Testers move one with
`POST /_sandbox/digit/processes/{businessId}/advance` and can make the next answers malformed
with `PUT /_sandbox/digit/malformed`.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from litestar import Controller, Request, Response, get, post, put
from litestar.datastructures import UploadFile
from litestar.params import FromPath, FromQuery

STATE_TENANT = "pb"
CITY = "pb.riverside"
TENANTS = frozenset({STATE_TENANT, CITY})
LOCALES = ("en_IN", "es", "ar")
MAX_FILE = 5 * 1024 * 1024
TL_FEE = 1500  # rupees-style whole units, as DIGIT's demands carry them
TL_TAX_HEAD = "TL_TAX"

SERVICE_DEFS = (
    {
        "serviceCode": "StreetLightNotWorking",
        "name": "Street light not working",
        "keywords": "streetlight, light, repair, work, pole, electric, power, fix",
        "department": "DEPT_1",
        "slaHours": 336,
        "menuPath": "StreetLights",
        "active": True,
        "order": 1,
    },
    {
        "serviceCode": "GarbageNeedsTobeCleared",
        "name": "Garbage needs to be cleared",
        "keywords": "garbage, collect, litter, clean, dump, waste",
        "department": "DEPT_3",
        "slaHours": 72,
        "menuPath": "Garbage",
        "active": True,
        "order": 2,
    },
    {
        "serviceCode": "BlockOrOverflowingSewage",
        "name": "Blocked or overflowing sewage",
        "keywords": "sewage, drain, block, overflow, smell",
        "department": "DEPT_2",
        "slaHours": 48,
        "menuPath": "Drains",
        "active": True,
        "order": 3,
    },
    {
        "serviceCode": "DamagedRoad",
        "name": "Damaged road",
        "keywords": "road, pothole, damage, repair",
        "department": "DEPT_4",
        "slaHours": 168,
        "menuPath": "RoadsAndFootpaths",
        "active": True,
        "order": 4,
    },
    {
        "serviceCode": "NoStreetlight",
        "name": "No street light",
        "keywords": "streetlight, new",
        "department": "DEPT_1",
        "slaHours": 336,
        "menuPath": "StreetLights",
        "active": False,
        "order": 5,
    },
)
SERVICE_CODES = frozenset(item["serviceCode"] for item in SERVICE_DEFS if item["active"])

# (code, English, Spanish, Arabic, latitude, longitude)
LOCALITIES = (
    ("RV001", "Harbour", "Puerto", "الميناء", "40.4168", "-3.7038"),
    ("RV002", "Old Town", "Casco Antiguo", "البلدة القديمة", "40.4153", "-3.7074"),
    ("RV003", "Riverside North", "Ribera Norte", "ضفة النهر الشمالية", "40.4230", "-3.7010"),
)
LOCALITY_CODES = frozenset(item[0] for item in LOCALITIES)

# Complaint types' and states' names in each locale (DIGIT's localization keys).
TYPE_NAMES = {
    "StreetLightNotWorking": (
        "Street light not working",
        "Farola que no funciona",
        "إنارة الشارع لا تعمل",
    ),
    "GarbageNeedsTobeCleared": (
        "Garbage needs to be cleared",
        "Basura por recoger",
        "نفايات تحتاج إلى إزالة",
    ),
    "BlockOrOverflowingSewage": (
        "Blocked or overflowing sewage",
        "Alcantarilla atascada o desbordada",
        "صرف صحي مسدود أو فائض",
    ),
    "DamagedRoad": ("Damaged road", "Calzada dañada", "طريق متضرر"),
}
STATE_NAMES = {
    "PENDINGFORASSIGNMENT": ("Pending for assignment", "Pendiente de asignar", "بانتظار التعيين"),
    "PENDINGATLME": ("Being worked on", "En curso", "قيد المعالجة"),
    "PENDINGFORREASSIGNMENT": (
        "Pending for reassignment",
        "Pendiente de reasignar",
        "بانتظار إعادة التعيين",
    ),
    "RESOLVED": ("Resolved", "Resuelta", "تم الحل"),
    "REJECTED": ("Rejected", "Rechazada", "مرفوضة"),
    "CLOSEDAFTERRESOLUTION": (
        "Closed after resolution",
        "Cerrada tras resolverse",
        "مغلقة بعد الحل",
    ),
    "CLOSEDAFTERREJECTION": ("Closed after rejection", "Cerrada tras rechazo", "مغلقة بعد الرفض"),
}


@dataclass(frozen=True)
class BusinessService:
    """A workflow configuration: each state's actions and where they lead; `clock` is the action
    the clock takes in a state (none where the state waits for someone)."""

    name: str
    module: str
    actions: dict[str | None, dict[str, str]]
    clock: dict[str, str]
    final: frozenset[str]

    def next_actions(self, state: str) -> list[dict[str, Any]]:
        return [
            {"action": action, "nextState": target, "roles": []}
            for action, target in self.actions.get(state, {}).items()
        ]


PGR = BusinessService(
    "PGR",
    "RAINMAKER-PGR",
    {
        None: {"APPLY": "PENDINGFORASSIGNMENT"},
        "PENDINGFORASSIGNMENT": {"ASSIGN": "PENDINGATLME", "REJECT": "REJECTED"},
        "PENDINGATLME": {"RESOLVE": "RESOLVED", "REASSIGN": "PENDINGFORREASSIGNMENT"},
        "PENDINGFORREASSIGNMENT": {"ASSIGN": "PENDINGATLME", "REJECT": "REJECTED"},
        "RESOLVED": {"RATE": "CLOSEDAFTERRESOLUTION", "REOPEN": "PENDINGFORASSIGNMENT"},
        "REJECTED": {"RATE": "CLOSEDAFTERREJECTION"},
    },
    {
        "PENDINGFORASSIGNMENT": "ASSIGN",
        "PENDINGATLME": "RESOLVE",
        "PENDINGFORREASSIGNMENT": "ASSIGN",
        "RESOLVED": "RATE",
    },
    frozenset({"CLOSEDAFTERRESOLUTION", "CLOSEDAFTERREJECTION"}),
)
_TL_REVIEW = {"SENDBACKTOCITIZEN": "CITIZENACTIONREQUIRED", "REJECT": "REJECTED"}
NEW_TL = BusinessService(
    "NewTL",
    "TL",
    {
        None: {"APPLY": "APPLIED"},
        "APPLIED": {"FORWARD": "FIELDINSPECTION", **_TL_REVIEW},
        "FIELDINSPECTION": {"FORWARD": "PENDINGAPPROVAL", "SENDBACK": "APPLIED", **_TL_REVIEW},
        "PENDINGAPPROVAL": {
            "APPROVE": "PENDINGPAYMENT",
            "SENDBACK": "FIELDINSPECTION",
            **_TL_REVIEW,
        },
        "CITIZENACTIONREQUIRED": {"RESUBMIT": "APPLIED"},
        "PENDINGPAYMENT": {"PAY": "APPROVED"},
    },
    {"APPLIED": "FORWARD", "FIELDINSPECTION": "FORWARD", "PENDINGAPPROVAL": "APPROVE"},
    frozenset({"APPROVED", "REJECTED"}),
)
BUSINESS_SERVICES = {PGR.name: PGR, NEW_TL.name: NEW_TL}
TL_BUSINESS_SERVICE = "TL"  # the billing businessService of NewTL's demands


def now_ms() -> int:
    return int(time.time() * 1000)


class DigitError(Exception):
    """Refuse a call with DIGIT's error shape."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def response_info(request_info: dict[str, Any] | None, ok: bool = True) -> dict[str, Any]:
    info = request_info or {}
    return {
        "apiId": info.get("apiId"),
        "ver": info.get("ver"),
        "ts": now_ms(),
        "resMsgId": uuid.uuid4().hex,
        "msgId": info.get("msgId"),
        "status": "successful" if ok else "failed",
    }


def error_body(error: DigitError, request_info: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "ResponseInfo": response_info(request_info, ok=False),
        "Errors": [
            {
                "code": error.code,
                "message": error.message,
                "description": error.message,
                "params": None,
            }
        ],
    }


def audit(created: int, by: str) -> dict[str, Any]:
    return {
        "createdBy": by,
        "lastModifiedBy": by,
        "createdTime": created,
        "lastModifiedTime": created,
    }


@dataclass
class Process:
    """One application's workflow: its steps, oldest first."""

    business: BusinessService
    business_id: str
    tenant_id: str
    steps: list[dict[str, Any]] = field(default_factory=list)
    changed: float = field(default_factory=time.monotonic)

    @property
    def state(self) -> str | None:
        return self.steps[-1]["state"]["state"] if self.steps else None

    @property
    def waiting(self) -> bool:
        return self.state not in self.business.clock


@dataclass
class Complaint:
    service: dict[str, Any]
    workflow: dict[str, Any]
    create_calls: int = 1
    keys: list[str] = field(default_factory=list)


@dataclass
class DigitState:
    step_seconds: float = 0.0
    complaints: dict[str, Complaint] = field(default_factory=dict)
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)  # idempotency key -> answer
    processes: dict[str, Process] = field(default_factory=dict)  # businessId -> process
    bills: dict[str, dict[str, Any]] = field(default_factory=dict)  # bill id -> bill
    payments: list[dict[str, Any]] = field(default_factory=list)
    files: dict[str, tuple[dict[str, Any], bytes]] = field(default_factory=dict)
    malformed: str | None = None  # "not-json" or "wrong-shape" for the next `malformed_left`
    malformed_left: int = 0

    # Workflow

    def move(
        self,
        business: BusinessService,
        business_id: str,
        tenant_id: str,
        action: str,
        *,
        target: str | None = None,
        comment: str | None = None,
        documents: list[dict[str, Any]] | None = None,
        by: str = "sandbox",
    ) -> dict[str, Any]:
        """Take `action` (to `target`, or where the configuration leads) and record the step;
        the complaint's status follows, and an approved licence gets its bill."""
        process = self.processes.get(business_id)
        if process is None:
            process = Process(business, business_id, tenant_id)
            self.processes[business_id] = process
        current = process.state
        if target is None:
            allowed = business.actions.get(current, {})
            if action not in allowed:
                raise DigitError(
                    "INVALID_ACTION",
                    f"Action {action} is not allowed in state {current} of {business.name} "
                    f"for the businessId {business_id}; allowed: {sorted(allowed)}",
                )
            target = allowed[action]
        created = now_ms()
        step = {
            "id": str(uuid.uuid4()),
            "tenantId": tenant_id,
            "businessService": business.name,
            "businessId": business_id,
            "action": action,
            "moduleName": business.module,
            "state": {
                "uuid": f"{business.name}-{target}",
                "state": target,
                "applicationStatus": target,
                "isStartState": current is None,
                "isTerminateState": target in business.final,
            },
            "comment": comment,
            "documents": documents,
            "assignes": None,
            "previousStatus": current,
            "nextActions": business.next_actions(target),
            "auditDetails": audit(created, by),
        }
        process.steps.append(step)
        process.changed = time.monotonic()
        complaint = self.complaints.get(business_id)
        if complaint is not None:
            complaint.service["applicationStatus"] = target
            complaint.service["auditDetails"]["lastModifiedTime"] = created
        if business is NEW_TL and target == "PENDINGPAYMENT":
            self.add_bill(business_id, tenant_id)
        return step

    def tick(self, now: float) -> None:
        for process in list(self.processes.values()):
            state = process.state
            if state is None or process.waiting or now - process.changed < self.step_seconds:
                continue
            self.move(
                process.business,
                process.business_id,
                process.tenant_id,
                process.business.clock[state],
            )

    # Billing

    def add_bill(self, consumer_code: str, tenant_id: str) -> dict[str, Any]:
        bill_id = str(uuid.uuid4())
        created = now_ms()
        bill = {
            "id": bill_id,
            "tenantId": tenant_id,
            "consumerCode": consumer_code,
            "businessService": TL_BUSINESS_SERVICE,
            "billNumber": f"BILLNO-TL-{len(self.bills) + 1:06d}",
            "billDate": created,
            "status": "ACTIVE",
            "totalAmount": TL_FEE,
            "payerName": None,
            "mobileNumber": None,
            "billDetails": [
                {
                    "id": str(uuid.uuid4()),
                    "tenantId": tenant_id,
                    "demandId": str(uuid.uuid4()),
                    "billId": bill_id,
                    "amount": TL_FEE,
                    "amountPaid": 0,
                    "fromPeriod": created,
                    "toPeriod": created + 365 * 24 * 3600 * 1000,
                    "billAccountDetails": [
                        {
                            "id": str(uuid.uuid4()),
                            "taxHeadCode": TL_TAX_HEAD,
                            "amount": TL_FEE,
                            "adjustedAmount": 0,
                            "order": 0,
                        }
                    ],
                }
            ],
            "auditDetails": audit(created, "sandbox"),
        }
        self.bills[bill_id] = bill
        return bill

    def bills_of(self, consumer_code: str, business_service: str | None) -> list[dict[str, Any]]:
        return [
            bill
            for bill in self.bills.values()
            if bill["consumerCode"] == consumer_code
            and (not business_service or bill["businessService"] == business_service)
        ]

    def next_malformed(self) -> str | None:
        if self.malformed is None or self.malformed_left <= 0:
            return None
        self.malformed_left -= 1
        mode = self.malformed
        if self.malformed_left == 0:
            self.malformed = None
        return mode


# Reading requests


async def _json_body(request: Request[Any, Any, Any]) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"null")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise DigitError("INVALID_REQUEST", "The body must be a JSON object")
    return body


def _request_info(body: dict[str, Any]) -> dict[str, Any]:
    info = body.get("RequestInfo")
    if not isinstance(info, dict):
        raise DigitError("INVALID_REQUEST_INFO", "RequestInfo is required")
    return info


def _tenant(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise DigitError("INVALID_TENANT_ID", "tenantId is required")
    if value not in TENANTS:
        raise DigitError("INVALID_TENANT_ID", f"Unknown tenantId {value}")
    return value


def _text(value: Any, name: str, *, required: bool = True) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise DigitError("INVALID_REQUEST", f"{name} is required")
    return value


def _split(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def _answer(state: DigitState, body: dict[str, Any], status: int = 200) -> Response[Any]:
    """The answer, unless a tester asked for the next ones to be malformed."""
    mode = state.next_malformed()
    if mode == "not-json":
        return Response(
            b"<html><body>502 Bad Gateway</body></html>",
            status_code=200,
            media_type="application/json",
        )
    if mode == "wrong-shape":
        return Response(
            {"ResponseInfo": body.get("ResponseInfo"), "unexpected": True}, status_code=status
        )
    return Response(body, status_code=status)


def _refuse(error: DigitError, request_info: dict[str, Any] | None = None) -> Response[Any]:
    return Response(error_body(error, request_info), status_code=error.status)


# PGR


def _new_complaint(state: DigitState, body: dict[str, Any], tenant: str | None) -> Complaint:
    service = body.get("service")
    if not isinstance(service, dict):
        raise DigitError("INVALID_REQUEST", "service is required")
    tenant_id = _tenant(service.get("tenantId") or tenant)
    if tenant_id != CITY:
        raise DigitError("INVALID_TENANT_ID", "Complaints are filed with a city tenantId")
    code = service.get("serviceCode")
    if code not in SERVICE_CODES:
        raise DigitError("INVALID_SERVICECODE", f"The serviceCode {code} does not exist")
    description = service.get("description")
    if description is not None and (not isinstance(description, str) or len(description) > 256):
        raise DigitError("INVALID_DESCRIPTION", "description must be text of up to 256 characters")
    _text(service.get("source"), "service.source")
    address = service.get("address")
    locality = address.get("locality") if isinstance(address, dict) else None
    if not isinstance(locality, dict) or locality.get("code") not in LOCALITY_CODES:
        raise DigitError(
            "INVALID_LOCALITY",
            f"address.locality.code must be one of {sorted(LOCALITY_CODES)}",
        )
    geo = address.get("geoLocation") if isinstance(address, dict) else None
    if geo is not None and not (
        isinstance(geo, dict)
        and all(isinstance(geo.get(key), int | float) for key in ("latitude", "longitude"))
    ):
        raise DigitError("INVALID_GEOLOCATION", "geoLocation needs numeric latitude and longitude")
    citizen = service.get("citizen")
    if not isinstance(citizen, dict) or not citizen.get("mobileNumber") or not citizen.get("name"):
        raise DigitError("INVALID_CITIZEN", "citizen.name and citizen.mobileNumber are required")
    detail = service.get("additionalDetail")
    if detail is not None and (not isinstance(detail, dict) or len(json.dumps(detail)) > 600):
        raise DigitError(
            "INVALID_ADDITIONALDETAIL", "additionalDetail must be an object (600 characters)"
        )
    workflow = body.get("workflow")
    if not isinstance(workflow, dict) or workflow.get("action") != "APPLY":
        raise DigitError("INVALID_ACTION", "A complaint is filed with workflow.action APPLY")
    documents = workflow.get("verificationDocuments") or []
    if not isinstance(documents, list):
        raise DigitError("INVALID_DOCUMENTS", "verificationDocuments must be a list")
    for document in documents:
        file_id = document.get("fileStoreId") if isinstance(document, dict) else None
        if file_id not in state.files:
            raise DigitError("INVALID_FILESTOREID", f"No file {file_id} in filestore")
    created = now_ms()
    number = len(state.complaints) + 1
    request_id = f"PB-PGR-{datetime.now(UTC):%Y-%m-%d}-{number:06d}"
    user = str(uuid.uuid5(uuid.NAMESPACE_OID, f"citizen:{citizen['mobileNumber']}"))
    stored = {
        **service,
        "id": str(uuid.uuid4()),
        "tenantId": tenant_id,
        "serviceRequestId": request_id,
        "accountId": user,
        "applicationStatus": None,
        "active": True,
        "rating": None,
        "citizen": {**citizen, "uuid": user, "type": "CITIZEN", "tenantId": STATE_TENANT},
        "auditDetails": audit(created, user),
    }
    complaint = Complaint(stored, {"action": "APPLY", "verificationDocuments": documents or None})
    state.complaints[request_id] = complaint
    state.move(PGR, request_id, tenant_id, "APPLY", documents=documents or None, by=user)
    return complaint


def _wrapper(complaint: Complaint) -> dict[str, Any]:
    return {"service": dict(complaint.service), "workflow": dict(complaint.workflow)}


def _pgr_answer(request_info: dict[str, Any], complaints: list[Complaint]) -> dict[str, Any]:
    # PGR spells it responseInfo (camelCase), unlike the other services.
    return {
        "responseInfo": response_info(request_info),
        "ServiceWrappers": [_wrapper(item) for item in complaints],
    }


def _process_answer(request_info: dict[str, Any], steps: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "ResponseInfo": response_info(request_info),
        "ProcessInstances": steps,
        "totalCount": len(steps),
    }


def _valid_documents(value: Any) -> list[dict[str, Any]] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise DigitError("INVALID_DOCUMENTS", "documents must be a list of objects")
    for item in value:
        if not item.get("fileStoreId") or not item.get("documentType"):
            raise DigitError(
                "INVALID_DOCUMENTS", "each document needs documentType and fileStoreId"
            )
    return value


def _check_payment(state: DigitState, payment: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The payment and its bills, or the DigitError that refuses it."""
    if not isinstance(payment, dict):
        raise DigitError("INVALID_REQUEST", "Payment is required")
    _tenant(payment.get("tenantId"))
    for name in ("paidBy", "mobileNumber", "transactionNumber"):
        _text(payment.get(name), f"Payment.{name}")
    if payment.get("paymentMode") not in {"CASH", "CHEQUE", "DD", "ONLINE", "CARD"}:
        raise DigitError(
            "INVALID_PAYMENT_MODE", f"paymentMode {payment.get('paymentMode')} is not allowed"
        )
    details = payment.get("paymentDetails")
    if not isinstance(details, list) or not details:
        raise DigitError("INVALID_REQUEST", "Payment.paymentDetails is required")
    total = payment.get("totalAmountPaid")
    if not isinstance(total, int | float) or total <= 0:
        raise DigitError("INVALID_AMOUNT", "totalAmountPaid must be a positive number")
    bills = []
    paid_sum = 0.0
    for detail in details:
        bill = state.bills.get(detail.get("billId", "")) if isinstance(detail, dict) else None
        if bill is None:
            raise DigitError("INVALID_BILL_ID", f"No bill with id {detail}")
        if bill["status"] != "ACTIVE":
            raise DigitError(
                "BILL_ALREADY_PAID",
                f"Bill {bill['billNumber']} for {bill['consumerCode']} is {bill['status']}",
            )
        amount = detail.get("totalAmountPaid")
        if amount != bill["totalAmount"]:
            raise DigitError(
                "PARTIAL_PAYMENT_NOT_ALLOWED",
                f"{bill['businessService']} bills are paid in full: {bill['totalAmount']} due, "
                f"{amount} paid",
            )
        paid_sum += float(amount)
        bills.append(bill)
    if abs(paid_sum - float(total)) > 0.005:
        raise DigitError("INVALID_AMOUNT", "totalAmountPaid is not the sum of the paymentDetails")
    return payment, bills


class DigitController(Controller):
    """DIGIT's services, each under its own context path as behind DIGIT's gateway."""

    path = "/digit"
    include_in_schema = False

    # Filestore

    @post("/filestore/v1/files", status_code=201, request_max_body_size=2 * MAX_FILE)
    async def upload(self, request: Request[Any, Any, Any]) -> Response[Any]:
        state: DigitState = request.app.state.digit
        form = await request.form()
        try:
            tenant = _tenant(form.get("tenantId"))
            part = form.get("file")
            if not isinstance(part, UploadFile):
                raise DigitError("EG_FILESTORE_INVALID_INPUT", "Send one multipart part named file")
            content = await part.read()
            await part.close()
            if len(content) > MAX_FILE:
                raise DigitError("EG_FILESTORE_INVALID_INPUT", "Files are limited to 5 MB")
        except DigitError as error:
            return _refuse(error)
        file_id = str(uuid.uuid4())
        meta = {
            "fileStoreId": file_id,
            "tenantId": tenant,
            "fileName": part.filename,
            "contentType": part.content_type,
            "module": str(form.get("module") or ""),
            "fileSize": len(content),
        }
        state.files[file_id] = (meta, content)
        return _answer(state, {"files": [{"fileStoreId": file_id, "tenantId": tenant}]}, 201)

    @get("/filestore/v1/files/id")
    async def download(
        self, request: Request[Any, Any, Any], tenantId: FromQuery[str], fileStoreId: FromQuery[str]
    ) -> Response[Any]:
        found = request.app.state.digit.files.get(fileStoreId)
        if found is None or found[0]["tenantId"] != tenantId:
            return _refuse(DigitError("EG_FILESTORE_NOT_FOUND", f"No file {fileStoreId}", 404))
        meta, content = found
        return Response(content, media_type=meta["contentType"] or "application/octet-stream")

    # PGR v2

    @post("/pgr-services/v2/request/_create", status_code=200)
    async def create_complaint(
        self, request: Request[Any, Any, Any], tenantId: FromQuery[str | None] = None
    ) -> Response[Any]:
        """Files one complaint; the same X-Idempotency-Key answers the first complaint again."""
        state: DigitState = request.app.state.digit
        info = None
        try:
            body = await _json_body(request)
            info = _request_info(body)
            key = request.headers.get("x-idempotency-key") or None
            if key is not None and key in state.answers:
                first = state.answers[key]
                state.complaints[first["serviceRequestId"]].create_calls += 1
                return _answer(
                    state, _pgr_answer(info, [state.complaints[first["serviceRequestId"]]])
                )
            complaint = _new_complaint(state, body, tenantId)
        except DigitError as error:
            return _refuse(error, info)
        if key is not None:
            complaint.keys.append(key)
            state.answers[key] = {"serviceRequestId": complaint.service["serviceRequestId"]}
        return _answer(state, _pgr_answer(info, [complaint]))

    @post("/pgr-services/v2/request/_search", status_code=200)
    async def search_complaints(
        self,
        request: Request[Any, Any, Any],
        tenantId: FromQuery[str | None] = None,
        serviceRequestId: FromQuery[str | None] = None,
        mobileNo: FromQuery[str | None] = None,
        applicationStatus: FromQuery[str | None] = None,
        serviceCode: FromQuery[str | None] = None,
    ) -> Response[Any]:
        """Newest first, as DIGIT answers; every criterion given must match."""
        state: DigitState = request.app.state.digit
        info = None
        try:
            info = _request_info(await _json_body(request))
            tenant = _tenant(tenantId)
        except DigitError as error:
            return _refuse(error, info)
        wanted_ids, statuses, codes = (
            _split(serviceRequestId),
            _split(applicationStatus),
            _split(serviceCode),
        )
        found = [
            item
            for item in reversed(state.complaints.values())
            if item.service["tenantId"].startswith(tenant)
            and (not wanted_ids or item.service["serviceRequestId"] in wanted_ids)
            and (not mobileNo or item.service["citizen"].get("mobileNumber") == mobileNo)
            and (not statuses or item.service["applicationStatus"] in statuses)
            and (not codes or item.service["serviceCode"] in codes)
        ]
        return _answer(state, _pgr_answer(info, found))

    # Workflow v2

    @post("/egov-workflow-v2/egov-wf/process/_transition", status_code=200)
    async def transition(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """Takes each ProcessInstance's action; the whole batch or nothing."""
        state: DigitState = request.app.state.digit
        info = None
        try:
            body = await _json_body(request)
            info = _request_info(body)
            instances = body.get("ProcessInstances")
            if not isinstance(instances, list) or not instances:
                raise DigitError("INVALID_REQUEST", "ProcessInstances is required")
            checked = [self._checked_instance(state, item) for item in instances]
        except DigitError as error:
            return _refuse(error, info)
        by = ((info.get("userInfo") or {}).get("uuid")) or "anonymous"
        steps = [
            state.move(
                business,
                item["businessId"],
                tenant,
                item["action"],
                comment=item.get("comment"),
                documents=documents,
                by=by,
            )
            for business, tenant, item, documents in checked
        ]
        return _answer(state, _process_answer(info, steps))

    @staticmethod
    def _checked_instance(
        state: DigitState, item: Any
    ) -> tuple[BusinessService, str, dict[str, Any], list[dict[str, Any]] | None]:
        if not isinstance(item, dict):
            raise DigitError("INVALID_REQUEST", "Each ProcessInstance must be an object")
        tenant = _tenant(item.get("tenantId"))
        for name in ("businessService", "businessId", "action", "moduleName"):
            _text(item.get(name), f"ProcessInstance.{name}")
        business = BUSINESS_SERVICES.get(item["businessService"])
        if business is None:
            raise DigitError(
                "BUSINESSSERVICE_NOT_FOUND",
                f"No businessService {item['businessService']} for tenant {tenant}",
            )
        if business is PGR and item["businessId"] not in state.complaints:
            raise DigitError("INVALID_BUSINESSID", f"No complaint {item['businessId']}")
        process = state.processes.get(item["businessId"])
        current = process.state if process else None
        if item["action"] not in business.actions.get(current, {}):
            raise DigitError(
                "INVALID_ACTION",
                f"Action {item['action']} is not allowed in state {current} of "
                f"{business.name} for the businessId {item['businessId']}",
            )
        return business, tenant, item, _valid_documents(item.get("documents"))

    @post("/egov-workflow-v2/egov-wf/process/_search", status_code=200)
    async def search_processes(
        self,
        request: Request[Any, Any, Any],
        tenantId: FromQuery[str | None] = None,
        businessIds: FromQuery[str | None] = None,
        history: FromQuery[bool] = False,
    ) -> Response[Any]:
        """Each application's latest step, or (history=true) all its steps, newest first."""
        state: DigitState = request.app.state.digit
        info = None
        try:
            info = _request_info(await _json_body(request))
            tenant = _tenant(tenantId)
        except DigitError as error:
            return _refuse(error, info)
        wanted = _split(businessIds)
        steps: list[dict[str, Any]] = []
        for process in state.processes.values():
            if wanted and process.business_id not in wanted:
                continue
            if not process.tenant_id.startswith(tenant):
                continue
            mine = list(reversed(process.steps))
            steps.extend(mine if history else mine[:1])
        return _answer(state, _process_answer(info, steps))

    # Billing and collection

    @post(
        ["/billing-service/bill/v2/_fetchbill", "/billing-service/bill/v2/_fetchBill"],
        status_code=200,
    )
    async def fetch_bill(
        self,
        request: Request[Any, Any, Any],
        tenantId: FromQuery[str | None] = None,
        consumerCode: FromQuery[str | None] = None,
        businessService: FromQuery[str | None] = None,
    ) -> Response[Any]:
        state: DigitState = request.app.state.digit
        info = None
        try:
            info = _request_info(await _json_body(request))
            _tenant(tenantId)
            code = _text(consumerCode, "consumerCode")
        except DigitError as error:
            return _refuse(error, info)
        bills = state.bills_of(code or "", businessService)
        return _answer(state, {"ResponseInfo": response_info(info), "Bill": bills})

    @post("/collection-services/payments/_create", status_code=200)
    async def create_payment(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """Records a payment of whole bills: each bill is paid once; a paid licence moves on."""
        state: DigitState = request.app.state.digit
        info = None
        try:
            body = await _json_body(request)
            info = _request_info(body)
            payment, bills = _check_payment(state, body.get("Payment"))
        except DigitError as error:
            return _refuse(error, info)
        created = now_ms()
        payment_id = str(uuid.uuid4())
        details = []
        for detail, bill in zip(payment["paymentDetails"], bills, strict=True):
            bill["status"] = "PAID"
            bill["payerName"] = payment.get("payerName") or payment["paidBy"]
            bill["mobileNumber"] = payment["mobileNumber"]
            for bill_detail in bill["billDetails"]:
                bill_detail["amountPaid"] = bill_detail["amount"]
            details.append(
                {
                    **detail,
                    "id": str(uuid.uuid4()),
                    "tenantId": payment["tenantId"],
                    "totalDue": bill["totalAmount"],
                    "businessService": bill["businessService"],
                    "receiptNumber": f"TL/RV/{datetime.now(UTC):%Y}/{len(state.payments) + 1:06d}",
                    "receiptDate": created,
                    "receiptType": "BILLBASED",
                    "bill": json.loads(json.dumps(bill)),
                }
            )
            process = state.processes.get(bill["consumerCode"])
            if process is not None and process.state == "PENDINGPAYMENT":
                state.move(
                    process.business, process.business_id, process.tenant_id, "PAY", by="collection"
                )
        stored = {
            **payment,
            "id": payment_id,
            "paymentStatus": "NEW",
            "paymentDetails": details,
            "auditDetails": audit(created, "collection"),
        }
        state.payments.append(stored)
        return _answer(state, {"ResponseInfo": response_info(info), "Payments": [stored]})

    @post("/collection-services/payments/_search", status_code=200)
    async def search_payments(
        self,
        request: Request[Any, Any, Any],
        tenantId: FromQuery[str | None] = None,
        consumerCodes: FromQuery[str | None] = None,
        transactionNumber: FromQuery[str | None] = None,
        ids: FromQuery[str | None] = None,
        billIds: FromQuery[str | None] = None,
    ) -> Response[Any]:
        state: DigitState = request.app.state.digit
        info = None
        try:
            info = _request_info(await _json_body(request))
            tenant = _tenant(tenantId)
        except DigitError as error:
            return _refuse(error, info)
        codes, wanted_ids, wanted_bills = _split(consumerCodes), _split(ids), _split(billIds)
        found = [
            payment
            for payment in state.payments
            if payment["tenantId"].startswith(tenant)
            and (not transactionNumber or payment["transactionNumber"] == transactionNumber)
            and (not wanted_ids or payment["id"] in wanted_ids)
            and (
                not codes
                or any(d["bill"]["consumerCode"] in codes for d in payment["paymentDetails"])
            )
            and (
                not wanted_bills
                or any(d["billId"] in wanted_bills for d in payment["paymentDetails"])
            )
        ]
        return _answer(state, {"ResponseInfo": response_info(info), "Payments": found})

    # MDMS v1

    @post("/egov-mdms-service/v1/_search", status_code=200)
    async def mdms(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """The masters asked for; modules and masters it does not have are left out."""
        state: DigitState = request.app.state.digit
        info = None
        try:
            body = await _json_body(request)
            info = _request_info(body)
            criteria = body.get("MdmsCriteria")
            if not isinstance(criteria, dict):
                raise DigitError("INVALID_REQUEST", "MdmsCriteria is required")
            _tenant(criteria.get("tenantId"))
            modules = criteria.get("moduleDetails")
            if not isinstance(modules, list) or not modules:
                raise DigitError("INVALID_REQUEST", "MdmsCriteria.moduleDetails is required")
        except DigitError as error:
            return _refuse(error, info)
        masters = _masters()
        found: dict[str, dict[str, list[dict[str, Any]]]] = {}
        for module in modules:
            if not isinstance(module, dict):
                continue
            name = str(module.get("moduleName"))
            for master in module.get("masterDetails") or []:
                master_name = str(master.get("name")) if isinstance(master, dict) else ""
                rows = masters.get(name, {}).get(master_name)
                if rows is not None:
                    found.setdefault(name, {})[master_name] = rows
        return _answer(state, {"ResponseInfo": response_info(info), "MdmsRes": found})

    # Localization

    @post("/localization/messages/v1/_search", status_code=200)
    async def messages(
        self,
        request: Request[Any, Any, Any],
        tenantId: FromQuery[str | None] = None,
        locale: FromQuery[str | None] = None,
        module: FromQuery[str | None] = None,
    ) -> Response[Any]:
        state: DigitState = request.app.state.digit
        info = None
        try:
            info = _request_info(await _json_body(request))
            _tenant(tenantId)
            _text(locale, "locale")
        except DigitError as error:
            return _refuse(error, info)
        wanted = _split(module)
        found = [
            message
            for message in _messages()
            if message["locale"] == locale and (not wanted or message["module"] in wanted)
        ]
        return _answer(state, {"messages": found})


def _masters() -> dict[str, dict[str, list[dict[str, Any]]]]:
    boundary = {
        "id": "1",
        "boundaryNum": 1,
        "name": "Riverside",
        "localname": "Riverside",
        "label": "City",
        "code": CITY,
        "latitude": "40.4168",
        "longitude": "-3.7038",
        "children": [
            {
                "id": str(index + 2),
                "boundaryNum": 1,
                "name": name,
                "localname": name,
                "label": "Locality",
                "code": code,
                "latitude": lat,
                "longitude": lon,
                "area": "Zone 1",
                "children": [],
            }
            for index, (code, name, _es, _ar, lat, lon) in enumerate(LOCALITIES)
        ],
    }
    return {
        "RAINMAKER-PGR": {"ServiceDefs": [dict(item) for item in SERVICE_DEFS]},
        "egov-location": {
            "TenantBoundary": [
                {"hierarchyType": {"code": "ADMIN", "name": "ADMIN"}, "boundary": boundary}
            ]
        },
        "tenant": {
            "tenants": [
                {"code": CITY, "name": "Riverside", "city": {"name": "Riverside", "code": "RV"}}
            ]
        },
    }


def _messages() -> list[dict[str, str]]:
    """DIGIT's keys: SERVICEDEFS.<TYPE>, CS_COMMON_<STATE> (rainmaker-pgr) and
    <TENANT>_<HIERARCHY>_<LOCALITY> (rainmaker-<tenant>)."""
    found = []
    city_module = f"rainmaker-{CITY}"
    city_prefix = CITY.upper().replace(".", "_")
    for index, locale in enumerate(LOCALES):
        for code, names in TYPE_NAMES.items():
            found.append(("rainmaker-pgr", f"SERVICEDEFS.{code.upper()}", names[index], locale))
        for status, names in STATE_NAMES.items():
            found.append(("rainmaker-pgr", f"CS_COMMON_{status}", names[index], locale))
        for code, en, es, ar, _lat, _lon in LOCALITIES:
            found.append((city_module, f"{city_prefix}_ADMIN_{code}", (en, es, ar)[index], locale))
    return [
        {"code": code, "message": message, "module": module, "locale": locale}
        for module, code, message, locale in found
    ]


@dataclass
class MoveCommand:
    state: str | None = None  # the state to move to; else the clock's next step
    action: str | None = None  # the action to record; else the configured one, else FORCE


@dataclass
class MalformedCommand:
    mode: str | None = None  # "not-json", "wrong-shape", or None to answer normally again
    count: int = 1


class DigitSandboxController(Controller):
    """Testers' controls: see everything, move a complaint or application, break the answers."""

    path = "/_sandbox/digit"
    include_in_schema = False

    @get("/", sync_to_thread=False)
    def overview(self, request: Request[Any, Any, Any]) -> dict[str, Any]:
        state: DigitState = request.app.state.digit
        return {
            "complaints": [
                {**_wrapper(item), "create_calls": item.create_calls, "keys": item.keys}
                for item in state.complaints.values()
            ],
            "processes": {
                business_id: process.steps for business_id, process in state.processes.items()
            },
            "bills": list(state.bills.values()),
            "payments": state.payments,
            "files": [meta for meta, _content in state.files.values()],
        }

    @post("/processes/{business_id:str}/advance", status_code=200, sync_to_thread=False)
    def advance(
        self,
        request: Request[Any, Any, Any],
        business_id: FromPath[str],
        data: MoveCommand | None = None,
    ) -> Response[Any]:
        """Move a complaint (its serviceRequestId) or an application to `state`, even one its
        configuration does not lead to from here, or one clock step on; answers the new step."""
        state: DigitState = request.app.state.digit
        command = data or MoveCommand()
        process = state.processes.get(business_id)
        if process is None:
            return _refuse(DigitError("INVALID_BUSINESSID", f"No application {business_id}", 404))
        current = process.state
        business = process.business
        known = {target for actions in business.actions.values() for target in actions.values()}
        if command.state is not None and command.state not in known:
            return _refuse(
                DigitError(
                    "INVALID_STATE",
                    f"{business.name} has no state {command.state}; known: {sorted(known)}",
                    422,
                )
            )
        if command.state is None:
            action = business.clock.get(current or "")
            if action is None:
                return _refuse(
                    DigitError("INVALID_ACTION", f"{business_id} is {current}: no step on", 409)
                )
            return Response(state.move(business, business_id, process.tenant_id, action))
        configured = [a for a, t in business.actions.get(current, {}).items() if t == command.state]
        action = command.action or (configured[0] if configured else "FORCE")
        return Response(
            state.move(business, business_id, process.tenant_id, action, target=command.state)
        )

    @put("/malformed", sync_to_thread=False)
    def set_malformed(
        self, request: Request[Any, Any, Any], data: MalformedCommand
    ) -> Response[Any]:
        """The next `count` DIGIT answers are not JSON ("not-json") or JSON of the wrong shape
        ("wrong-shape"); null mode answers normally again."""
        state: DigitState = request.app.state.digit
        if data.mode not in {None, "not-json", "wrong-shape"}:
            return Response({"error": "mode is not-json, wrong-shape or null"}, status_code=422)
        state.malformed = data.mode
        state.malformed_left = max(data.count, 0) if data.mode else 0
        return Response({"mode": state.malformed, "count": state.malformed_left})
