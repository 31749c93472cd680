"""Small helpers the tests share."""

from __future__ import annotations

import re
from typing import Any

import httpx

_CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')


def csrf_token(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = _CSRF.search(html)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


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
