"""Reading service definitions: with libyaml's parser when PyYAML was built with it (several
times faster than the pure-Python one; a worker reads every definition when it starts)."""

from __future__ import annotations

from typing import Any

import yaml

LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load(source: str) -> Any:
    """The data of one YAML document (safe: plain types only)."""
    return yaml.load(source, Loader=LOADER)  # noqa: S506  (a safe loader)


def compose(source: str) -> yaml.Node | None:
    """Its node tree, for line numbers."""
    return yaml.compose(source, Loader=LOADER)
