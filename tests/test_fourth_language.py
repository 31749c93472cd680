"""A fourth language is configuration plus a catalogue: French, added here without touching the
code. Its texts, switcher, direction and formatting follow; what is not translated yet is shown
in English, counted, and listed for editors, most often shown first."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from litestar.testing import TestClient

from conftest import ROOT
from portal.i18n.catalogue import CatalogueMissing, load_catalogues
from portal.i18n.formatting import format_money
from portal.i18n.locale import use_locale
from portal.translations.messages import message_key
from tests.support import sign_in_as
from tests.test_translations import newest_draft, propose, publish

FRENCH = {"City services": "Services de la ville", "Popular services": "Services les plus demandés"}
UNTRANSLATED = "See all services and search"  # on the home page, left for the editors
SERVED = ("en", "es", "ar", "fr")


@pytest.fixture
def french(tmp_path: Path) -> Iterator[Path]:
    """locales/ as it is, plus a French catalogue with a few messages translated, compiled."""
    locales = tmp_path / "locales"
    shutil.copytree(ROOT / "locales", locales)
    with (locales / "messages.pot").open("rb") as handle:
        catalogue = read_po(handle, locale="fr")
    for message in catalogue:
        if message.id in FRENCH:
            message.string = FRENCH[str(message.id)]
    folder = locales / "fr" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    with (folder / "messages.po").open("wb") as handle:
        write_po(handle, catalogue)
    with (folder / "messages.mo").open("wb") as handle:
        write_mo(handle, catalogue)
    yield locales
    load_catalogues(ROOT / "locales", ("en", "es", "ar"))  # as every other test expects


def test_french_is_added_by_configuration_and_a_catalogue(
    portal_factory: Callable[..., TestClient[Any]], database_url: str, french: Path
) -> None:
    def start(**overrides: Any) -> TestClient[Any]:
        return portal_factory(
            database_url=database_url,
            locales_dir=french,
            languages=SERVED,
            catalogue_check_seconds=0,
            missing_translations_save_seconds=0,
            **overrides,
        )

    reader = start()
    page = reader.get("/", headers={"accept-language": "fr-FR,fr;q=0.9"}).text
    assert '<html lang="fr" dir="ltr"' in page
    assert "Services de la ville" in page and "Services les plus demandés" in page
    assert UNTRANSLATED in page  # not translated yet: the English text, not a blank
    english = reader.get("/", headers={"accept-language": "en"}).text
    assert 'href="/language/fr?next=/"' in english and "Français" in english  # the switcher
    chosen = reader.get("/language/fr", follow_redirects=False)
    assert chosen.status_code == 303
    assert "Services de la ville" in reader.get("/").text  # the switcher's choice holds
    use_locale("fr")
    assert format_money(Decimal("1234.5"), "EUR") == "1\u202f234,50\xa0€"

    eli = start()
    assert sign_in_as(eli, "editor", "/staff/translations", staff=True).status_code == 303
    overview = eli.get("/staff/translations", params={"language": "fr"}).text
    assert "Français" in overview
    shown = {"language": "fr", "show": "missed", "q": UNTRANSLATED}  # among the home page's
    missed = eli.get("/staff/translations", params=shown).text
    assert UNTRANSLATED in missed  # seen by a reader, in English
    assert "Shown in English 2 times" in missed  # once per French visit of the home page
    assert "Services de la ville" not in missed  # translated ones are not counted

    # An editor translates it; another publishes it; the reader gets it on the next request.
    assert propose(eli, "fr", UNTRANSLATED, "Voir tous les services").status_code == 303
    rui = start()
    assert sign_in_as(rui, "reviewer", "/staff/translations", staff=True).status_code == 303
    assert publish(rui, newest_draft(rui, "fr", UNTRANSLATED)).status_code == 303
    assert "Voir tous les services" in reader.get("/").text
    # French has two plural forms; the edit page offers two.
    plural = eli.get(f"/staff/translations/fr/{message_key('%(num)s service found', None)}")
    assert plural.status_code == 200
    assert 'name="form-1"' in plural.text and 'name="form-2"' not in plural.text


def test_a_language_without_a_catalogue_stops_the_portal_at_start(
    portal_factory: Callable[..., TestClient[Any]],
) -> None:
    with pytest.raises(CatalogueMissing, match="fr"):
        portal_factory(languages=("en", "es", "ar", "fr"))
    load_catalogues(ROOT / "locales", ("en", "es", "ar"))


def test_a_translation_whose_english_text_changed_is_shown_to_editors(
    portal_factory: Callable[..., TestClient[Any]], database_url: str, tmp_path: Path
) -> None:
    """The source changes ("City services" becomes "Our city services"); `make
    update-translations` (babel update --previous) keeps the Spanish text as fuzzy, with the old
    English beside it. Readers get the new English until an editor checks it."""
    locales = tmp_path / "locales"
    shutil.copytree(ROOT / "locales", locales)
    with (locales / "messages.pot").open("rb") as handle:
        template = read_po(handle)
    template.delete("City services")
    template.add("Our city services", locations=[("templates/pages/home.html", 4)])
    spanish = locales / "es" / "LC_MESSAGES"
    with (spanish / "messages.po").open("rb") as handle:
        catalogue = read_po(handle, locale="es")
    catalogue.update(template)
    with (spanish / "messages.po").open("wb") as handle:
        write_po(handle, catalogue, include_previous=True, width=0)
    with (spanish / "messages.mo").open("wb") as handle:
        write_mo(handle, catalogue)
    with (locales / "messages.pot").open("wb") as handle:
        write_po(handle, template, width=0)

    editor = portal_factory(database_url=database_url, locales_dir=locales)
    assert sign_in_as(editor, "editor", "/staff/translations", staff=True).status_code == 303
    changed = editor.get("/staff/translations", params={"language": "es", "show": "changed"})
    assert "Our city services" in changed.text
    assert "1 message" in changed.text
    page = editor.get(f"/staff/translations/es/{message_key('Our city services', None)}").text
    assert "The English text changed since this was translated." in page
    assert "<del" in page and "City services" in page  # what it was
    assert "Servicios municipales" in page  # the old translation, ready to be checked
