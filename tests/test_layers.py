"""The portal's structure: features never import a composition root, and no two feature folders
import each other, directly or round a loop. Imports inside functions count too: a loop hidden
in a function is still a loop."""

from __future__ import annotations

import ast
from collections import defaultdict
from itertools import pairwise
from pathlib import Path

PORTAL = Path(__file__).resolve().parent.parent / "portal"

# Where the parts are put together; they may import anything, and nothing imports them.
ROOTS = {"app", "asgi", "__main__", "worker", "models", "database/migrations"}


def unit(path: Path) -> str:
    """A module's folder under portal/ (a top-level module is its own unit)."""
    parts = path.relative_to(PORTAL).parts
    if parts[:2] == ("database", "migrations"):
        return "database/migrations"
    return parts[0] if len(parts) > 1 else parts[0].removesuffix(".py")


def imported(path: Path) -> list[tuple[str, int]]:
    """(unit, line) of every portal module this file imports."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
            if node.module == "portal":  # `from portal import app`
                names = [f"portal.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "portal" and len(parts) > 1:
                target = (
                    "database/migrations" if parts[1:3] == ["database", "migrations"] else parts[1]
                )
                found.append((target, node.lineno))
    return found


def graph() -> dict[str, dict[str, list[str]]]:
    """unit -> imported unit -> where ("file:line")."""
    edges: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for path in sorted(PORTAL.rglob("*.py")):
        source = unit(path)
        for target, line in imported(path):
            if target != source:
                edges[source][target].append(f"{path.relative_to(PORTAL.parent)}:{line}")
    return edges


def cycle(edges: dict[str, dict[str, list[str]]]) -> list[str]:
    """One loop among the units that are not roots, or []."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for target in sorted(edges.get(node, {})):
            if target in ROOTS:
                continue
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (found := visit(target)):
                return found
        path.pop()
        state[node] = 2
        return []

    for node in sorted(edges):
        if node not in ROOTS and node not in state and (found := visit(node)):
            return found
    return []


def test_no_feature_imports_a_composition_root() -> None:
    edges = graph()
    wrong = [
        f"{source} imports {target} at {', '.join(where)}"
        for source, targets in edges.items()
        if source not in ROOTS
        for target, where in targets.items()
        if target in ROOTS and not (source == "database" and target == "database/migrations")
    ]
    assert wrong == []


def test_feature_folders_import_each_other_in_one_direction_only() -> None:
    edges = graph()
    loop = cycle(edges)
    where = [f"{a} -> {b}: {', '.join(edges[a][b][:3])}" for a, b in pairwise(loop)]
    assert loop == [], "import loop:\n" + "\n".join(where)


def test_the_check_finds_a_loop_when_there_is_one() -> None:
    """The check itself: two folders importing each other are found, roots are left out."""
    edges = {"a": {"b": ["x"]}, "b": {"a": ["y"], "app": ["z"]}, "app": {"a": ["w"]}}
    assert cycle(edges) == ["a", "b", "a"]
    assert cycle({"a": {"b": ["x"]}, "b": {"app": ["z"]}, "app": {"a": ["w"]}}) == []


def test_backend_clients_import_nothing_from_the_portal() -> None:
    clients = PORTAL.parent / "backend_clients"
    wrong = [
        f"{path.relative_to(clients.parent)}"
        for path in clients.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ImportFrom | ast.Import)
        and any(
            name.split(".")[0] == "portal"
            for name in (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
            )
        )
    ]
    assert wrong == []


# Routes take the portal's services as Litestar dependencies (`audit: NamedDependency[AuditLog]`,
# portal/shared/deps.py and each folder's deps.py) instead of reading `request.app.state`.
# Reads left, each in a helper that many routes reach through deep call chains (file: how many).
LEFT = {
    "portal/web/sessions.py": 1,  # the session middleware's own configuration
    "portal/web/csrf.py": 1,  # the CSRF check's own configuration
    "portal/web/static.py": 1,  # the static files' manifest
    "portal/catalogue/__init__.py": 1,  # catalogue_of: the live catalogue every page reads
    "portal/design/notice.py": 2,  # the English-fallback notice, read by the base template
    "portal/shared/backends.py": 1,  # backends_of, for helpers called from many routes
    "portal/shared/acting.py": 1,  # record_step: every journey page an agent fills
    "portal/identity/oidc_flow.py": 1,  # finish(), shared by citizens' and staff sign-in
    "portal/identity/service.py": 1,  # current_citizen(request, db), called everywhere
    "portal/staff/service.py": 3,  # the staff guards (require_role) and sign-in
    "portal/staff/routes.py": 3,  # the staff identity provider's client (no provider yet)
    "portal/translations/routes.py": 2,  # the messages read from locales/, preview links
    "portal/design/routes.py": 1,  # the audit log for the designers' store helpers
    "portal/payments/routes.py": 4,  # starting and refreshing payments, reached from journeys
    "portal/applications/submit.py": 1,  # submit_draft, reached from journeys and the bot
}


def app_state_reads(path: Path) -> list[int]:
    """Lines where `<something>.app.state` is read: `request.app.state.audit`,
    `turn.request.app.state.twilio`, `getattr(request.app, "state")` aside."""
    return sorted(
        node.lineno
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Attribute)
        and node.attr == "state"
        and isinstance(node.value, ast.Attribute)
        and node.value.attr == "app"
    )


def test_routes_take_services_as_dependencies() -> None:
    wrong = [
        f"{name}:{lines}"
        for path in sorted(PORTAL.rglob("*.py"))
        if path.name != "deps.py" and path != PORTAL / "app.py"
        if (lines := app_state_reads(path))
        and len(lines) > LEFT.get(name := str(path.relative_to(PORTAL.parent)), 0)
    ]
    assert wrong == [], "read request.app.state; name a dependency instead:\n" + "\n".join(wrong)


def test_the_check_finds_an_app_state_read(tmp_path: Path) -> None:
    module = tmp_path / "routes.py"
    module.write_text("async def f(request):\n    return request.app.state.audit\n")
    assert app_state_reads(module) == [2]
    module.write_text("def provide(state):\n    return state.audit\n")
    assert app_state_reads(module) == []
