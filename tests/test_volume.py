"""scripts/volume.py, small: what it loads is what the portal would have written (valid references,
every row's parent there, names folded as the model folds them, sequences past the ids), with
the distribution the benchmark relies on (most citizens with 0 to 3 applications, some with 50)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator

import psycopg
import pytest

from conftest import POSTGRES_URL, ROOT
from portal.applications.references import parse_reference
from portal.i18n.folding import fold

# One xdist process runs this module: the small city is loaded once, not once per xdist process.
pytestmark = pytest.mark.xdist_group("volume")

SERVER = POSTGRES_URL.rsplit("/", 1)[0]


@pytest.fixture(scope="module")
def volume() -> Iterator[psycopg.Connection]:
    name = f"frontdoor_volume_test_{uuid.uuid4().hex[:8]}"
    subprocess.run(
        [sys.executable, "scripts/volume.py", "--scale", "0.002", "--database", name],
        cwd=ROOT,
        env={**os.environ},
        check=True,
        capture_output=True,
        timeout=300,
    ).check_returncode()
    conninfo = f"{SERVER.replace('+psycopg', '')}/{name}"
    with psycopg.connect(conninfo) as connection:
        yield connection
    with psycopg.connect(f"{SERVER.replace('+psycopg', '')}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _one(connection: psycopg.Connection, query: str) -> int:
    row = connection.execute(query).fetchone()
    assert row is not None
    return int(row[0])


def test_it_loads_the_counts_asked_for(volume: psycopg.Connection) -> None:
    counts = {
        table: _one(volume, f"SELECT count(*) FROM {table}")
        for table in ("citizens", "applications", "drafts", "chat_messages", "payments")
    }
    assert counts == {
        "citizens": 2_000,
        "applications": 4_000,
        "drafts": 4_000,
        "chat_messages": 10_000,
        "payments": 1_000,
    }
    events = _one(volume, "SELECT count(*) FROM timeline_events")
    assert 38_000 <= events <= 42_000  # ten an application, on average


def test_every_row_has_its_parent(volume: psycopg.Connection) -> None:
    orphans = {
        "applications": "SELECT count(*) FROM applications a LEFT JOIN citizens c "
        "ON c.id = a.citizen_id WHERE c.id IS NULL",
        "drafts": "SELECT count(*) FROM applications a LEFT JOIN drafts d ON d.id = a.draft_id "
        "WHERE d.id IS NULL OR d.citizen_id <> a.citizen_id",
        "events": "SELECT count(*) FROM timeline_events e LEFT JOIN applications a "
        "ON a.id = e.application_id WHERE a.id IS NULL",
        "requests": "SELECT count(*) FROM department_requests r LEFT JOIN applications a "
        "ON a.id = r.application_id WHERE a.id IS NULL",
        "messages": "SELECT count(*) FROM chat_messages m LEFT JOIN conversations c "
        "ON c.id = m.conversation_id WHERE c.id IS NULL",
        "payments": "SELECT count(*) FROM payments p LEFT JOIN applications a "
        "ON a.id = p.application_id WHERE a.id IS NULL OR a.citizen_id <> p.citizen_id",
    }
    assert {name: _one(volume, query) for name, query in orphans.items()} == dict.fromkeys(
        orphans, 0
    )


def test_references_names_and_sequences_are_as_the_portal_makes_them(
    volume: psycopg.Connection,
) -> None:
    references = [row[0] for row in volume.execute("SELECT reference FROM applications")]
    assert all(parse_reference(reference) == reference for reference in references)
    names = volume.execute("SELECT name, name_folded FROM citizens").fetchall()
    assert all(folded == fold(name) for name, folded in names)
    assert any(name != folded for name, folded in names)  # accents and capitals were there
    new = volume.execute(
        "INSERT INTO citizens (public_id, issuer, subject, name, language, created_at, "
        "sessions_valid_after) VALUES ('c_new', 'https://x', 'new', 'New', 'en', now(), now()) "
        "RETURNING id"
    ).fetchone()
    assert new is not None and new[0] > 2_000
    volume.rollback()


def test_most_citizens_have_up_to_three_applications_and_some_fifty(
    volume: psycopg.Connection,
) -> None:
    per_citizen = Counter(
        count
        for (count,) in volume.execute(
            "SELECT count(a.id) FROM citizens c LEFT JOIN applications a ON a.citizen_id = c.id "
            "GROUP BY c.id"
        )
    )
    up_to_three = sum(per_citizen[n] for n in range(4))
    assert up_to_three / sum(per_citizen.values()) > 0.8
    assert per_citizen[50] >= 20  # one in a hundred at this size
