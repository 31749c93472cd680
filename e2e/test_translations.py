"""An editor's change, published by a second editor, reaches every worker of the live portal
(two processes, as in production) within seconds, without a restart."""

from __future__ import annotations

import time

import httpx

from portal.translations.messages import message_key
from tests.support import csrf_token, sign_in_as

HEADING, ORIGINAL, CHANGED = "City services", "Servicios municipales", "Servicios de la ciudad"


def change(base_url: str, author: str, reviewer: str, text: str) -> float:
    """`author` drafts `text` for the home page's Spanish heading, `reviewer` publishes it;
    returns when it was published (time.monotonic)."""
    path = f"/staff/translations/es/{message_key(HEADING, None)}"
    with httpx.Client(base_url=base_url) as one, httpx.Client(base_url=base_url) as two:
        assert sign_in_as(one, author, path, staff=True).status_code == 303
        assert sign_in_as(two, reviewer, path, staff=True).status_code == 303
        page = one.get(path)
        drafted = one.post(path, data={"_csrf_token": csrf_token(page.text), "form-0": text})
        assert drafted.status_code == 303
        page = two.get(path)
        edit = page.text.split("/publish")[0].rsplit("/edits/", 1)[1]
        published = two.post(
            f"/staff/translations/edits/{edit}/publish",
            data={"_csrf_token": csrf_token(page.text)},
        )
        assert published.status_code == 303
        return time.monotonic()


def served_everywhere(base_url: str, text: str, since: float) -> float:
    """Seconds from `since` to the first of 20 requests in a row (new connections, so either
    worker answers) that all serve `text`."""
    in_a_row, streak_began = 0, since
    while time.monotonic() - since < 10:
        asked = time.monotonic()
        page = httpx.get(f"{base_url}/", headers={"accept-language": "es", "connection": "close"})
        if text not in page.text:
            in_a_row = 0
            continue
        in_a_row += 1
        streak_began = asked if in_a_row == 1 else streak_began
        if in_a_row == 20:
            return streak_began - since
        time.sleep(0.05)
    raise AssertionError(f"{text!r} was not served by every worker within 10 s")


def test_a_published_change_reaches_every_worker_within_seconds(base_url: str) -> None:
    assert ORIGINAL in httpx.get(f"{base_url}/", headers={"accept-language": "es"}).text
    took = served_everywhere(base_url, CHANGED, change(base_url, "editor", "reviewer", CHANGED))
    assert took < 5
    back = served_everywhere(base_url, ORIGINAL, change(base_url, "reviewer", "editor", ORIGINAL))
    assert back < 5
    print(f"served by every worker {took:.2f} s and {back:.2f} s after publishing")
