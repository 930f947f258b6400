"""The house rules of docs/architecture.md, checked on the source: which package may import
which, no import circles, no oversized modules, and every ``"module:attr"`` string the code
registers (blueprints, commands, build steps, listeners) names something that exists."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "publisher"
BASICS = {
    "items",
    "item_input",
    "item_fields",
    "areas",
    "area_names",
    "population",
    "toml_fields",
    "hours",
    "config",
    "errors",
    "files",
    "net",
    "timetable",
    "alert_templates",
}
STAGES_BELOW_THE_EDGES = {"runtime", "store", "plan", "render", "collect", "deliver"}
# What each part of publisher/ may import, besides itself (docs/architecture.md, "Layers").
MAY_IMPORT: dict[str, set[str]] = {
    **{basic: BASICS for basic in BASICS},
    "store": BASICS,
    "plan": BASICS,
    "render": BASICS | {"plan"},
    "runtime": BASICS | {"store"},
    "collect": BASICS | {"runtime", "store"},
    "deliver": BASICS | {"runtime", "store", "plan", "render"},
    "schedule": BASICS | STAGES_BELOW_THE_EDGES,
    "pipeline": BASICS | STAGES_BELOW_THE_EDGES,
    "web": BASICS | STAGES_BELOW_THE_EDGES,
    "cli": BASICS | STAGES_BELOW_THE_EDGES | {"schedule", "pipeline", "web"},
    "__main__": {"cli"},
}
MAX_MODULE_LINES = 500
REGISTERED = re.compile(r"^(publisher(?:\.\w+)+):(\w+)$")


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        if "migrations" in rel.parts:
            continue
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _imports(name: str, path: Path, modules: set[str]) -> set[str]:
    """The publisher modules ``name`` imports, anywhere in it (lazy imports count too)."""
    is_package = path.name == "__init__.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                here = name.split(".") if is_package else name.split(".")[:-1]
                here = here[: len(here) - node.level + 1]
                base = ".".join([*here, base] if base else here)
            targets = [base] + [f"{base}.{a.name}" for a in node.names]
        found.update(t for t in targets if t in modules and t != name)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, set(modules)) for name, path in modules.items()}


def _part(module: str) -> str:
    """``publisher.store.content`` → ``store``; ``publisher.items`` → ``items``."""
    return module.split(".")[1] if "." in module else ""


def test_each_part_imports_only_the_layers_below_it():
    wrong = []
    for module, deps in _graph().items():
        part = _part(module)
        if not part:
            continue
        allowed = MAY_IMPORT.get(part)
        assert allowed is not None, f"{module}: '{part}' is not in docs/architecture.md's layers"
        for dep in sorted(deps):
            dep_part = _part(dep)
            if dep_part and dep_part != part and dep_part not in allowed:
                wrong.append(f"{module} imports {dep} ({part} may not import {dep_part})")
    assert wrong == []


def test_no_import_circles():
    graph = _graph()
    circles, state = [], dict.fromkeys(graph, 0)  # 0 new, 1 on the path, 2 done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for dep in sorted(graph[module]):
            if state[dep] == 1:
                circles.append(" → ".join([*path[path.index(dep) :], dep]))
            elif state[dep] == 0:
                visit(dep, [*path, dep])
        state[module] = 2

    for module in graph:
        if state[module] == 0:
            visit(module, [module])
    assert circles == []


def test_no_module_is_too_long_to_read():
    long = {
        name: n
        for name, path in _modules().items()
        if (n := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


def test_every_package_states_its_contract():
    for name, path in _modules().items():
        if path.name == "__init__.py" and name != "publisher":
            doc = ast.get_docstring(ast.parse(path.read_text()))
            assert doc and len(doc) > 80, f"{name} has no docstring saying what it is for"


def test_registered_names_exist():
    """``"publisher.web.api:bp"`` and the like are imports in disguise: a move must not break them."""
    seen = 0
    for path in _modules().values():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                m = REGISTERED.match(node.value)
                if m:
                    seen += 1
                    module = importlib.import_module(m.group(1))
                    assert hasattr(module, m.group(2)), f"{path.name}: {node.value} does not exist"
    assert seen >= 5  # blueprints, build steps, listeners, lazy stages
