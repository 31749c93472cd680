"""The citizen's own details: change them, download them, ask for deletion. Nobody else's."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from backend_clients.sandbox.oidc_users import USERS
from tests.support import csrf_token, sign_in_as

GOOD = {
    "name": "Ana García López",
    "email": "ana.garcia@example.org",
    "phone": "600 111 222",
    "address": "Calle Mayor 1\n28013 Riverside",
    "language": "ar",
    "channel": "whatsapp",
    "consent": "yes",
}


def save(portal: TestClient[Any], **values: str) -> Any:
    token = csrf_token(portal.get("/account/profile").text)
    return portal.post(
        "/account/profile", data={"_csrf_token": token, **values}, follow_redirects=False
    )


def test_a_citizen_changes_their_details(portal: TestClient[Any]) -> None:
    sign_in_as(portal, "ana")
    response = save(portal, **GOOD)
    assert response.status_code == 303 and response.headers["location"] == "/account"
    page = portal.get("/account").text
    assert '<html lang="ar" dir="rtl"' in page  # the language chosen is used from now on
    for shown in (
        "Ana García López",
        "ana.garcia@example.org",
        "+34600111222",
        "Calle Mayor 1",
        "WhatsApp",
    ):
        assert shown in page


def test_wrong_details_are_explained_and_nothing_typed_is_lost(portal: TestClient[Any]) -> None:
    sign_in_as(portal, "lee")
    response = save(
        portal,
        name="",
        email="not-an-email",
        phone="12",
        address="Somewhere",
        language="en",
        channel="email",
    )
    assert response.status_code == 400
    for field in ("name", "email", "phone"):
        assert f'href="#{field}"' in response.text
    assert "Enter your name" in response.text
    assert 'value="not-an-email"' in response.text and "Somewhere</textarea>" in response.text
    assert "Lee Smith" in portal.get("/account").text  # unchanged


def test_updates_need_the_matching_contact_detail(portal: TestClient[Any]) -> None:
    sign_in_as(portal, "lee")
    response = save(portal, **{**GOOD, "phone": "", "channel": "sms"})
    assert response.status_code == 400
    assert 'href="#channel"' in response.text


def test_the_download_holds_the_citizens_data_and_no_one_elses(
    portal_factory: Any, database_url: str
) -> None:
    ana, omar = portal_factory(database_url=database_url), portal_factory(database_url=database_url)
    sign_in_as(ana, "ana")
    sign_in_as(omar, "omar")
    response = ana.get("/account/data.json")
    assert response.headers["content-disposition"].startswith("attachment;")
    data = response.json()
    assert data["profile"]["sign_in"]["subject"] == "citizen-ana-0001"
    assert "sign_in" in {event["action"] for event in data["activity"]}
    text = json.dumps(data, ensure_ascii=False)
    assert "omar" not in text.lower() and "Haddad" not in text
    assert (
        omar.get("/account/data.json").json()["profile"]["sign_in"]["subject"]
        == "citizen-omar-0002"
    )


@pytest.mark.parametrize(
    "path", ["/account", "/account/profile", "/account/data.json", "/account/delete"]
)
def test_nothing_personal_without_signing_in(portal: TestClient[Any], path: str) -> None:
    response = portal.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/sign-in?next=")


def test_asking_for_deletion_signs_out_everywhere(portal_factory: Any, database_url: str) -> None:
    phone, laptop = (
        portal_factory(database_url=database_url),
        portal_factory(database_url=database_url),
    )
    sign_in_as(phone, "omar")
    sign_in_as(laptop, "omar")
    token = csrf_token(phone.get("/account/delete").text)
    response = phone.post("/account/delete", data={"_csrf_token": token}, follow_redirects=False)
    assert response.headers["location"] == "/account/deletion-requested"
    assert "30" in phone.get("/account/deletion-requested").text
    assert laptop.get("/account", follow_redirects=False).status_code == 303
    assert phone.get("/account", follow_redirects=False).status_code == 303


def test_signing_in_again_keeps_what_the_citizen_changed(portal: TestClient[Any]) -> None:
    sign_in_as(portal, "ana")
    save(portal, **GOOD)
    portal.cookies.clear()
    sign_in_as(portal, "ana")
    page = portal.get("/account").text
    assert "ana.garcia@example.org" in page and "Ana García López" in page


@pytest.mark.parametrize("user", sorted(USERS["citizen"]))
def test_every_test_citizen_can_keep_their_phone_in_their_details(
    portal: TestClient[Any], user: str
) -> None:
    """The documented test users' numbers must be ones the details form accepts."""
    claims = USERS["citizen"][user]
    sign_in_as(portal, user)
    details = {"name": claims["name"], "email": claims["email"], "language": claims["locale"]}
    response = save(portal, **details, phone=claims["phone_number"], channel="sms")
    assert response.status_code == 303, response.text
    assert claims["phone_number"] in portal.get("/account").text


def test_the_readme_lists_the_sandbox_test_citizens_phones() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    for user, claims in USERS["citizen"].items():
        assert (
            f"| `{user}` | {claims['name']} | {claims['email']} | {claims['phone_number']} |"
            in readme
        )
