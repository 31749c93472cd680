"""The test-only service with a fee paid before sending (tests/pay_first_services), in a
catalogue beside the real departments and topics, and a citizen's way through it."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

from portal.settings import ROOT
from tests.journey_support import answer
from tests.support import csrf_token

DEFINITIONS = ROOT / "portal" / "catalogue" / "definitions"
SERVICES = Path(__file__).resolve().parent / "pay_first_services"
SERVICE = "pay-first-permit"


def pay_first_catalogue(target: Path) -> Path:
    """A catalogue folder with the real departments, topics and links and the test service."""
    target.mkdir(parents=True, exist_ok=True)
    for name in ("departments.yaml", "topics.yaml", "links.yaml"):
        if (DEFINITIONS / name).exists():
            shutil.copy(DEFINITIONS / name, target / name)
    services = target / "services"
    services.mkdir(exist_ok=True)
    for path in SERVICES.glob("*.yaml"):
        shutil.copy(path, services / path.name)
    return target


def start(client: Any) -> str:
    """A fresh draft of the test service (any earlier one deleted); its /drafts/<id> path."""
    for _ in range(2):
        response = client.get(f"/services/{SERVICE}/apply", follow_redirects=False)
        base = re.sub(r"(/drafts/d_[0-9a-f]+)/.*", r"\1", response.headers["location"])
        if _ == 0:
            token = csrf_token(client.get("/applications").text)
            client.post(f"{base}/delete", data={"_csrf_token": token})
    return base


def fill(client: Any, vehicle: str = "petrol", copies: str = "2") -> str:
    """Answer every question; returns the draft's path (the check page is next)."""
    base = start(client)
    for step, data in (
        ("vehicle-type", {"vehicle_type": vehicle}),
        ("copies", {"copies": copies}),
        ("contact", {"contact_name": "Omar Haddad"}),
    ):
        response = answer(client, f"{base}/{step}", data)
        assert response.status_code == 303, (step, response.text[:2000])
    return base
