"""No path answers a server error for an id it cannot hold: every route with a path parameter,
for every kind of visitor, is sent ids out of range and malformed ones (PostgreSQL, where an
integer out of range is an error)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from litestar.routes import HTTPRoute
from litestar.testing import TestClient

from conftest import migrate
from tests.conftest import PortalFactory
from tests.support import csrf_token, sign_in_as

# An integer past PostgreSQL's bigint, negative, zero, not a number, a NUL byte, too long.
BAD_IDS = ["99999999999999999999", "-1", "0", "abc", "1.5", "%00", "x" * 300]
# What a path that names nothing may answer: not there, not yours, sign in first, not allowed.
REFUSALS = {302, 303, 401, 403, 404, 405, 410}
VISITORS = [None, "ana", "agent", "editor", "admin"]


@pytest.fixture
def postgres_portal(
    portal_factory: PortalFactory, fresh_database: Callable[[str], str]
) -> TestClient[Any]:
    url = fresh_database("postgresql")
    migrate(url)
    return portal_factory(database_url=url)


def _paths_with_ids(client: TestClient[Any]) -> list[tuple[str, str, bool]]:
    """(method, path, whether it holds an integer id) for every route with a path parameter
    and every bad id."""
    walked = []
    for route in client.app.routes:
        if not isinstance(route, HTTPRoute) or not route.path_parameters:
            continue
        for method in sorted(route.methods - {"HEAD", "OPTIONS"}):
            for bad in BAD_IDS:
                path = route.path
                for parameter in route.path_parameters.values():
                    path = path.replace("{" + parameter.full + "}", bad)
                integer = any(p.type is int for p in route.path_parameters.values())
                walked.append((method, path, integer))
    return walked


@pytest.mark.parametrize("visitor", VISITORS)
def test_no_route_answers_a_server_error_for_a_bad_id(
    postgres_portal: TestClient[Any], visitor: str | None
) -> None:
    portal = postgres_portal
    home = "/staff" if visitor in {"agent", "editor", "admin"} else "/account"
    if visitor is not None:
        sign_in_as(portal, visitor, home, staff=home == "/staff")
    token = csrf_token(portal.get(home if visitor else "/").text)
    walked = _paths_with_ids(portal)
    assert any("/edits/abc/publish" in path for _method, path, _integer in walked)
    wrong = []
    for method, path, integer in walked:
        answer = portal.request(
            method, path, headers={"x-csrftoken": token}, follow_redirects=False
        )
        if answer.status_code >= 500 or (integer and answer.status_code not in REFUSALS):
            wrong.append((method, path[:80], answer.status_code))
    assert wrong == [], "\n".join(map(str, wrong))


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_an_edit_id_past_the_database_is_not_found(
    postgres_portal: TestClient[Any], method: str
) -> None:
    portal = postgres_portal
    sign_in_as(portal, "editor", "/staff", staff=True)
    token = csrf_token(portal.get("/staff").text)
    answer = portal.request(
        method,
        "/staff/translations/edits/99999999999999999999/publish",
        headers={"x-csrftoken": token},
        follow_redirects=False,
    )
    assert answer.status_code == (404 if method == "POST" else 405)
    assert "Page not found" in answer.text or method == "GET"


@pytest.mark.parametrize(
    ("visitor", "path"),
    [
        (None, "/chat/log?after={bad}"),
        ("editor", "/staff/translations?page={bad}"),
        ("admin", "/staff/access?before={bad}"),
    ],
)
def test_ids_in_queries_are_refused_not_a_server_error(
    postgres_portal: TestClient[Any], visitor: str | None, path: str
) -> None:
    portal = postgres_portal
    if visitor is not None:
        sign_in_as(portal, visitor, "/staff", staff=True)
    for bad in BAD_IDS:
        answer = portal.get(path.format(bad=bad), follow_redirects=False)
        assert answer.status_code < 500, (path, bad)
