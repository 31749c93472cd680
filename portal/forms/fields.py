"""Reading one answer from a submitted form: parse, validate, and say what is wrong.

Pure functions, no I/O: addresses chosen from the geocoder and uploaded files are finished by
the routes (lookup, document service). Messages follow the GOV.UK error message patterns and are
translated; a definition may give its own wording (`errors.required`, `errors.invalid`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

from pydantic import TypeAdapter, ValidationError

from backend_clients.gis import Address
from portal.catalogue.models import FieldDef
from portal.i18n import gettext as _
from portal.i18n.formatting import city_zone, format_date, format_money, format_number
from portal.identity.codes import parse_destination

Form = Mapping[str, list[Any]]
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
CURRENCY = "EUR"
_INTEGER = TypeAdapter(int)
_MAGIC = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)


@dataclass
class Reading:
    """One field's outcome: the clean value (None: no answer), an error, and what was typed."""

    value: Any = None
    error: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)


def city_today() -> date:
    """Today in the city (FRONTDOOR_TIME_ZONE): date rules count the city's days, not UTC's."""
    return datetime.now(city_zone()).date()


def date_range(definition: FieldDef, today: date) -> tuple[date | None, date | None]:
    """The first and last day a date field allows (`earliest`/`latest` days from today)."""
    earliest = (
        today + timedelta(days=definition.earliest) if definition.earliest is not None else None
    )
    latest = today + timedelta(days=definition.latest) if definition.latest is not None else None
    return earliest, latest


def first(form: Form, name: str) -> str:
    values = form.get(name) or [""]
    value = values[0]
    return value.strip() if isinstance(value, str) else ""


def _required(definition: FieldDef, fallback: str) -> str:
    return _(definition.errors.required) if definition.errors.required else fallback


def _invalid(definition: FieldDef, fallback: str) -> str:
    return _(definition.errors.invalid) if definition.errors.invalid else fallback


def _missing(definition: FieldDef, raw: dict[str, Any]) -> Reading:
    if not definition.required:
        return Reading(None, None, raw)
    if definition.type in ("radios", "select", "yes_no", "checkboxes"):
        message = _("Select an answer")
    elif definition.type == "file":
        message = _("Select a file")
    else:
        message = _("Enter an answer")
    return Reading(None, _required(definition, message), raw)


def _text(definition: FieldDef, text: str) -> Reading:
    raw = {"value": text}
    if not text:
        return _missing(definition, raw)
    limit = definition.max_length or (10_000 if definition.type == "textarea" else 500)
    if len(text) > limit:
        return Reading(None, _("Must be %(limit)s characters or fewer", limit=limit), raw)
    if definition.type == "email":
        found = parse_destination(text, "ZZ") if "@" in text else None
        if found is None:
            message = _("Enter an email address in the correct format, like name@example.org")
            return Reading(None, _invalid(definition, message), raw)
        return Reading(found.address, None, raw)
    return Reading(text, None, raw)


def _phone(definition: FieldDef, text: str, region: str) -> Reading:
    raw = {"value": text}
    if not text:
        return _missing(definition, raw)
    found = parse_destination(text, region) if "@" not in text else None
    if found is None:
        message = _("Enter a phone number, like +34 600 111 222")
        return Reading(None, _invalid(definition, message), raw)
    return Reading(found.address, None, raw)


def _bounds(definition: FieldDef, amount: Decimal, raw: dict[str, Any]) -> Reading | None:
    if definition.minimum is not None and amount < Decimal(str(definition.minimum)):
        minimum = format_number(Decimal(str(definition.minimum)))
        return Reading(None, _("Must be %(minimum)s or more", minimum=minimum), raw)
    if definition.maximum is not None and amount > Decimal(str(definition.maximum)):
        maximum = format_number(Decimal(str(definition.maximum)))
        return Reading(None, _("Must be %(maximum)s or less", maximum=maximum), raw)
    return None


