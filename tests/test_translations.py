"""Editors change a text; a second editor publishes it; citizens get it on their next request."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from litestar.testing import TestClient

from portal.i18n import gettext
from portal.i18n.locale import use_locale
from portal.translations.messages import message_key
from tests.support import csrf_token, sign_in_as

HEADING = "City services"  # the home page's heading
ORIGINAL = "Servicios municipales"
PLURAL = "%(num)s service found"


def editor(portal_factory: Callable[..., TestClient[Any]], database_url: str, who: str) -> Any:
    client = portal_factory(database_url=database_url, catalogue_check_seconds=0)
    assert sign_in_as(client, who, "/staff/translations", staff=True).status_code == 303
    return client


def propose(client: Any, language: str, msgid: str, *forms: str) -> Any:
    path = f"/staff/translations/{language}/{message_key(msgid, None)}"
    page = client.get(path)
    assert page.status_code == 200, page.text
    data = {"_csrf_token": csrf_token(page.text), "note": "clearer"}
    data.update({f"form-{index}": text for index, text in enumerate(forms)})
    return client.post(path, data=data, follow_redirects=False)


def newest_draft(client: Any, language: str, msgid: str) -> int:
    page = client.get(f"/staff/translations/{language}/{message_key(msgid, None)}").text
    found = re.findall(r'/staff/translations/edits/(\d+)/publish"', page)
    assert found, "no draft to publish"
    return max(int(number) for number in found)


def _text(html: str) -> str:
    """What a reader sees of a page's body: its text without tags, spaces collapsed."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", html.split("<body", 1)[-1], flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", body).split()).replace(" ,", ",")


def publish(client: Any, edit: int) -> Any:
    page = client.get("/staff/translations")
    return client.post(
        f"/staff/translations/edits/{edit}/publish",
        data={"_csrf_token": csrf_token(page.text)},
        follow_redirects=False,
    )


def test_a_change_is_served_only_after_another_editor_publishes_it(
    portal_factory: Callable[..., TestClient[Any]], database_url: str
) -> None:
    eli = editor(portal_factory, database_url, "editor")
    rui = editor(portal_factory, database_url, "reviewer")
    citizen = portal_factory(database_url=database_url, catalogue_check_seconds=0)
    spanish = {"accept-language": "es"}
    assert ORIGINAL in citizen.get("/", headers=spanish).text
    assert propose(eli, "es", HEADING, "Servicios de la ciudad").status_code == 303
    assert ORIGINAL in citizen.get("/", headers=spanish).text  # a draft is not served
    own = publish(eli, newest_draft(rui, "es", HEADING))
    assert own.status_code == 403 and "another editor must review it" in own.text
    assert publish(rui, newest_draft(rui, "es", HEADING)).status_code == 303
    page = citizen.get("/", headers=spanish).text
    assert "Servicios de la ciudad" in page and ORIGINAL not in page
    assert HEADING in citizen.get("/", headers={"accept-language": "en"}).text
    history = _text(eli.get(f"/staff/translations/es/{message_key(HEADING, None)}").text)
    assert "Served" in history
    assert "Eli Editor, " in history and "Reviewed by Rui Reviewer" in history  # names, not ids
    assert "staff:" not in history
    audit = portal_factory(database_url=database_url)
    sign_in_as(audit, "admin", "/staff/audit", staff=True)
    trail = audit.get("/staff/audit").text
    for action in (
        "translation_drafted",
        "translation_self_publish_refused",
        "translation_published",
    ):
        assert action in trail
    # Back to the original, the same way: a draft, then another editor's publication.
    assert propose(rui, "es", HEADING, ORIGINAL).status_code == 303
    assert publish(eli, newest_draft(eli, "es", HEADING)).status_code == 303
    assert ORIGINAL in citizen.get("/", headers=spanish).text


