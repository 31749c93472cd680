"""What each journey page shows: the fields with their values or errors, the Back link, the
answers to check. Kept apart from the routes so the same views serve full pages and fragments."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.response import Template

from portal.catalogue.models import FieldDef, Service, Step
from portal.forms import engine
from portal.forms.fields import Reading, city_today, date_range
from portal.forms.models import Draft
from portal.forms.summary import summary_rows
from portal.i18n import gettext as _
from portal.i18n.formatting import format_date, format_minor
from portal.identity.models import Citizen
from portal.payments.upfront import Notice, currency, fee_minor
from portal.shared.acting import acting


@dataclass
class FieldView:
    """One field as the template needs it."""

    definition: FieldDef
    value: Any
    raw: dict[str, Any]
    error: str | None

    @property
    def anchor(self) -> str:
        """The id the error summary links to: the first control of the field."""
        kind = self.definition.type
        if kind == "date":
            return f"{self.definition.id}-day"
        if kind == "address":  # the hand-typed lines when that is what the error is about
            typed = self.raw.get("line1") or self.raw.get("town") or self.raw.get("postcode")
            return f"{self.definition.id}-{'line1' if typed else 'query'}"
        return self.definition.id

    @property
    def range_hint(self) -> str | None:
        """The days a date may take, said under the question (earliest/latest)."""
        earliest, latest = date_range(self.definition, city_today())
        if earliest and latest:
            return _(
                "The date must be between %(earliest)s and %(latest)s",
                earliest=format_date(earliest),
                latest=format_date(latest),
            )
        if earliest:
            return _("The date must be on or after %(date)s", date=format_date(earliest))
        if latest:
            return _("The date must be on or before %(date)s", date=format_date(latest))
        return None

    @property
    def files(self) -> list[dict[str, Any]]:
        """The documents given so far, for a field that takes several."""
        return [item for item in self.value or [] if isinstance(item, dict)]

    @property
    def date_parts(self) -> dict[str, str]:
        if self.raw:
            return {part: str(self.raw.get(part, "")) for part in ("day", "month", "year")}
        if isinstance(self.value, str) and self.value.count("-") == 2:
            year, month, day = self.value.split("-")
            return {"day": str(int(day)), "month": str(int(month)), "year": year}
        return {"day": "", "month": "", "year": ""}

    @property
    def text(self) -> str:
        """What the text box shows: what was typed, else the saved answer."""
        if "value" in self.raw:
            return str(self.raw["value"] or "")
        return "" if self.value is None else str(self.value)

    @property
    def items(self) -> list[dict[str, Any]]:
        """Radios, checkboxes and select options, translated, with what the citizen chose ticked."""
        chosen = self.chosen
        return [
            {
                "value": option.value,
                "text": _(option.label),
                "hint": _(option.hint) if option.hint else None,
                "checked": option.value in chosen,
            }
            for option in self.definition.options
        ]

    @property
    def address_items(self) -> list[dict[str, Any]]:
        return [
            {"value": item["id"], "text": item["label"]} for item in self.raw.get("results", [])
        ]

    @property
    def chosen(self) -> list[str]:
        picked = self.raw.get("value", self.value)
        if picked is None:
            return []
        return [str(item) for item in picked] if isinstance(picked, list) else [str(picked)]


def is_heading(step: Step) -> bool:
    """One question on its own page: its label is the page's heading (several documents have
    the heading above their list, and the file box its own label)."""
    return len(step.fields) == 1 and step.repeat is None and not step.fields[0].many_files


def _views(
    step: Step, saved: dict[str, Any], readings: dict[str, Reading] | None
) -> list[FieldView]:
    views = []
    for field in step.fields:
        reading = (readings or {}).get(field.id)
        if reading is not None:
            views.append(FieldView(field, reading.value, reading.raw, reading.error))
        else:
            views.append(FieldView(field, saved.get(field.id), {}, None))
    return views


def _back(service: Service, draft: Draft, step_id: str, change: bool) -> str:
    if change:
        return f"/drafts/{draft.public_id}/check"
    previous = engine.step_before(service, draft.answers, step_id)
    return f"/drafts/{draft.public_id}/{previous}" if previous else f"/services/{service.id}"


def step_page(
    request: Request[Any, Any, Any],
    service: Service,
    draft: Draft,
    step: Step,
    *,
    readings: dict[str, Reading] | None = None,
    item: int | None = None,
    change: bool = False,
    searching: bool = False,
) -> Template:
    """A question page (or one item of a repeated group)."""
    if item is not None:
        items = draft.answers.get(step.id) or []
        saved = items[item - 1] if item <= len(items) else {}
        action = f"/drafts/{draft.public_id}/{step.id}/{item}"
        back = (
            f"/drafts/{draft.public_id}/{step.id}"
            if items
            else _back(service, draft, step.id, change)
        )
    else:
        saved = draft.answers
        action = f"/drafts/{draft.public_id}/{step.id}"
        back = _back(service, draft, step.id, change)
    views = _views(step, saved, readings)
    errors = {view.anchor: view.error for view in views if view.error}
    context = {
        "service": service,
        "draft": draft,
        "step": step,
        "fields": views,
        "errors": errors,
        "item": item,
        "action": action + ("?change=1" if change else ""),
        "back": back,
        "searching": searching,
        "from_account": set(draft.prefilled),
        "heading": is_heading(step),
    }
    return Template("journeys/step.html", context=context, status_code=400 if errors else 200)


def group_page(
    request: Request[Any, Any, Any],
    service: Service,
    draft: Draft,
    step: Step,
    *,
    change: bool = False,
    missing_choice: bool = False,
) -> Template:
    """The items added so far, each with Change and Remove, and 'add another?'."""
    items = draft.answers.get(step.id) or []
    rows = [summary_rows(step, entry) for entry in items]
    errors = {"add_another": _add_another_error()} if missing_choice else {}
    context = {
        "service": service,
        "draft": draft,
        "step": step,
        "rows": rows,
        "errors": errors,
        "full": step.repeat is not None and len(items) >= step.repeat.max_items,
        "change": change,
        "back": _back(service, draft, step.id, change),
    }
    return Template("journeys/group.html", context=context, status_code=400 if errors else 200)


def _add_another_error() -> str:
    return _("Select yes if you need to add another")


def check_page(
    request: Request[Any, Any, Any],
    service: Service,
    draft: Draft,
    *,
    citizen: Citizen | None = None,
    notice: Notice | None = None,
) -> Template:
    """Check your answers, with a Change link for each, then the declaration and Send (or, for
    a service with a fee, the fee these answers come to and Continue to payment)."""
    sections = []
    for step in engine.visible_steps(service, draft.answers):
        if step.repeat:
            items = draft.answers.get(step.id) or []
            sections.append(
                {"step": step, "entries": [summary_rows(step, i) for i in items], "rows": None}
            )
            continue
        change = f"/drafts/{draft.public_id}/{step.id}?change=1"
        sections.append(
            {"step": step, "entries": None, "rows": summary_rows(step, draft.answers, change)}
        )
    context = {
        "service": service,
        "draft": draft,
        "sections": sections,
        "back": _back(service, draft, engine.CHECK, False),
        "from_account": set(draft.prefilled),
        "fee": _fee_text(service, draft),
        "notice": notice,
        "citizen": citizen,
        "is_acting": acting(request) is not None,  # an agent: the citizen pays, by a link
    }
    return Template("journeys/check.html", context=context)


def _fee_text(service: Service, draft: Draft) -> str | None:
    """The fee to pay before sending, in the reader's number format (None: no fee)."""
    amount = fee_minor(service, draft.answers)
    return None if amount is None else format_minor(amount, currency())


def stop_page(
    request: Request[Any, Any, Any], service: Service, draft: Draft, step: Step
) -> Template:
    """GOV.UK 'check before you start': the answer given means this service is not for them;
    say why, where to go instead, and let them change the answer."""
    context = {
        "service": service,
        "draft": draft,
        "step": step,
        "stop": step.stop,
        "change": f"/drafts/{draft.public_id}/{step.id}",
    }
    return Template("journeys/stop.html", context=context)


def field_fragment(
    request: Request[Any, Any, Any],
    service: Service,
    draft: Draft,
    field: FieldDef,
    reading: Reading,
) -> Template:
    """One field's form group, swapped in place by htmx after the citizen leaves it."""
    view = FieldView(field, reading.value, reading.raw, reading.error)
    step = next(step for step in service.steps if field in step.fields)
    context = {"draft": draft, "view": view, "heading": is_heading(step)}
    return Template("journeys/field_fragment.html", context=context)
