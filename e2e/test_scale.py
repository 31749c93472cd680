"""The several-replica run, small (`make scale-test` runs the big one): 2 portals behind HAProxy,
2 outbox workers and 2 Rasa servers, while a worker, a portal and a Rasa server are each killed
at least once and the departments fail in turn. Nothing may be lost, sent twice or answered out
of order, and everything sent must be there."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from conftest import ROOT


# The run's own budget (its --deadline, and the 900 s it is given to end), not the suites' 120 s:
# beside the other suite (make test) it once took longer than 120 s.
@pytest.mark.timeout(900)
def test_two_of_everything_lose_and_repeat_nothing_while_processes_are_killed() -> None:
    run = subprocess.run(
        [
            *(sys.executable, "scripts/scale_test.py"),
            *("--applications", "12", "--texts", "25"),
            *("--kill-every", "5", "--fault-seconds", "4", "--deadline", "300"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    output = run.stdout
    assert run.returncode == 0, output + run.stderr[-3000:]
    figures = dict(re.findall(r"^(.+?)\s{2,}(.+)$", output, re.MULTILINE))
    kills = figures["kills"]
    assert all(f"'{kind}'" in kills for kind in ("worker", "portal", "rasa")), kills
    assert figures["applications in database"] == "12"
    assert figures["department requests"] == "60"  # five departments each
    assert figures["texts taken in"] == "25"
    assert int(figures["replies written"]) >= 25
    for line in ("LOST", "DUPLICATED", "OUT OF ORDER", "lost", "duplicated cases"):
        assert figures[line] == "0", (line, output)
    assert re.fullmatch(r"\{'done': \d+\}", figures["outbox by status"]), output
