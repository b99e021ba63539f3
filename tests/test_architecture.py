"""The folder tree is the architecture: ``docs/architecture.md``'s table of packages holds,
and so do its rules (module size, private names, circles, no Streamlit in ``pipeline``).

Imports are read from the source with :mod:`ast`, inside functions too; only those under
``if TYPE_CHECKING:`` are left out (type hints, never run).
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCE_FOLDERS = ("pipeline", "ui", "app_pages")
MAX_MODULE_LINES = 500
TABLE_ROW = re.compile(r"^\| `pipeline/(\w+)/` \| [^|]+ \| ([^|]*) \|$")
UI_TABLE_ROW = re.compile(r"^\| `ui/(\w+)/` \| [^|]+ \| ([^|]*) \|$")


@dataclass(frozen=True)
class Import:
    """``importer`` imports ``name`` (a module, or ``module.name`` for ``from module import
    name``) at ``line``."""

    importer: str
    module: str
    name: str | None
    line: int


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def _modules() -> dict[str, Path]:
    return {
        _module_name(path): path
        for folder in SOURCE_FOLDERS
        for path in sorted((ROOT / folder).rglob("*.py"))
    }


@cache
def _imports() -> tuple[Import, ...]:
    found = []
    for module, path in _modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        type_only = {
            id(inner)
            for node in ast.walk(tree)
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
            for inner in ast.walk(node)
        }
        for node in ast.walk(tree):
            if id(node) in type_only:
                continue
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found += [Import(module, node.module, a.name, node.lineno) for a in node.names]
            elif isinstance(node, ast.Import):
                found += [Import(module, a.name, None, node.lineno) for a in node.names]
    return tuple(found)


def _target_module(found: Import) -> str | None:
    """The module of ours that ``found`` loads (``from pkg import module`` loads
    ``pkg.module``), or None for a third-party import."""
    modules = _modules()
    if found.name and f"{found.module}.{found.name}" in modules:
        return f"{found.module}.{found.name}"
    return found.module if found.module in modules else None


def _package(module: str) -> str | None:
    """``pipeline.runs.registry`` -> ``runs``; None outside a ``pipeline`` package."""
    parts = module.split(".")
    if parts[0] != "pipeline" or len(parts) < 2:
        return None
    return parts[1] if (ROOT / "pipeline" / parts[1]).is_dir() else None


def _documented_packages() -> dict[str, set[str]]:
    table = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    allowed = {}
    for line in table.splitlines():
        match = TABLE_ROW.match(line.strip())
        if match:
            package, imports = match.groups()
            allowed[package] = {word for word in re.findall(r"\w+", imports) if word != "nothing"}
    return allowed


def test_the_documented_packages_are_the_tree() -> None:
    tree = {
        path.parent.name
        for path in (ROOT / "pipeline").glob("*/__init__.py")
        if path.parent.name != "__pycache__"
    }
    assert set(_documented_packages()) == tree


def test_every_import_between_packages_is_one_the_table_allows() -> None:
    allowed = _documented_packages()
    wrong = defaultdict(list)
    for found in _imports():
        source, target = _package(found.importer), _target_module(found)
        target_package = _package(target) if target else None
        crosses = source and target_package and target_package != source
        if crosses and target_package not in allowed[source]:
            wrong[f"{source} -> {target_package}"].append(f"{found.importer}:{found.line}")
    assert not wrong, dict(wrong)


def test_pipeline_never_imports_the_app() -> None:
    upward = [
        f"{found.importer}:{found.line} imports {found.module}"
        for found in _imports()
        if found.importer.startswith("pipeline")
        and found.module.split(".")[0] in {"streamlit", "ui", "app_pages"}
    ]
    assert not upward


def _ui_package(module: str) -> str | None:
    """``ui.views.results`` -> ``views``; None outside a ``ui`` package."""
    parts = module.split(".")
    if parts[0] != "ui" or len(parts) < 2:
        return None
    return parts[1] if (ROOT / "ui" / parts[1]).is_dir() else None


def _documented_ui_packages() -> dict[str, set[str]]:
    """The ``ui/`` table of ``docs/architecture.md``: package -> the ui packages it may import."""
    table = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    allowed = {}
    for line in table.splitlines():
        match = UI_TABLE_ROW.match(line.strip())
        if match:
            package, imports = match.groups()
            allowed[package] = {word for word in re.findall(r"\w+", imports) if word != "nothing"}
    return allowed


def test_the_documented_ui_packages_are_the_tree() -> None:
    tree = {path.parent.name for path in (ROOT / "ui").glob("*/__init__.py")}
    assert set(_documented_ui_packages()) == tree
    assert not sorted((ROOT / "ui").glob("*.py")), "every ui module lives in a package"


def test_every_import_between_ui_packages_is_one_the_table_allows() -> None:
    allowed = _documented_ui_packages()
    wrong = defaultdict(list)
    for found in _imports():
        source, target = _ui_package(found.importer), _target_module(found)
        target_package = _ui_package(target) if target else None
        crosses = source and target_package and target_package != source
        if crosses and target_package not in allowed[source]:
            wrong[f"{source} -> {target_package}"].append(f"{found.importer}:{found.line}")
    assert not wrong, dict(wrong)


def test_ui_package_files_import_nothing() -> None:
    """A ``ui`` package's ``__init__`` stays empty: importing ``ui.figures.data`` (the Data
    page) must not load plotly, nor ``ui.views.train_progress`` (the Train page) pandas."""
    importing = [
        f"{found.importer}:{found.line}"
        for found in _imports()
        if _ui_package(found.importer) and found.importer.count(".") == 1
    ]
    assert not importing


@pytest.mark.parametrize("folder", SOURCE_FOLDERS)
def test_no_module_is_over_the_limit(folder: str) -> None:
    long_modules = {
        module: lines
        for module, path in _modules().items()
        if module.split(".")[0] == folder
        and (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert not long_modules


def test_no_private_name_crosses_a_module() -> None:
    private = [
        f"{found.importer}:{found.line} imports {found.module}.{found.name}"
        for found in _imports()
        if found.name
        and found.name.startswith("_")
        and not found.name.startswith("__")
        and _target_module(found) == found.module
        and found.module != found.importer
    ]
    assert not private


def test_no_import_circle() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for found in _imports():
        target = _target_module(found)
        if target and target != found.importer:
            graph[found.importer].add(target)
    circles = [component for component in _strongly_connected(graph) if len(component) > 1]
    assert not circles


def _strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iteratively: the graph's strongly connected components."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    for start in list(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(component)
    return components


def test_the_circle_finder_finds_a_circle() -> None:
    """The check above could pass by finding nothing: it must find a planted circle."""
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert sorted(map(sorted, _strongly_connected(graph))) == [["a", "b", "c"], ["d"]]
