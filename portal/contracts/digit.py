"""DIGIT (eGov, CONTRACTS.md §9): complaints through PGR v2, or applications (a trade licence)
through workflow v2 with DIGIT's bill paid at our gateway and reported to collection services.

A department's `config:` says which: `{module: pgr}` or `{module: workflow, business_service:
NewTL, module_name: tl-services}`. DIGIT pushes nothing to us: the worker asks (`pushes: false`),
and each step of DIGIT's workflow history becomes at most one timeline event, so a state shows
once however often it is read.

DIGIT's refusals reach operators whole (codes and messages, in the outbox's last error); an
answer that does not fit DIGIT's contract parks the message (a ValueError) instead of being
retried for ever or half-applied.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

from babel import numbers
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from backend_clients.digit import (
    Bill,
    Citizen,
    ComplaintRequest,
    DigitClient,
    DigitRejected,
    Document,
    ProcessInstance,
    ServiceWrapper,
)
from backend_clients.http import BackendError, BackendRejected, BackendUnavailable
from portal.contracts.base import (
    Config,
    Connection,
    Contract,
    Environment,
    News,
    Outgoing,
    Paid,
    Sent,
    payment_event_id,
)

FieldId = str
DESCRIPTION_LIMIT = 256  # PGR's description
COMMENT_LIMIT = 4000

# PGR's applicationStatus in our statuses.
PGR_STATUSES = {
    "PENDINGFORASSIGNMENT": "received",
    "PENDINGATLME": "in_review",
    "PENDINGFORREASSIGNMENT": "in_review",
    "RESOLVED": "resolved",
    "CLOSEDAFTERRESOLUTION": "resolved",
    "REJECTED": "rejected",
    "CLOSEDAFTERREJECTION": "rejected",
}
# Workflow actions and states that mean something to the applicant (the rest: being reviewed).
SENT_BACK_ACTIONS = frozenset({"SENDBACKTOCITIZEN"})
SENT_BACK_STATES = frozenset({"CITIZENACTIONREQUIRED"})
RESUBMIT = "RESUBMIT"
APPROVE_ACTIONS = frozenset({"APPROVE"})
PAY_ACTIONS = frozenset({"PAY"})
APPROVED_STATES = frozenset({"APPROVED"})
REJECTED_STATES = frozenset({"REJECTED"})


class DigitConfig(Config):
    module: Literal["pgr", "workflow"]
    url: str | None = None  # default: FRONTDOOR_DIGIT_URL
    tenant: str | None = None  # default: FRONTDOOR_DIGIT_TENANT
    # PGR: our answer -> DIGIT's serviceCode (an answer not listed is sent as it is).
    service_codes: dict[str, str] = Field(default_factory=dict)
    locality: str | None = None  # the locality code when the answers name none
    # The number DIGIT files a complaint under when the citizen gave no phone (PGR needs one).
    citizen_mobile: str | None = None
    # Workflow: which process, and how its bill is paid.
    business_service: str | None = Field(default=None, validate_default=True)
    module_name: str | None = Field(default=None, validate_default=True)
    bill_service: str = "TL"  # the billing businessService of the process's demands
    currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$")
    language: str = "en"  # the language of the answers DIGIT's staff read
    payer_name: str = "Front Door"  # who paid, when DIGIT's bill names nobody
    payer_mobile: str | None = None

    @field_validator("business_service", "module_name")
    @classmethod
    def _workflow_only(cls, value: str | None, info: ValidationInfo) -> str | None:
        module = info.data.get("module")
        if module == "workflow" and not value:
            raise ValueError("required when module is workflow")
        if module == "pgr" and value:
            raise ValueError("only for module: workflow")
        return value


class DigitRequest(BaseModel):
    """Which answers fill DIGIT's request (the delivery's `request:` block). A complaint needs
    service_code, place and description; an application may name its `title` answer."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    service_code: FieldId | None = None
    place: FieldId | None = None
    description: FieldId | None = None
    photo: FieldId | None = None
    locality: FieldId | None = None  # an answer holding DIGIT's locality code
    title: FieldId | None = None  # an answer naming the application (say the trading name)

    @model_validator(mode="after")
    def _complaint_whole(self) -> DigitRequest:
        given = [self.service_code, self.place, self.description]
        if any(given) and not all(given):
            raise ValueError("a complaint needs service_code, place and description")
        return self


