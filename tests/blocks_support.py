"""The test-only services of the building blocks (tests/blocks_services), in a catalogue beside
the real departments and topics, for the portal to load as if they were the city's."""

from __future__ import annotations

import shutil
from pathlib import Path

from portal.settings import ROOT

DEFINITIONS = ROOT / "portal" / "catalogue" / "definitions"
BLOCKS = Path(__file__).resolve().parent / "blocks_services"


def blocks_catalogue(target: Path) -> Path:
    """A catalogue folder holding the real departments, topics and links and only the test
    services; returns it."""
    target.mkdir(parents=True, exist_ok=True)
    for name in ("departments.yaml", "topics.yaml", "links.yaml"):
        if (DEFINITIONS / name).exists():
            shutil.copy(DEFINITIONS / name, target / name)
    services = target / "services"
    services.mkdir(exist_ok=True)
    for path in BLOCKS.glob("*.yaml"):
        shutil.copy(path, services / path.name)
    return target