def test_placeholders_html_and_plural_forms_are_checked_before_saving(
    portal_factory: Callable[..., TestClient[Any]], database_url: str
) -> None:
    eli = editor(portal_factory, database_url, "editor")
    dropped = propose(eli, "es", "Pay %(amount)s", "Pagar")
    assert dropped.status_code == 400 and "Keep the placeholder amount" in dropped.text
    assert 'value="Pagar"' in dropped.text or ">Pagar</textarea>" in dropped.text
    invented = propose(eli, "es", "Pay %(amount)s", "Pagar %(amount)s %(total)s")
    assert invented.status_code == 400 and "Remove total" in invented.text
    html = "You can choose to get updates by text message, WhatsApp or email in %(link)s."
    assert propose(eli, "es", html, "Elija en %(link)s <b>cómo</b>.").status_code == 400
    injected = propose(eli, "es", "Pay later", "Pagar <img src=x onerror=alert(1) x=")
    assert injected.status_code == 400 and "Keep the same HTML tags" in injected.text
    lone = propose(eli, "es", "You can enter up to %%{count} characters", "Hasta %{count} letras")
    assert lone.status_code == 400 and "Write a percent sign as %%" in lone.text
    arabic = f"/staff/translations/ar/{message_key(PLURAL, None)}"
    assert eli.get(arabic).text.count('name="form-') == 6  # zero, one, two, few, many, other
    short = propose(eli, "ar", PLURAL, "%(num)s", "%(num)s")
    assert short.status_code == 400 and "Enter a translation for every form" in short.text


