"""The import graph matches docs/architecture.md: every module lives in a named part, imports
only the parts its row allows, and no modules import each other in a cycle."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "ingest"
ARCHITECTURE = ROOT / "docs" / "architecture.md"


def _parts() -> dict[str, tuple[list[str], set[str]]]:
    """part -> (where, may use), from the table in docs/architecture.md."""
    parts = {}
    for line in ARCHITECTURE.read_text("utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 4 and re.fullmatch(r"`[a-z_]+`", cells[0]):
            where = re.findall(r"`([^`]+)`", cells[1])
            parts[cells[0].strip("`")] = (where, {name.strip() for name in cells[3].split(",") if name.strip()})
    return parts


PARTS = _parts()


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def _part_of(module: str) -> str | None:
    """The part whose `where` holds the module, the most specific place first."""
    path = module.replace(".", "/")
    best: tuple[int, str] | None = None
    for part, (where, _) in PARTS.items():
        for place in where:
            if place.endswith(".py"):  # one module
                stem, holds = place.removesuffix(".py").removesuffix("/__init__"), path == place.removesuffix(".py")
                holds = holds or path == stem
            else:  # a folder
                stem = place.removesuffix("/")
                holds = path == stem or path.startswith(stem + "/")
            if holds and (best is None or len(stem) > best[0]):
                best = (len(stem), part)
    return best[1] if best else None


def _imports(path: Path, top_level_only: bool = False) -> set[str]:
    """The ingest modules a file imports (`from ingest import x` names module x when it is one)."""
    tree = ast.parse(path.read_text("utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                found.add(candidate if candidate in MODULES else node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name == "ingest" or name.startswith("ingest.")}


MODULES = {_module_name(path): path for path in PACKAGE.rglob("*.py")}


def test_the_table_is_read() -> None:
    assert {"cli", "run", "load", "formats", "store", "canon"} <= set(PARTS)
    assert PARTS["formats"][1] == {"inputs", "canon", "errors", "ingest"}


def test_every_module_lives_in_a_part() -> None:
    assert sorted(name for name in MODULES if _part_of(name) is None) == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_only_what_its_part_may_use(module: str) -> None:
    part = _part_of(module)
    assert part is not None
    allowed = PARTS[part][1] | {part}
    wrong = sorted(f"{name} ({_part_of(name)})" for name in _imports(MODULES[module]) if _part_of(name) not in allowed)
    assert wrong == [], f"{module} is in part {part!r}, which may use {sorted(allowed)}"


def test_the_drawing_has_no_cycle() -> None:
    """The parts' allowed imports form layers: following them never comes back."""
    seen: dict[str, int] = {}

    def depth(part: str, path: tuple[str, ...]) -> int:
        assert part not in path, f"cycle: {' -> '.join((*path, part))}"
        if part not in seen:
            seen[part] = 1 + max((depth(used, (*path, part)) for used in PARTS[part][1]), default=0)
        return seen[part]

    for part in PARTS:
        depth(part, ())


def test_modules_import_each_other_in_no_cycle() -> None:
    """Top-level imports only: an import inside a function is how a cycle is broken on purpose."""
    graph = {
        name: {imported for imported in _imports(path, top_level_only=True) if imported in MODULES}
        for name, path in MODULES.items()
    }
    state: dict[str, str] = {}

    def visit(module: str, path: tuple[str, ...]) -> None:
        if state.get(module) == "done":
            return
        assert state.get(module) != "open", f"import cycle: {' -> '.join((*path, module))}"
        state[module] = "open"
        for imported in sorted(graph[module]):
            if imported != module and not module.startswith(imported + "."):
                visit(imported, (*path, module))
        state[module] = "done"

    for module in sorted(graph):
        visit(module, ())


def test_the_cli_runs_no_sql() -> None:
    """The face parses, calls the library and prints: no `execute(` and no `.sql(` in it."""
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in (PACKAGE / "cli").rglob("*.py")
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1)
        if re.search(r"\.(execute|sql|executemany)\(", line)
    ]
    assert found == []


def test_command_modules_are_small() -> None:
    sizes = {
        str(path.relative_to(ROOT)): len(path.read_text("utf-8").splitlines())
        for path in (PACKAGE / "cli").rglob("*.py")
    }
    assert {name: size for name, size in sizes.items() if size > 250} == {}
