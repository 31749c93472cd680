"""The one check of a service definition: every problem at once, with its line, its place and
what to do; the same from the command line, and the format published as JSON Schema."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from portal.catalogue.check import Known, check_definition, schema
from portal.catalogue.loader import CatalogueError, load_catalogue
from portal.settings import ROOT

DEFINITIONS = ROOT / "portal" / "catalogue" / "definitions"
CATALOGUE = load_catalogue(DEFINITIONS)
KNOWN = Known(CATALOGUE.departments, CATALOGUE.topics)

BROKEN = """\
id: dog-walk
topic: streets
title: Register a dog walker
summary: Register as a professional dog walker.
duration: 2 weeks
cost: Free
declaration: I confirm this is true.
what_happens_next: We check your details.
steps:
  - id: name
    fields:
      - id: walker_name
        type: text
        label: Your name
  - id: dogs
    fields:
      - id: dog_count
        type: number
        lable: How many dogs do you walk at once?
  - id: since
    when: {field: dog_cuont, equals: "3"}
    fields:
      - id: since
        type: text
        label: Since when?
  - id: start
    fields:
      - id: start_date
        type: datee
        label: When do you start?
deliver_to:
  - department: environmnet
"""


def _lines(problems: Any) -> list[str]:
    return [f"{p.line}: {p.path}: {p.message}" for p in problems]


def test_every_problem_at_once_with_its_line_and_what_to_do() -> None:
    result = check_definition(BROKEN, KNOWN)
    assert result.service is None
    found = _lines(result.problems)
    assert (
        "19: steps[1].fields[0].lable: 'lable' is not allowed here; did you mean 'label'?" in found
    )
    assert "17: steps[1].fields[0].label: 'label' is required" in found
    assert "29: steps[3].fields[0].type: 'datee' is not a field type; did you mean 'date'?" in found
    assert (
        "32: deliver_to[0].department: unknown department 'environmnet'; "
        "did you mean 'environment'?" in found
    )


def test_a_condition_on_a_question_nobody_asks_points_at_it() -> None:
    fixed = BROKEN.replace("lable:", "label:").replace("datee", "date")
    fixed = fixed.replace("environmnet", "environment")
    [problem] = check_definition(fixed, KNOWN).problems
    assert problem.line == 21 and "dog_cuont" in problem.message


def test_yaml_that_does_not_parse_names_its_line() -> None:
    [problem] = check_definition("id: x\ntitle: [unclosed\nsummary: y\n").problems
    assert problem.line == 3 and problem.message.startswith("not valid YAML")


def test_a_stray_percent_sign_is_refused_before_it_breaks_a_page() -> None:
    text = (DEFINITIONS / "services" / "dog-licence.yaml").read_text()
    spoiled = text.replace("summary: ", "summary: 25% off. ", 1)
    [problem] = check_definition(spoiled, KNOWN).problems
    assert "per cent" in problem.message and problem.line is not None


@pytest.mark.parametrize("path", sorted((DEFINITIONS / "services").glob("*.yaml")), ids=str)
def test_every_service_of_the_repository_passes(path: Path) -> None:
    result = check_definition(path.read_text(), KNOWN, file_name=path.stem)
    assert result.problems == () and result.service is not None


def test_the_portal_refuses_to_start_with_a_broken_file_and_names_file_and_line(
    tmp_path: Path,
) -> None:
    target = tmp_path / "definitions"
    (target / "services").mkdir(parents=True)
    for name in ("departments.yaml", "topics.yaml"):
        (target / name).write_text((DEFINITIONS / name).read_text())
    (target / "services" / "dog-walk.yaml").write_text(BROKEN)
    with pytest.raises(CatalogueError) as refused:
        load_catalogue(target)
    assert "dog-walk.yaml:29: steps[3].fields[0].type: 'datee' is not a field type" in str(
        refused.value
    )


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "portal", "services", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )


def test_the_command_line_checks_files_offline(tmp_path: Path) -> None:
    broken = tmp_path / "dog-walk.yaml"
    broken.write_text(BROKEN)
    good = DEFINITIONS / "services" / "dog-licence.yaml"
    refused = _cli("check", str(broken), str(good))
    assert refused.returncode == 1
    assert (
        f"{broken}:29: steps[3].fields[0].type: 'datee' is not a field type; did you mean 'date'?"
        in refused.stdout.splitlines()
    )
    assert f"{good}: ok" in refused.stdout.splitlines()
    passed = _cli("check", str(good))
    assert passed.returncode == 0 and passed.stdout.strip() == f"{good}: ok"


def test_the_committed_schema_is_the_models_and_the_portal_serves_it(web: Any) -> None:
    committed = json.loads((DEFINITIONS / "service.schema.json").read_text())
    assert committed == schema(), "run: python -m portal services schema > " + str(
        DEFINITIONS / "service.schema.json"
    )
    assert "datee" not in json.dumps(committed) and "date" in json.dumps(committed)
    served = web.get("/services/schema.json")
    assert served.status_code == 200
    assert served.headers["content-type"].startswith("application/schema+json")
    assert served.json() == committed
