"""One JSON log line per request with its id; errors logged with the trace, never shown."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support import give_feedback


def _lines(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def test_each_request_is_one_json_line_with_its_id(
    capsys: pytest.CaptureFixture[str], web: Any
) -> None:
    capsys.readouterr()
    response = web.get("/cookies", headers={"x-request-id": "trace-0000-1111"})
    [line] = [item for item in _lines(capsys.readouterr().out) if item.get("path") == "/cookies"]
    assert line["request_id"] == "trace-0000-1111" == response.headers["x-request-id"]
    assert line["status"] == 200 and line["event"] == "request" and "duration_ms" in line


def test_a_server_error_is_logged_with_its_trace(
    portal_factory: Any, fresh_database: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    portal = portal_factory(database_url=fresh_database("sqlite"))
    response = give_feedback(portal, "/")
    [error] = [
        item for item in _lines(capsys.readouterr().out) if item["event"] == "unhandled_error"
    ]
    assert error["request_id"] == response.headers["x-request-id"]
    assert "no such table" in json.dumps(error["exception"])  # the database is not migrated
    assert '"locals"' not in json.dumps(error["exception"])  # no tokens or session ids in logs