def _number(definition: FieldDef, text: str) -> Reading:
    raw = {"value": text}
    if not text:
        return _missing(definition, raw)
    try:
        number = _INTEGER.validate_python(text.replace(" ", ""), strict=False)
    except ValidationError:
        return Reading(None, _invalid(definition, _("Enter a whole number, like 12")), raw)
    return _bounds(definition, Decimal(number), raw) or Reading(number, None, raw)


def _money(definition: FieldDef, text: str) -> Reading:
    raw = {"value": text}
    cleaned = text.replace("€", "").replace(" ", "").replace("\xa0", "")
    if not cleaned:
        return _missing(definition, raw)
    # Accept 1234.50, 1,234.50, 1.234,50 and 1234,50: the last separator followed by one or two
    # digits is the decimal one.
    match = re.fullmatch(r"(\d{1,3}(?:[.,]\d{3})*|\d+)(?:[.,](\d{1,2}))?", cleaned)
    message = _("Enter an amount of money, like 12500 or 12500.50")
    if not match:
        return Reading(None, _invalid(definition, message), raw)
    whole = re.sub(r"[.,]", "", match.group(1))
    try:
        amount = Decimal(f"{whole}.{match.group(2) or '0'}").quantize(Decimal("0.01"))
    except InvalidOperation:
        return Reading(None, _invalid(definition, message), raw)
    return _bounds(definition, amount, raw) or Reading(str(amount), None, raw)


def _date(definition: FieldDef, form: Form, today: date) -> Reading:
    parts = {part: first(form, f"{definition.id}-{part}") for part in ("day", "month", "year")}
    raw = dict(parts)
    if not any(parts.values()):
        return _missing(definition, raw)
    missing = [part for part, value in parts.items() if not value]
    if missing:
        messages = {
            "day": _("The date must include a day"),
            "month": _("The date must include a month"),
            "year": _("The date must include a year"),
        }
        return Reading(None, messages[missing[0]], raw)
    if parts["year"].isdigit() and len(parts["year"]) != 4:
        return Reading(None, _("The year must include 4 numbers"), raw)
    try:
        day = date(int(parts["year"]), int(parts["month"]), int(parts["day"]))
    except ValueError:
        return Reading(None, _invalid(definition, _("Enter a real date")), raw)
    if definition.past_only and day >= today:
        return Reading(None, _("The date must be in the past"), raw)
    earliest, latest = date_range(definition, today)
    if earliest is not None and day < earliest:
        wording = definition.errors.too_early
        message = (
            _(wording, date=format_date(earliest))
            if wording
            else _("The date must be on or after %(date)s", date=format_date(earliest))
        )
        return Reading(None, message, raw)
    if latest is not None and day > latest:
        wording = definition.errors.too_late
        message = (
            _(wording, date=format_date(latest))
            if wording
            else _("The date must be on or before %(date)s", date=format_date(latest))
        )
        return Reading(None, message, raw)
    return Reading(day.isoformat(), None, raw)


def _choice(definition: FieldDef, form: Form) -> Reading:
    allowed = (
        {"yes", "no"}
        if definition.type == "yes_no"
        else {option.value for option in definition.options}
    )
    if definition.type == "checkboxes":
        chosen = [value for value in form.get(definition.id, []) if isinstance(value, str)]
        raw: dict[str, Any] = {"value": chosen}
        if not chosen:
            return _missing(definition, raw)
        if not set(chosen) <= allowed:
            return Reading(None, _("Select from the options given"), raw)
        order = [option.value for option in definition.options]
        return Reading(sorted(set(chosen), key=order.index), None, raw)
    value = first(form, definition.id)
    raw = {"value": value}
    if not value:
        return _missing(definition, raw)
    if value not in allowed:
        return Reading(None, _("Select from the options given"), raw)
    return Reading(value, None, raw)