class DigitMalformed(ValueError):
    """DIGIT answered something that does not fit its contract: parked for a person."""


def _at(milliseconds: int | None) -> datetime:
    return datetime.fromtimestamp(milliseconds / 1000, UTC) if milliseconds else datetime.now(UTC)


def _step_at(step: ProcessInstance) -> datetime:
    return _at(step.audit_details.created_time if step.audit_details else None)


def _files_in(answers: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(field id, file answer) for every file in the answers, in a repeated step's too."""
    found: list[tuple[str, dict[str, Any]]] = []

    def walk(field: str, value: Any) -> None:
        if isinstance(value, dict) and "document" in value:
            found.append((field, value))
        elif isinstance(value, dict):
            for key, inner in value.items():
                walk(str(key), inner)
        elif isinstance(value, list):
            for inner in value:
                walk(field, inner)

    for field, value in answers.items():
        walk(field, value)
    return found


class DigitConnection(Connection):
    """What both kinds share: the client, DIGIT's errors in operators' terms, files."""

    def __init__(
        self, department: str, client: DigitClient, config: DigitConfig, env: Environment
    ) -> None:
        super().__init__(department)
        self.client = client
        self.config = config
        self.env = env

    @contextmanager
    def _digit(self, doing: str) -> Iterator[None]:
        """DIGIT's refusals with the department and the step named; malformed answers parked."""
        try:
            yield
        except DigitRejected as error:
            raise DigitRejected(
                f"{self.department}: DIGIT refused to {doing}: {error}",
                errors=error.errors,
                status_code=error.status_code,
                request=error.request,
                response=error.response,
            ) from error
        except (BackendUnavailable, BackendRejected):
            raise
        except BackendError as error:
            raise DigitMalformed(
                f"{self.department}: DIGIT's answer to {doing} does not fit its contract "
                f"({error}); parked for a person to look at"
            ) from error

    async def _upload(self, stored_id: str, filename: str | None, module: str) -> str:
        """One of our documents copied into DIGIT's filestore; its fileStoreId."""
        content, content_type = await self.env.documents.download(stored_id)
        if not filename:
            filename = (await self.env.documents.metadata(stored_id)).filename
        with self._digit("store a file"):
            return await self.client.upload_file(
                content, filename, content_type.split(";")[0], module
            )

    async def aclose(self) -> None:
        await self.client.aclose()


class PgrConnection(DigitConnection):
    """Complaints: one PGR service request per application, found again by our reference."""

    async def send(self, outgoing: Outgoing) -> Sent:
        complaint = self._complaint(outgoing)
        with self._digit("look for an earlier complaint"):
            found = await self.client.find_complaint(
                complaint.client_reference, complaint.citizen.mobile_number
            )
        if found is None:
            fields = DigitRequest.model_validate(outgoing.request)
            photos = []
            for _field, photo in self._photos(outgoing, fields):
                stored = outgoing.documents.get(str(photo["document"]))
                if stored:
                    photos.append(await self._upload(stored, photo.get("filename"), "PGR"))
            complaint = complaint.model_copy(update={"photos": photos})
            with self._digit("file the complaint"):
                found = await self.client.create_complaint(complaint, outgoing.key)
        case_id = found.service.service_request_id
        if not case_id:
            raise DigitMalformed(f"{self.department}: DIGIT's complaint has no serviceRequestId")
        try:
            news = await self.news(case_id)
        except (BackendError, ValueError):  # filed: the next poll tells what happened
            news = []
        return Sent(case_id, news)

    def _photos(self, outgoing: Outgoing, fields: DigitRequest) -> list[tuple[str, dict[str, Any]]]:
        if not fields.photo:
            return []
        return _files_in({fields.photo: outgoing.answers.get(fields.photo)})

    def _complaint(self, outgoing: Outgoing) -> ComplaintRequest:
        """The complaint for DIGIT, without its photos (stored only when it is filed)."""
        fields = DigitRequest.model_validate(outgoing.request)
        if not (fields.service_code and fields.place and fields.description):
            raise ValueError(
                f"{self.department}: a complaint needs service_code, place, description"
            )
        answers = outgoing.answers
        ours = str(answers.get(fields.service_code) or "")
        place = answers.get(fields.place) or {}
        if not isinstance(place, dict):
            place = {"label": str(place)}
        locality = answers.get(fields.locality) if fields.locality else None
        locality = str(locality or self.config.locality or "")
        if not locality:
            raise ValueError(
                f"{self.department}: no locality (config.locality or request.locality)"
            )
        mobile = outgoing.applicant.phone or self.config.citizen_mobile
        if not mobile:
            raise ValueError(f"{self.department}: PGR needs a phone (config.citizen_mobile)")
        name = outgoing.applicant.name.strip(" -") or self.config.payer_name
        description = " ".join(str(answers.get(fields.description) or "").split())
        if len(description) > DESCRIPTION_LIMIT:
            description = description[: DESCRIPTION_LIMIT - 1] + "…"
        located = place.get("lat") is not None and place.get("lon") is not None
        return ComplaintRequest(
            client_reference=outgoing.request_reference,
            service_code=self.config.service_codes.get(ours, ours),
            description=description,
            locality_code=locality,
            latitude=float(place["lat"]) if located else None,
            longitude=float(place["lon"]) if located else None,
            landmark=str(place.get("label") or "") or None,
            citizen=Citizen(
                name=name, mobile_number=mobile, email_id=outgoing.applicant.email or None
            ),
        )

    async def news(self, case_id: str) -> list[News]:
        with self._digit("search the complaint"):
            found = await self.client.get_complaint(case_id)
            if found is None:
                raise BackendUnavailable(f"{self.department}: DIGIT has no complaint {case_id}")
            steps = await self.client.process_history([case_id])
        return self._news(found, [s for s in steps if s.business_id == case_id])

    def _news(self, found: ServiceWrapper, steps: list[ProcessInstance]) -> list[News]:
        """Each step of the complaint's workflow in our terms, a status shown once per run."""
        case_id = found.service.service_request_id or ""
        news: list[News] = []
        last = ""
        for index, step in enumerate(reversed(steps)):  # DIGIT answers newest first
            state = step.state.state if step.state else None
            status = PGR_STATUSES.get(state or "")
            if status == "received" and step.action != "APPLY":
                status = "in_review"  # reopened or reassigned: it is being worked on again
            if status is None or status == last:
                continue
            last = status
            news.append(
                News(
                    external_id=f"digit:{step.id or f'{case_id}:{index}'}"[:120],
                    status=status,
                    at=_step_at(step),
                    note=(step.comment or "")[:2000],
                )
            )
        if not news:  # no history to read: the complaint's own status
            status = PGR_STATUSES.get(found.service.application_status or "")
            audit = found.service.audit_details
            if status:
                news.append(
                    News(
                        external_id=f"digit:{case_id}:{found.service.application_status}"[:120],
                        status=status,
                        at=_at(audit.last_modified_time if audit else None),
                    )
                )
        return news


class WorkflowConnection(DigitConnection):
    """An application (a trade licence) through workflow v2: APPLY, sent back and resubmitted,
    approved with a bill paid at our gateway and reported to collection services once."""

    @property
    def business_service(self) -> str:
        assert self.config.business_service is not None
        return self.config.business_service

    def _instance(self, business_id: str, action: str, **values: Any) -> ProcessInstance:
        assert self.config.module_name is not None
        return ProcessInstance(
            tenant_id=self.client.tenant_id,
            business_service=self.business_service,
            business_id=business_id,
            action=action,
            module_name=self.config.module_name,
            **values,
        )

    async def _history(self, business_id: str) -> list[ProcessInstance]:
        """The application's steps, oldest first."""
        with self._digit("read the application's history"):
            steps = await self.client.process_history([business_id])
        return [s for s in reversed(steps) if s.business_id == business_id]

    async def _documents(
        self, answers: dict[str, Any], documents: dict[str, str]
    ) -> list[Document]:
        found = []
        for field, answer in _files_in(answers):
            stored = documents.get(str(answer["document"]))
            if stored:
                file_id = await self._upload(stored, answer.get("filename"), "TL")
                found.append(Document(document_type=field.upper(), file_store_id=file_id))
        return found

    def _comment(self, outgoing: Outgoing) -> str:
        fields = DigitRequest.model_validate(outgoing.request)
        title = str(outgoing.answers.get(fields.title) or "") if fields.title else ""
        lines = [
            f"{outgoing.service_title} {outgoing.application_reference}"
            + (f": {title}" if title else ""),
            *(
                f"{question}: {answer}"
                for question, answer in outgoing.summary(self.config.language)
            ),
        ]
        return "\n".join(lines)[:COMMENT_LIMIT]

    def business_id(self, outgoing: Outgoing) -> str:
        """DIGIT's application number: the citizen's reference with the process's name (an
        application reaches one department once, so it is the same on every attempt)."""
        return f"{outgoing.application_reference}-{self.business_service.upper()}"

    async def send(self, outgoing: Outgoing) -> Sent:
        business_id = self.business_id(outgoing)
        if not await self._history(business_id):
            documents = await self._documents(outgoing.answers, outgoing.documents)
            instance = self._instance(
                business_id, "APPLY", comment=self._comment(outgoing), documents=documents or None
            )
            try:
                with self._digit("apply"):
                    await self.client.transition(instance)
            except DigitRejected:
                if not await self._history(business_id):  # not an earlier try of ours
                    raise
        try:
            news = await self.news(business_id)
        except (BackendError, ValueError):  # applied: the next poll tells what happened
            news = []
        return Sent(business_id, news)

    async def news(self, case_id: str) -> list[News]:
        steps = await self._history(case_id)
        bill: Bill | None = None
        if any(step.action in APPROVE_ACTIONS for step in steps):
            bill = await self._bill(case_id, active_only=False)
        paid_by: str | None = None
        if any(step.action in PAY_ACTIONS for step in steps):
            with self._digit("search the payments"):
                payments = await self.client.search_payments(consumer_codes=[case_id])
            paid_by = next((p.transaction_number for p in payments), None)
        news: list[News] = []
        last = ""
        for step in steps:
            for status, external_id, data in self._meaning(step, bill, paid_by):
                if status == last:
                    continue
                last = status
                note = (step.comment or "") if status == "information_requested" else ""
                news.append(News(external_id[:120], status, _step_at(step), note[:2000], data))
        return news

    def _meaning(
        self, step: ProcessInstance, bill: Bill | None, paid_by: str | None
    ) -> list[tuple[str, str, dict[str, Any]]]:
        """What one step means to the applicant: (status, timeline id, data) each."""
        state = step.state.state if step.state else ""
        own = f"digit:{step.id or f'{step.business_id}:{step.action}:{state}'}"
        if step.action in SENT_BACK_ACTIONS or state in SENT_BACK_STATES:
            return [("information_requested", own, {})]
        if state in REJECTED_STATES:
            return [("rejected", own, {})]
        if step.action in PAY_ACTIONS:
            paid = payment_event_id(paid_by) if paid_by else f"{own}:paid"
            return [("paid", paid, {}), ("approved", own, {})]
        if state in APPROVED_STATES:
            return [("approved", own, {})]
        if step.action in APPROVE_ACTIONS:
            fee = self._fee(bill)
            return [("fee_due", own, {"fee": fee})] if fee else [("approved", own, {})]
        if step.action == "APPLY":
            return [("received", own, {})]
        return [("in_review", own, {})]

    def _fee(self, bill: Bill | None) -> dict[str, Any] | None:
        """DIGIT's bill as our fees are given: minor units and a currency."""
        if bill is None or bill.total_amount <= 0:
            return None
        currency = self.config.currency
        minor = bill.total_amount.scaleb(numbers.get_currency_precision(currency))
        if minor != minor.to_integral_value():
            raise DigitMalformed(
                f"{self.department}: DIGIT's bill {bill.bill_number} is {bill.total_amount}, "
                f"not a whole number of {currency} minor units"
            )
        return {"amount_minor": int(minor), "currency": currency}

    async def _bill(self, case_id: str, *, active_only: bool) -> Bill | None:
        with self._digit("fetch the bill"):
            bills = await self.client.fetch_bill(case_id, self.config.bill_service)
        active = [b for b in bills if b.status == "ACTIVE"]
        if active or active_only:
            return active[0] if active else None
        return next((b for b in bills if b.status in ("PAID", "PARTIALLY_PAID")), None)

    async def send_information(
        self, case_id: str, text: str, documents: list[str], key: str
    ) -> list[News]:
        """RESUBMIT with the applicant's answer, once: a RESUBMIT with the same text after the
        last send-back is an earlier try of ours."""
        if not self._resubmitted(await self._history(case_id), text):
            files = []
            for stored in documents:
                file_id = await self._upload(stored, None, "TL")
                files.append(Document(document_type="CITIZENRESPONSE", file_store_id=file_id))
            instance = self._instance(case_id, RESUBMIT, comment=text, documents=files or None)
            try:
                with self._digit("resubmit the application"):
                    await self.client.transition(instance)
            except DigitRejected:
                if not self._resubmitted(await self._history(case_id), text):
                    raise
        return await self.news(case_id)

    @staticmethod
    def _resubmitted(steps: list[ProcessInstance], text: str) -> bool:
        after = False
        for step in steps:
            if step.action in SENT_BACK_ACTIONS:
                after = False
            elif step.action == RESUBMIT and (step.comment or "") == text:
                after = True
        return after

    async def report_payment(self, case_id: str, paid: Paid, key: str) -> list[News]:
        """Collection services told of our payment once (the client finds it by our payment id
        before reporting and after a refusal)."""
        bill = await self._bill(case_id, active_only=True)
        if bill is None:
            with self._digit("search the payments"):
                earlier = await self.client.search_payments(transaction_number=paid.payment_id)
            if not earlier:
                raise BackendRejected(
                    f"{self.department}: DIGIT has no bill to pay for {case_id}, and no payment "
                    f"{paid.payment_id}: a person must look",
                    status_code=409,
                )
            return await self.news(case_id)
        fee = self._fee(bill)
        if fee is None or fee["amount_minor"] != paid.amount_minor:
            raise ValueError(
                f"{self.department}: DIGIT's bill {bill.bill_number} is {bill.total_amount}, we "
                f"took {paid.amount_minor} {paid.currency} minor units: a person must look"
            )
        payment = self.client.payment_for(
            bill,
            transaction_number=paid.payment_id,
            paid_by=bill.payer_name or self.config.payer_name,
            mobile_number=bill.mobile_number or self.config.payer_mobile or "-",
            amount=Decimal(paid.amount_minor).scaleb(
                -numbers.get_currency_precision(paid.currency)
            ),
        )
        with self._digit("report the payment"):
            await self.client.report_payment(payment)
        return await self.news(case_id)


def connect(department: str, config: DigitConfig, env: Environment) -> Connection:
    settings = env.settings
    client = DigitClient(
        env.http(config.url or settings.digit_url),
        tenant_id=config.tenant or settings.digit_tenant,
        auth_token=settings.digit_auth_token.get_secret_value(),
    )
    kind = PgrConnection if config.module == "pgr" else WorkflowConnection
    return kind(department, client, config, env)


CONTRACT = Contract(
    name="digit",
    config=DigitConfig,
    connect=connect,
    request=DigitRequest,
    description="DIGIT (eGov): PGR complaints, or workflow v2 applications with bills",
)
