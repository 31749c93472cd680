"""One department's case API: open a case, follow it, answer a request for information, report
that its fee was paid.

`base_url` is the department's own root (sandbox: `{departments_url}/{department}`): each
department may run its case API anywhere.
Every write carries an Idempotency-Key, so the caller may send them again after a timeout.
"""

from __future__ import annotations

from urllib.parse import quote

from backend_clients.departments.models import Case, CaseReceipt, CaseRequest, PaymentReport
from backend_clients.http import BackendClient, ClientConfig


class DepartmentClient(BackendClient):
    def __init__(self, config: ClientConfig, department: str) -> None:
        super().__init__(config)
        self.department = department
        self.name = f"department {department}"
        self._cases = "/cases"

    def _case(self, case_id: str) -> str:
        return f"{self._cases}/{quote(case_id, safe='')}"

    async def create_case(self, request: CaseRequest, idempotency_key: str) -> CaseReceipt:
        """Open a case; the same key again answers the same case (`created` False)."""
        response = await self.request(
            "POST",
            self._cases,
            json=request.model_dump(mode="json"),
            headers={"Idempotency-Key": idempotency_key},
        )
        return self.read(response, CaseReceipt)

    async def get_case(self, case_id: str) -> Case:
        """The case with every event so far (how the portal catches up on missed pushes)."""
        response = await self.request("GET", self._case(case_id))
        return self.read(response, Case)

    async def send_information(
        self, case_id: str, text: str, documents: list[str], idempotency_key: str
    ) -> Case:
        """Answer "more information needed"; BackendRejected(409) when the case is not asking."""
        response = await self.request(
            "POST",
            f"{self._case(case_id)}/information",
            json={"text": text, "documents": documents},
            headers={"Idempotency-Key": idempotency_key},
        )
        return self.read(response, Case)

    async def report_payment(
        self, case_id: str, payment: PaymentReport, idempotency_key: str
    ) -> Case:
        """Tell the department its fee was paid. BackendRejected(409) when the case is not
        waiting for a fee, (422) when the amount is not the fee it asked for."""
        response = await self.request(
            "POST",
            f"{self._case(case_id)}/payment",
            json=payment.model_dump(mode="json"),
            headers={"Idempotency-Key": idempotency_key},
        )
        return self.read(response, Case)
