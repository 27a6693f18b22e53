"""The house's rules, read from the code: no import cycle among dsr's modules, nothing below
the blueprints imports one, and the generic parts (engine, collection, jobs) neither hide
imports inside functions nor name a trigger or a request type."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "dsr"
BLUEPRINTS = ("dsr.portal", "dsr.console", "dsr.legal", "dsr.api", "dsr.auth.views",
              "dsr.notify.views")
GENERIC = ("dsr.engine", "dsr.collection", "dsr.jobs")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts}


def imported(node: ast.Import | ast.ImportFrom) -> set[str]:
    """The dsr modules an import statement loads."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names if alias.name in MODULES}
    if node.module is None or not node.module.startswith("dsr"):
        return set()
    found = {node.module} if node.module in MODULES else set()
    found |= {f"{node.module}.{a.name}" for a in node.names
              if f"{node.module}.{a.name}" in MODULES}
    return found


def top_level_imports(name: str) -> set[str]:
    """What a module imports when it is loaded (not inside functions, not for types only)."""
    tree = ast.parse(MODULES[name].read_text())
    found: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            found |= imported(node)
    return found - {name}


GRAPH = {name: top_level_imports(name) for name in MODULES}


def within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def test_no_module_of_dsr_is_in_an_import_cycle() -> None:
    seen: dict[str, int] = {}  # 1: on the current path, 2: done
    cycles: list[list[str]] = []

    def visit(name: str, path: list[str]) -> None:
        seen[name] = 1
        for target in sorted(GRAPH[name]):
            # A package imports its own submodules' names; a submodule importing its package
            # is the usual direction, not a cycle of the house.
            if seen.get(target) == 1:
                cycles.append([*path[path.index(target):], target])
            elif target not in seen:
                visit(target, [*path, target])
        seen[name] = 2

    for name in sorted(GRAPH):
        if name not in seen:
            visit(name, [name])
    assert cycles == []


def test_nothing_below_the_blueprints_imports_one() -> None:
    offenders = sorted(
        f"{name} -> {target}" for name, targets in GRAPH.items() for target in targets
        if within(target, BLUEPRINTS) and not within(name, BLUEPRINTS) and name != "dsr")
    assert offenders == []


@pytest.mark.parametrize("package", GENERIC)
def test_generic_code_knows_no_workflow_and_hides_no_import(package: str) -> None:
    for name, path in MODULES.items():
        if not within(name, (package,)):
            continue
        source = path.read_text()
        assert not re.findall(r'trigger ==|\.type == "', source), name
        assert not re.findall(r"^[ \t]+from dsr", source, re.M), name
