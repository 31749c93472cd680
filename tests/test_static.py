"""Static files: fingerprinted, pre-compressed, cached for a year, within the page budget."""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar.testing import TestClient

PAGE_BUDGET = 60 * 1024
ASSET = re.compile(r'(?:href|src)="(/static/[^"]+)"')


def _assets(html: str) -> list[str]:
    return sorted(set(ASSET.findall(html)))


def test_assets_are_fingerprinted_and_cached_as_immutable(web: TestClient[Any]) -> None:
    assets = _assets(web.get("/").text)
    assert len(assets) >= 5
    for url in assets:
        assert re.search(r"\.[0-9a-f]{12}\.(css|js|svg)$", url), url
        response = web.get(url, headers={"accept-encoding": "gzip"})
        assert response.status_code == 200
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert response.headers["vary"] == "Accept-Encoding"


@pytest.mark.parametrize(
    ("accepts", "encoding"),
    [
        ("br, gzip", "br"),
        ("gzip", "gzip"),
        ("identity", None),
        ("br;q=0, gzip", "gzip"),
        ("gzip;q=0", None),
    ],
)
def test_assets_are_served_precompressed_as_the_browser_accepts(
    web: TestClient[Any], accepts: str, encoding: str | None
) -> None:
    css = next(url for url in _assets(web.get("/").text) if url.endswith(".css"))
    response = web.get(css, headers={"accept-encoding": accepts})
    assert response.headers.get("content-encoding") == encoding
    assert response.headers["content-type"].startswith("text/css")
    if encoding != "br":  # the test client cannot decode brotli
        assert ".govuk-generic-header" in response.text


def test_an_unknown_asset_is_not_found(web: TestClient[Any]) -> None:
    assert web.get("/static/../../pyproject.toml").status_code == 404
    assert web.get("/static/app.css").status_code == 404


@pytest.mark.parametrize("language", ["en", "es", "ar"])
def test_a_first_visit_weighs_under_the_budget(web: TestClient[Any], language: str) -> None:
    """The page and every asset it loads, as sent compressed (gzip, the weaker of the two).

    Modules imported by other scripts are listed as modulepreload links, so the page names them all.
    """
    headers = {"accept-encoding": "gzip", "accept-language": language}
    page = web.get("/", headers=headers)
    total = len(page.read()) if page.headers.get("content-encoding") else len(page.content)
    for url in _assets(page.text):
        response = web.get(url, headers=headers)
        total += int(response.headers["content-length"])
    assert total <= PAGE_BUDGET, f"{total} bytes"


def test_nothing_is_loaded_from_another_site(web: TestClient[Any]) -> None:
    page = web.get("/").text
    for attribute in re.findall(r'(?:src|href)="([^"]+)"', page):
        assert attribute.startswith(("/", "#")), attribute


def test_the_fonts_of_gov_uk_are_not_used(web: TestClient[Any]) -> None:
    css = next(url for url in _assets(web.get("/").text) if url.endswith(".css"))
    stylesheet = web.get(css).text
    assert "GDS Transport" not in stylesheet
    assert "@font-face" not in stylesheet


def test_every_module_a_script_imports_is_named_by_the_page(web: TestClient[Any]) -> None:
    """So that the budget above counts it, and the browser fetches it without waiting."""
    assets = _assets(web.get("/").text)
    for url in (asset for asset in assets if asset.endswith(".js")):
        script = web.get(url, headers={"accept-encoding": "identity"}).text
        for imported in re.findall(r'from\s*"\./([^"]+)"', script):
            assert f"/static/{imported}" in assets, f"{url} imports {imported}"


CSS_URL = re.compile(r"url\(\s*[\"']?([^\"')]+)[\"']?\s*\)")


@pytest.mark.parametrize("language", ["en", "ar"])
def test_every_url_in_the_stylesheet_is_a_file_the_build_produced(
    web: TestClient[Any], language: str
) -> None:
    """An image GOV.UK Frontend's Sass names but the build never wrote would be a 404."""
    web.get(f"/language/{language}")
    stylesheets = [url for url in _assets(web.get("/").text) if url.endswith(".css")]
    assert stylesheets
    for stylesheet in stylesheets:
        css = web.get(stylesheet, headers={"accept-encoding": "identity"}).text
        for url in set(CSS_URL.findall(css)) - {""}:
            if url.startswith("data:"):
                continue
            assert url.startswith("/static/"), (stylesheet, url)
            assert web.get(url).status_code == 200, (stylesheet, url)