def test_only_editors_reach_the_editors_area(
    portal_factory: Callable[..., TestClient[Any]], database_url: str
) -> None:
    for who in ("agent", "admin"):
        staff = portal_factory(database_url=database_url)
        sign_in_as(staff, who, "/staff", staff=True)
        assert staff.get("/staff/translations").status_code == 403
    citizen = portal_factory(database_url=database_url)
    sign_in_as(citizen, "ana")
    answer = citizen.get("/staff/translations", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/staff/sign-in")
    eli = editor(portal_factory, database_url, "editor")
    everything = eli.get("/staff/translations", params={"language": "ar"})
    assert everything.status_code == 200 and "100%" in everything.text
    assert eli.get("/staff/translations", params={"language": "ar", "q": "رخصة"}).text.count(
        "/staff/translations/ar/"
    ) < everything.text.count("/staff/translations/ar/")
    missing = eli.get("/staff/translations", params={"language": "ar", "show": "untranslated"})
    assert "0 messages" in missing.text and "/staff/translations/ar/" not in missing.text


def import_po(client: Any, language: str, content: bytes) -> Any:
    page = client.get("/staff/translations/import")
    return client.post(
        "/staff/translations/import",
        data={"_csrf_token": csrf_token(page.text), "language": language},
        files={"file": ("es.po", content, "text/x-gettext-translation")},
    )


def test_po_files_go_out_and_come_back_as_drafts_and_bad_ones_change_nothing(
    portal_factory: Callable[..., TestClient[Any]], database_url: str
) -> None:
    eli = editor(portal_factory, database_url, "editor")
    rui = editor(portal_factory, database_url, "reviewer")
    exported = eli.get("/staff/translations/export/es")
    assert exported.status_code == 200 and b'"Language: es\\n"' in exported.content
    original = exported.content
    assert b'msgstr "Pagar m\xc3\xa1s tarde"' in original
    edited = original.replace(b'msgstr "Pagar m\xc3\xa1s tarde"', b'msgstr "Pagar otro d\xc3\xada"')
    # A syntax error, a wrong language and a dropped placeholder: each refused with its line.
    broken = edited.replace(b'msgstr "Pagar otro d\xc3\xada"', b"msgstr Pagar otro dia")
    line = broken.split(b"\n").index(b"msgstr Pagar otro dia") + 1
    refused = import_po(eli, "es", broken)
    assert refused.status_code == 400 and f"Line {line}: this is not PO syntax" in refused.text
    assert import_po(eli, "ar", edited).status_code == 400
    dropped = edited.replace(b'msgstr "Pagar %(amount)s"', b'msgstr "Pagar"')
    refused = import_po(eli, "es", dropped)
    assert refused.status_code == 400 and "Keep the placeholder amount" in refused.text
    history = f"/staff/translations/es/{message_key('Pay later', None)}"
    assert "Waiting for review" not in eli.get(history).text  # nothing changed
    # The good file: one change, shown as a diff, waiting for another editor.
    imported = import_po(eli, "es", edited)
    assert imported.status_code == 200 and "1 change is waiting" in imported.text
    assert "Pagar otro día" in imported.text and "Pagar más tarde" in imported.text
    assert publish(rui, newest_draft(rui, "es", "Pay later")).status_code == 303
    again = eli.get("/staff/translations/export/es").content
    assert b'msgstr "Pagar otro d\xc3\xada"' in again
    assert again.count(b"msgid ") == original.count(b"msgid ")  # nothing else lost
    # Back as it was, reviewed the same way.
    assert import_po(rui, "es", original).status_code == 200
    assert publish(eli, newest_draft(eli, "es", "Pay later")).status_code == 303
    assert eli.get("/staff/translations/export/es").content == original


def preview(client: Any, language: str, msgid: str, *forms: str) -> Any:
    path = f"/staff/translations/{language}/{message_key(msgid, None)}"
    data = {"_csrf_token": csrf_token(client.get(path).text)}
    data.update({f"form-{index}": text for index, text in enumerate(forms)})
    return client.post(f"{path}/preview", data=data)


def test_an_editor_previews_a_text_on_its_page_and_as_the_bot_sends_it(
    portal_factory: Callable[..., TestClient[Any]], database_url: str
) -> None:
    eli = editor(portal_factory, database_url, "editor")
    citizen = portal_factory(database_url=database_url, catalogue_check_seconds=0)
    shown = preview(eli, "es", HEADING, "Servicios de prueba")
    assert shown.status_code == 200
    assert ">Servicios de prueba</textarea>" in shown.text  # kept, to be saved or changed
    assert "/publish" not in shown.text  # nothing was saved
    opened = eli.get("/staff/translations/previews/open", params={"path": "/"})
    assert opened.status_code == 200 and opened.url.path == "/"
    assert "Servicios de prueba" in opened.text  # in Spanish, with the typed heading
    use_locale("es")  # the page, its banner too, is in the language previewed
    banner = gettext(
        "You are seeing your translation of one message before it is reviewed. Citizens do not "
        "see it."
    )
    assert banner in opened.text
    assert ORIGINAL in citizen.get("/", headers={"accept-language": "es"}).text  # only the editor
    away = eli.get("/staff/translations/previews/open", params={"path": "https://example.org/"})
    assert away.url.host != "example.org"  # only pages of the portal
    ended = eli.post(
        "/staff/translations/previews/end", data={"_csrf_token": csrf_token(opened.text)}
    )
    assert ended.url.path == f"/staff/translations/es/{message_key(HEADING, None)}"
    assert "Servicios de prueba" not in eli.get("/").text
    # A message the assistant sends: with example values, and what it costs in text messages.
    report = (
        "Thank you: your report is on its way to public works. Its reference is %(reference)s. "
        "Send me the reference to hear how it goes."
    )
    typed = "شكرًا: بلاغك في طريقه إلى الأشغال العامة. رقمه المرجعي %(reference)s."
    as_sent = preview(eli, "ar", report, typed)
    assert as_sent.status_code == 200
    assert typed.replace("%(reference)s", "FD-7K3M-9QX2") in as_sent.text
    assert "1 text message" in as_sent.text
    dropped = preview(eli, "ar", report, "شكرًا")  # the checks apply to a preview too
    assert dropped.status_code == 400 and "Keep the placeholder reference" in dropped.text
