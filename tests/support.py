"""Small helpers the tests share."""

from __future__ import annotations

import re
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from conftest import http

_CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')


def visible_text(html: str) -> str:
    """What a reader sees of a page's body: its text without tags, scripts or styles, spaces
    collapsed (so tests assert what people read, not markup that happens to contain it)."""
    body = re.sub(
        r"<(script|style)\b.*?</\1>",
        " ",
        re.split(r"<body\b[^>]*>", html, maxsplit=1)[-1],
        flags=re.S,
    )
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", body)).split())


def csrf_token(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = _CSRF.search(html)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


def choose_user(url: str, user: str) -> dict[str, str]:
    """What a person does on the sandbox provider's page: pick a test user ("" cancels).

    Returns the query the provider sends the browser back with (code and state, or error).
    """
    query = {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}
    response = http("POST", url.split("?")[0], data={**query, "user": user})
    assert response.status_code == 302, response.text
    location = urlsplit(response.headers["location"])
    return {key: values[0] for key, values in parse_qs(location.query).items()}


def sign_in_as(
    portal: Any, user: str, next_page: str = "/account", staff: bool = False
) -> httpx.Response:
    """Sign in through the national identity flow (or the staff one); returns the final answer."""
    prefix = "/staff/sign-in" if staff else "/sign-in"
    start_path = f"{prefix}/start" if staff else f"{prefix}/national"
    start = portal.get(start_path, params={"next": next_page}, follow_redirects=False)
    assert start.status_code == 303, start.text
    answer = choose_user(start.headers["location"], user)
    response: httpx.Response = portal.get(
        f"{prefix}/callback", params=answer, follow_redirects=False
    )
    return response


def give_feedback(
    client: Any,
    page: str,
    useful: str = "yes",
    *,
    path: str | None = None,
    language: str = "en",
    htmx: bool = False,
) -> httpx.Response:
    """Answer "Is this page useful?" as a browser would: open `page`, post its form.

    `path` overrides the form's hidden path field (to test tampering); the redirect is not followed.
    """
    headers = {"accept-language": language}
    token = csrf_token(client.get(page, headers=headers).text)
    if htmx:
        headers["hx-request"] = "true"
    data = {"_csrf_token": token, "path": page if path is None else path, "useful": useful}
    response: httpx.Response = client.post(
        "/feedback", data=data, headers=headers, follow_redirects=False
    )
    return response
