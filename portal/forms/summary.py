"""The answers as the check page, the designers' preview and staff read them: GOV.UK summary
list rows, one per question."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from portal.catalogue.models import Step
from portal.forms.fields import shown
from portal.i18n import gettext as _
from portal.i18n.bidi import isolate


def summary_rows(
    step: Step, answers: dict[str, Any], change: str | None = None
) -> list[dict[str, Any]]:
    """GOV.UK summary list rows for a step's answers, with a Change link when given one."""
    rows = []
    for field in step.fields:
        given = answers.get(field.id)
        if field.type == "file" and isinstance(given, list) and given:
            value = _file_list(given)
        else:
            text = shown(field, given) or _("Not given")
            value = isolate(text, "ltr" if field.type == "phone" else "auto")
        row: dict[str, Any] = {"key": {"text": _(field.label)}, "value": {"html": value}}
        if change:
            row["actions"] = {
                "items": [
                    {"href": change, "text": _("Change"), "visuallyHiddenText": _(field.label)}
                ]
            }
        rows.append(row)
    return rows


def _file_list(files: list[dict[str, Any]]) -> Markup:
    """Several documents, one per line."""
    items = Markup("").join(
        Markup("<li>{}</li>").format(isolate(item.get("filename", ""))) for item in files
    )
    return Markup('<ul class="govuk-list">{}</ul>').format(items)
