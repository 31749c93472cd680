"""Questions about a service ("how much is a trade licence?", "¿qué necesito para abrir un
negocio?"), answered from its start page in the reader's language, with the page's link.

Only what the page says is given: when it says nothing on what was asked (who can apply, what
you need), the answer says so and gives the page. The bot classes these questions as finding a
service; what is asked is told by the question's own words, in any of the city's languages.
"""

from __future__ import annotations

import re

from portal.applications.timeline import department_name
from portal.catalogue.loader import Catalogue
from portal.catalogue.models import Service
from portal.i18n import gettext as _
from portal.i18n.folding import fold

# What may be asked, each by the start of a phrase, compared folded (case, accents and Arabic
# letter forms ignored). Duration comes before cost: Arabic "كم" (how much / how long)
# is cost only when nothing says time.
ASKED: dict[str, tuple[str, ...]] = {
    "duration": (
        *("how long", "long does", "how many days", "how quick"),
        *("cuanto tarda", "tarda", "cuanto tiempo", "plazo", "cuantos dias"),
        *("يستغرق", "مدة", "كم يوم", "متى"),
    ),
    "cost": (
        *("how much", "cost", "price", "fee", "charge", "is it free"),
        *("cuanto cuesta", "cuanto vale", "cuesta", "coste", "costo", "precio", "tasa", "gratis"),
        *("تكلف", "سعر", "رسوم", "مجان", "كم"),
    ),
    "need": (
        *("what do i need", "what i need", "need to bring", "documents", "requirement"),
        *("que necesito", "que necesita", "que hace falta", "documentos", "requisitos"),
        *("ماذا أحتاج", "ما الذي أحتاج", "ماذا يلزم", "وثائق", "مستندات", "أوراق"),
    ),
    "eligibility": (
        *("who can", "eligib", "am i allowed", "can i apply"),
        *("quien puede", "puedo solicitar", "puedo pedir"),
        *("من يمكن", "من يحق", "يحق لي", "شروط"),
    ),
    "departments": (
        *("which department", "what department", "which office", "who deals", "who decides"),
        *("que departamento", "que oficina", "quien tramita", "quien se encarga"),
        *("أي قسم", "ما الأقسام", "أي جهة", "الجهات"),
    ),
}


def asked(text: str) -> list[str]:
    """What a question asks about a service, in the order of ASKED; none for a plain request
    ("I want to open a shop")."""
    folded = fold(text)
    found = [
        aspect
        for aspect, starts in ASKED.items()
        if any(re.search(rf"(?<!\w){re.escape(fold(start))}", folded) for start in starts)
    ]
    if "duration" in found and "cost" in found and not _names_cost(folded):
        found.remove("cost")  # "كم يستغرق": how long, not how much
    return found


def _names_cost(folded: str) -> bool:
    return any(
        re.search(rf"(?<!\w){re.escape(fold(start))}", folded)
        for start in ASKED["cost"]
        if start != "كم"
    )


def answer(catalogue: Catalogue, public_url: str, service: Service, aspects: list[str]) -> str:
    """The start page's answer to each aspect asked, then the page's link."""
    title = _(service.title)
    link = f"{public_url}/services/{service.id}"
    lines = [title]
    for aspect in aspects:
        lines.extend(_part(catalogue, service, aspect, link))
    lines.append(_("More on its page: %(link)s", link=link))
    return "\n".join(lines)


def _part(catalogue: Catalogue, service: Service, aspect: str, link: str) -> list[str]:
    if aspect == "cost":
        return [_(service.cost)]
    if aspect == "duration":
        return [_(service.duration)]
    if aspect == "need":
        if not service.you_need:
            return [_("Its page does not say what you need. Read it here: %(link)s", link=link)]
        return [_("You will need:"), *(f"- {_(line)}" for line in service.you_need)]
    if aspect == "eligibility":
        if not service.eligibility:
            return [_("Its page does not say who can apply. Read it here: %(link)s", link=link)]
        return [_("Who can use this service"), *(f"- {_(line)}" for line in service.eligibility)]
    lines = [_("You fill in one application. We send it to:")]
    for delivery in service.deliver_to:
        name = department_name(catalogue.departments, delivery.department)
        only = f" {_('(only if your answers need it)')}" if delivery.when else ""
        lines.append(f"- {name}{only}")
    return lines
