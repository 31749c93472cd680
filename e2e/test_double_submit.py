"""Two "Accept and send" clicks at the same moment, against the real server (granian with two
worker processes on PostgreSQL): one application, both answers lead to it."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.journey_support import PNG, answer, check_token, draft_path
from tests.support import sign_in_as


def test_a_double_click_on_send_creates_one_application(base_url: str) -> None:
    with httpx.Client(base_url=base_url) as citizen:
        assert sign_in_as(citizen, "omar", next_page="/applications").status_code == 303
        base = draft_path(citizen, "report-a-problem")
        answer(citizen, f"{base}/category", {"category": "graffiti"})
        answer(citizen, f"{base}/place", {"place-line1": "Wall behind the market"})
        answer(citizen, f"{base}/description", {"description": "Paint on the wall."})
        answer(citizen, f"{base}/photo", {}, {"photo": ("wall.png", PNG, "image/png")})
        token = check_token(citizen, base)
        before = set(re.findall(r"FD-[0-9A-Z]{4}-[0-9A-Z]{4}", citizen.get("/applications").text))

        def send() -> str:
            response = citizen.post(f"{base}/submit", data={"_csrf_token": token})
            assert response.status_code == 303, response.text[:500]
            return response.headers["location"]

        with ThreadPoolExecutor(max_workers=4) as pool:
            places = set(pool.map(lambda _: send(), range(4)))
        after = set(re.findall(r"FD-[0-9A-Z]{4}-[0-9A-Z]{4}", citizen.get("/applications").text))
    assert len(places) == 1 and len(after - before) == 1
    assert next(iter(after - before)) in next(iter(places))
