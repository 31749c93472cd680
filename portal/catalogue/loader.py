"""Reads the catalogue (departments, topics, one YAML file per service) and checks it whole.

A mistake stops the portal at start with the file and the field named, never later in front of
a citizen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from portal.catalogue import yaml_text
from portal.catalogue.check import Known, check_definition
from portal.catalogue.models import Department, Entry, Link, Service, Topic
from portal.stamps import Stamps, stamps_of

Model = TypeVar("Model", bound=BaseModel)


class CatalogueError(ValueError):
    """A definition file is missing, is not YAML, or does not match the schema."""


@dataclass(frozen=True)
class Catalogue:
    services: dict[str, Service]
    departments: dict[str, Department]
    topics: dict[str, Topic]
    links: dict[str, Link] = field(default_factory=dict)
    # From the database (portal.design.live): every readable version of every service, the
    # number of the version served, the services retired, each version's English fallbacks.
    versions: dict[tuple[str, int], Service] = field(default_factory=dict)
    numbers: dict[str, int] = field(default_factory=dict)
    retired: frozenset[str] = frozenset()
    fallbacks: dict[tuple[str, int], tuple[str, ...]] = field(default_factory=dict)

    def version(self, service_id: str, number: int | None) -> Service | None:
        """Version `number` of a service (published, or a draft for its preview); None: the one
        served. The repository's files alone (no database yet) are every version."""
        if number is None or not self.versions:
            return self.services.get(service_id)
        return self.versions.get((service_id, number))

    def number_of(self, service_id: str) -> int | None:
        """The number of the version served, if the database knows it."""
        return self.numbers.get(service_id)

    def entries(self) -> list[Entry]:
        """The services, then the pages that are not journeys."""
        return [*self.services.values(), *self.links.values()]

    def in_topic(self, topic: str) -> list[Entry]:
        return [entry for entry in self.entries() if entry.topic == topic]

    def certifies(self, department: str) -> bool:
        """Whether the department's work ends with a certificate (else with its decision)."""
        known = self.departments.get(department)
        return bool(known and known.issues_certificate)


def _read(path: Path) -> Any:
    try:
        return yaml_text.load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise CatalogueError(f"{path}: cannot be read as YAML: {error}") from error


def _where(location: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in location) or "(the whole file)"


def _validate(model: type[Model], data: Any, path: Path, prefix: str = "") -> Model:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{prefix}{_where(item['loc'])}: {item['msg']}" for item in error.errors()
        )
        raise CatalogueError(f"{path}: {problems}") from None


def _listed(model: type[Model], path: Path) -> dict[str, Model]:
    data = _read(path)
    if not isinstance(data, list):
        raise CatalogueError(f"{path}: expected a list of entries")
    items = [_validate(model, item, path, prefix=f"{index}.") for index, item in enumerate(data)]
    return {item.id: item for item in items}  # type: ignore[attr-defined]


def load_catalogue(directory: Path) -> Catalogue:
    """Load and cross-check every definition under `directory`, once per version of its files
    (portal/stamps.py): nothing changes a Catalogue once loaded (the live catalogue is a
    new one made from it, portal/design/live.py)."""
    files = [directory / "departments.yaml", directory / "topics.yaml"]
    files += sorted((directory / "services").glob("*.yaml"))
    links = directory / "links.yaml"
    try:
        stamps = stamps_of([*files, *([links] if links.exists() else [])])
    except OSError:
        return _load(directory)  # which file is missing is said there
    return _loaded(directory, stamps)


@lru_cache(maxsize=8)
def _loaded(directory: Path, stamps: Stamps) -> Catalogue:
    """`stamps` only keys the cache."""
    return _load(directory)


def _load(directory: Path) -> Catalogue:
    departments = _listed(Department, directory / "departments.yaml")
    topics = _listed(Topic, directory / "topics.yaml")
    services: dict[str, Service] = {}
    known = Known(departments, topics)
    for path in sorted((directory / "services").glob("*.yaml")):
        try:
            source = path.read_text(encoding="utf-8")
        except OSError as error:
            raise CatalogueError(f"{path}: cannot be read: {error}") from error
        result = check_definition(source, known, file_name=path.stem)
        if result.service is None:
            raise CatalogueError(
                "; ".join(
                    f"{path}:{problem.line or 1}: {problem.path or '(file)'}: {problem.message}"
                    for problem in result.problems
                )
            )
        service = result.service
        services[service.id] = service
    if not services:
        raise CatalogueError(f"{directory / 'services'}: no service definitions found")
    links = _links(directory / "links.yaml", topics, services)
    return Catalogue(services=services, departments=departments, topics=topics, links=links)


def _links(path: Path, topics: dict[str, Topic], services: dict[str, Service]) -> dict[str, Link]:
    """The pages that are not journeys (optional file), each in a known topic, none named like a
    service."""
    if not path.exists():
        return {}
    links = _listed(Link, path)
    for index, link in enumerate(links.values()):
        if link.topic not in topics:
            raise CatalogueError(f"{path}: {index}.topic: unknown topic {link.topic!r}")
        if link.id in services:
            raise CatalogueError(f"{path}: {index}.id: {link.id!r} is already a service")
    return links