def address_answer(address: Address) -> dict[str, Any]:
    """An address found with the geocoder, as an address field keeps it (the web form's
    choice and the assistant's confirmed place alike)."""
    return {
        "label": address.label,
        "id": address.id,
        "postcode": address.postcode,
        "lat": address.lat,
        "lon": address.lon,
    }


def _manual_address(definition: FieldDef, form: Form) -> Reading:
    """The address typed by hand (the geocoder's choice is resolved by the route)."""
    names = ("line1", "line2", "town", "postcode")
    parts = {name: first(form, f"{definition.id}-{name}") for name in names}
    raw: dict[str, Any] = {**parts, "query": first(form, f"{definition.id}-query")}
    if not any(parts.values()):
        return _missing(definition, raw)
    if not parts["line1"]:
        return Reading(None, _("Enter the first line of the address"), raw)
    if any(len(value) > 200 for value in parts.values()):
        return Reading(None, _("Each line of the address must be 200 characters or fewer"), raw)
    label = ", ".join(value for value in parts.values() if value)
    return Reading({"label": label, "manual": True, **parts}, None, raw)


def sniff(content: bytes) -> str | None:
    """The file's real type from its first bytes, whatever its name says."""
    for magic, content_type in _MAGIC:
        if content.startswith(magic):
            return content_type
    return None


def check_upload(definition: FieldDef, filename: str, content: bytes) -> str | None:
    """What is wrong with an uploaded file, or None."""
    if not content:
        return _("The selected file is empty")
    if len(content) > MAX_UPLOAD_BYTES:
        return _("The selected file must be smaller than 5 MB")
    kind = sniff(content)
    if kind is None or kind not in definition.accept:
        if set(definition.accept) == {"image/jpeg", "image/png"}:
            return _("The selected file must be a JPG or PNG")
        return _("The selected file must be a PDF, JPG or PNG")
    if len(filename) > 200:
        return _("The file name must be 200 characters or fewer")
    return None


def read_field(
    definition: FieldDef, form: Form, *, region: str = "ES", today: date | None = None
) -> Reading:
    """Parse and check one field's answer from a submitted form (files and address choices
    excepted: see check_upload and the address lookup)."""
    kind = definition.type
    if kind in ("text", "textarea", "email"):
        return _text(definition, first(form, definition.id))
    if kind == "phone":
        return _phone(definition, first(form, definition.id), region)
    if kind == "number":
        return _number(definition, first(form, definition.id))
    if kind == "money":
        return _money(definition, first(form, definition.id))
    if kind == "date":
        return _date(definition, form, today or city_today())
    if kind in ("radios", "checkboxes", "select", "yes_no"):
        return _choice(definition, form)
    if kind == "address":
        return _manual_address(definition, form)
    raise ValueError(f"{kind} fields are read by their route")


def shown(definition: FieldDef, value: Any) -> str:
    """An answer as the citizen reads it on 'Check your answers', in their language."""
    if value is None or value == "" or value == []:
        return ""
    labels = {option.value: _(option.label) for option in definition.options}
    kind = definition.type
    if kind == "yes_no":
        return _("Yes") if value == "yes" else _("No")
    if kind in ("radios", "select"):
        return labels.get(value, str(value))
    if kind == "checkboxes":
        return ", ".join(labels.get(item, item) for item in value)
    if kind == "date":
        return format_date(date.fromisoformat(value))
    if kind == "money":
        return format_money(Decimal(value), CURRENCY)
    if kind == "number":
        return format_number(value)
    if kind == "address":
        return str(value.get("label", ""))
    if kind == "file":
        files = value if isinstance(value, list) else [value]
        return ", ".join(str(item.get("filename", "")) for item in files)
    return str(value)


def clean_filename(name: str) -> str:
    """The name without any folder a browser may send (C:\\Users\\...\\lease.pdf)."""
    base = PureWindowsPath(PurePosixPath(name).name).name
    return "".join(char for char in base if char.isprintable())[:200] or "file"
