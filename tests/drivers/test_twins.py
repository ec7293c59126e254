"""Simulated twins are wired only by the demo and the tests: no production module imports one.

A twin is a module of `panelpilot.drivers.sim`, or a module under `panelpilot.drivers` whose
name starts with `sim` (`ocpp/simulator.py`, `sunspec/simdevices.py`, ...). Only
`service/demo.py` wires them into the service, and only the command line (`panelpilot demo`,
`run --sim`, `run --twins`) imports the demo's module. Every import counts, at any depth
(inside a function, under TYPE_CHECKING) and through any chain of our own modules.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

SRC = Path(__file__).parents[2] / "src"
WIRING = frozenset({"panelpilot.service.demo"})
ENTRY_POINTS = frozenset({"panelpilot.cli", "panelpilot.__main__"})


def is_entry_point(module: str) -> bool:
    """The command line: `panelpilot.__main__` and every module of the `panelpilot.cli` package."""
    return module in ENTRY_POINTS or module.startswith("panelpilot.cli.")


def is_twin(module: str) -> bool:
    """Whether a module is a simulated twin (by the naming rule above)."""
    parts = module.split(".")
    if parts[:3] == ["panelpilot", "drivers", "sim"]:
        return True
    return parts[:2] == ["panelpilot", "drivers"] and len(parts) > 3 and parts[-1].startswith("sim")


def module_name(path: Path, root: Path) -> str:
    """The dotted name of a source file under `root`."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported(source: str, module: str, is_package: bool, known: Iterable[str]) -> set[str]:
    """Every module of ours that `source` (the text of `module`) imports, with the packages
    whose `__init__` the import runs."""
    names = set(known)
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        for target in targets:
            parts = target.split(".")
            found |= {".".join(parts[:i]) for i in range(1, len(parts) + 1)}
    return {name for name in found if name in names and name != module}


def import_graph(root: Path) -> dict[str, set[str]]:
    """Our modules under `root` and the modules of ours each imports."""
    files = {module_name(p, root): p for p in root.rglob("*.py")}
    return {
        name: imported(path.read_text(), name, path.name == "__init__.py", files)
        for name, path in files.items()
    }


def reached(graph: Mapping[str, set[str]], start: str) -> set[str]:
    """Every module `start` runs by importing, transitively."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        for name in graph.get(todo.pop(), set()) - seen:
            seen.add(name)
            todo.append(name)
    return seen


def violations(graph: Mapping[str, set[str]]) -> list[str]:
    """Each production module that reaches a twin or the wiring, and each entry point that
    imports a twin other than through the wiring."""
    out: list[str] = []
    for module in sorted(graph):
        if is_twin(module) or module in WIRING:
            continue
        if is_entry_point(module):
            direct = sorted(m for m in graph[module] if is_twin(m))
            out += [f"{module} imports the twin {m} (go through {sorted(WIRING)})" for m in direct]
            continue
        bad = sorted(m for m in reached(graph, module) if is_twin(m) or m in WIRING)
        out += [f"{module} reaches {m}" for m in bad]
    return out


def test_no_production_module_imports_a_twin() -> None:
    graph = import_graph(SRC)
    assert "panelpilot.service.service" in graph and "panelpilot.drivers.sim.world" in graph
    assert violations(graph) == []


def test_the_demo_is_what_wires_the_twins() -> None:
    graph = import_graph(SRC)
    assert any(is_twin(m) for m in graph["panelpilot.service.demo"])


def _graph_of(sources: Mapping[str, str]) -> dict[str, set[str]]:
    return {
        name: imported(text, name, name.count(".") < 2, sources) for name, text in sources.items()
    }


def test_an_import_of_a_twin_anywhere_is_found() -> None:
    twin = "panelpilot.drivers.ocpp.simulator"
    sources = {
        "panelpilot.service.launch": "def f():\n    from ..drivers.ocpp import simulator\n",
        "panelpilot.service.runtime": "import panelpilot.service.launch\n",
        "panelpilot.drivers.ocpp": "",
        "panelpilot.drivers": "",
        twin: "",
    }
    found = violations(_graph_of(sources))
    assert f"panelpilot.service.launch reaches {twin}" in found
    assert f"panelpilot.service.runtime reaches {twin}" in found


def test_an_entry_point_goes_through_the_wiring() -> None:
    sources = {
        "panelpilot.cli": "from panelpilot.service import demo\n",
        "panelpilot.service.demo": "from panelpilot.drivers.sim import World\n",
        "panelpilot.drivers.sim": "",
    }
    assert violations(_graph_of(sources)) == []
    sources["panelpilot.cli"] = "if False:\n    from panelpilot.drivers.sim import World\n"
    assert violations(_graph_of(sources)) == [
        "panelpilot.cli imports the twin panelpilot.drivers.sim (go through "
        "['panelpilot.service.demo'])"
    ]


def test_the_naming_rule() -> None:
    assert is_twin("panelpilot.drivers.sim.world")
    assert is_twin("panelpilot.drivers.sunspec.simdevices")
    assert is_twin("panelpilot.drivers.ocpp.simulator_handlers")
    assert not is_twin("panelpilot.drivers.ocpp.session")
    assert not is_twin("panelpilot.sim.engine")  # the site simulator drives no device
