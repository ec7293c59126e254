"""The house rules the code can be checked against: the layer table of docs/architecture.md (read
from the document itself, so doc and test cannot drift), no I/O in the pure core, and modules of
at most 400 lines."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
SRC = ROOT / "src"
PACKAGE = SRC / "panelpilot"
ARCHITECTURE = ROOT / "docs" / "architecture.md"
TABLE_HEADER = "| package | what it is for | may import |"
ROOT_PACKAGE = "panelpilot"
MAX_LINES = 400

# The pure core: a plain value in, a plain value out (docs/architecture.md; STYLE rule 1).
PURE_CORE = ("panelpilot.control", "panelpilot.design")
IO_MODULES = frozenset(
    {"sys", "os", "io", "socket", "asyncio", "subprocess", "threading", "time", "datetime"}
    | {"logging", "sqlite3", "rich", "typer", "sqlalchemy", "websockets", "aiohttp", "fastapi"}
)
IO_CALLS = frozenset({"print", "open", "input"})


@dataclass(frozen=True)
class Layer:
    """One row of the layer table: a package and the packages it may import."""

    name: str
    may_import: frozenset[str] | None  # None: everything

    def owns(self, module: str) -> bool:
        """True when `module` is this layer or inside it (the root owns only itself)."""
        if module == self.name:
            return True
        return self.name != ROOT_PACKAGE and module.startswith(self.name + ".")


def layer_table(text: str) -> list[Layer]:
    """The rows of the table that starts with `TABLE_HEADER`."""
    lines = text.splitlines()
    start = lines.index(TABLE_HEADER) + 2  # the header and its |---| line
    layers = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        name = re.findall(r"`([^`]+)`", cells[0])[0]
        allowed = cells[-1]
        if allowed == "everything":
            layers.append(Layer(name, None))
        else:
            short = re.findall(r"`([^`]+)`", allowed)
            layers.append(Layer(name, frozenset(f"{ROOT_PACKAGE}.{s}" for s in short)))
    return layers


LAYERS = layer_table(ARCHITECTURE.read_text(encoding="utf-8"))


def layer_of(module: str) -> Layer | None:
    """The row a module belongs to: the longest row name it is or starts with."""
    owners = [layer for layer in LAYERS if layer.owns(module)]
    return max(owners, key=lambda layer: len(layer.name)) if owners else None


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = sorted(PACKAGE.rglob("*.py"))


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> list[str]:
    """The modules an import statement names (a relative one resolved from `module`)."""
    base = node.module or ""
    if node.level:
        here = module.split(".") if is_package else module.split(".")[:-1]
        anchor = here[: len(here) - node.level + 1]
        base = ".".join([*anchor, base] if base else anchor)
    if base == ROOT_PACKAGE:  # `from panelpilot import cli`: the subpackage is the target
        return [f"{base}.{alias.name}" for alias in node.names]
    return [base]


def imports_in(text: str, module: str, is_package: bool) -> list[tuple[int, str]]:
    """Every `panelpilot.*` import of a module (also inside functions and TYPE_CHECKING)."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found += [(node.lineno, name) for name in _resolve(module, is_package, node)]
    return [(line, name) for line, name in found if name.split(".")[0] == ROOT_PACKAGE]


def violations(where: str, module: str, imports: list[tuple[int, str]]) -> list[str]:
    """One message per import the layer table does not allow, naming module, import and rule."""
    source = layer_of(module)
    assert source is not None, f"{module}: in no row of the layer table"
    broken = []
    for line, imported in imports:
        target = layer_of(imported)
        if target is None or target == source or source.may_import is None:
            continue  # an import of no row fails test_every_module_belongs_to_a_row
        if target.name not in source.may_import:
            broken.append(
                f"{where}:{line} imports {imported}: {source.name} may import only "
                f"{_allowed(source)} (the layer table in docs/architecture.md)"
            )
    return broken


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _allowed(layer: Layer) -> str:
    if layer.may_import is None:
        return "everything"
    names = sorted(name.removeprefix(f"{ROOT_PACKAGE}.") for name in layer.may_import)
    return ", ".join(names) or "nothing of ours"


def test_the_table_is_read_from_the_document() -> None:
    # A table the parser no longer finds would make every other test here pass vacuously.
    names = {layer.name for layer in LAYERS}
    assert {"panelpilot.site", "panelpilot.control", "panelpilot.cli"} <= names
    assert layer_of("panelpilot.cli.run") == Layer("panelpilot.cli", None)
    site = layer_of("panelpilot.site.rules")
    assert site is not None and site.may_import == frozenset({"panelpilot.field"})
    assert layer_of("panelpilot.field") == Layer("panelpilot.field", frozenset())
    assert layer_of("panelpilot.webhooks") is None  # a new package needs its own row


def test_every_row_of_the_table_names_only_rows() -> None:
    names = {layer.name for layer in LAYERS}
    for layer in LAYERS:
        unknown = (layer.may_import or frozenset()) - names
        assert not unknown, f"{layer.name} may import {sorted(unknown)}: not rows of the table"


@pytest.mark.parametrize("path", MODULES, ids=_rel)
def test_every_module_belongs_to_a_row(path: Path) -> None:
    assert layer_of(module_name(path)) is not None, (
        f"{_rel(path)}: {module_name(path)} is in no row of the layer table in "
        f"{_rel(ARCHITECTURE)}; add a row saying what it is for and what it may import"
    )


@pytest.mark.parametrize("path", MODULES, ids=_rel)
def test_every_import_follows_the_layer_table(path: Path) -> None:
    module = module_name(path)
    imports = imports_in(path.read_text(encoding="utf-8"), module, _is_package(path))
    broken = violations(_rel(path), module, imports)
    assert not broken, "\n".join(broken)


def test_an_import_against_the_table_is_named_with_its_module_and_rule() -> None:
    text = (
        "from panelpilot.site.model import Site\n"
        "from panelpilot.field import J1772_MIN_A\n"
        "from panelpilot.design import findings\n"
        "def f():\n"
        "    from panelpilot.service.storage import Storage\n"
    )
    imports = imports_in(text, "panelpilot.design.load", False)
    assert violations("src/panelpilot/design/load.py", "panelpilot.design.load", imports) == [
        "src/panelpilot/design/load.py:5 imports panelpilot.service.storage: panelpilot.design "
        "may import only field, site (the layer table in docs/architecture.md)"
    ]
    assert violations("x.py", "panelpilot.cli.run", imports) == []  # the CLI: everything


def test_relative_imports_are_resolved_from_the_module() -> None:
    node = ast.parse("from ..site import model").body[0]
    assert isinstance(node, ast.ImportFrom)
    assert _resolve("panelpilot.design.load", False, node) == ["panelpilot.site"]
    assert _resolve("panelpilot.design", True, node) == ["panelpilot.site"]


def _io_uses(path: Path) -> list[str]:
    uses = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level:
            names = [node.module or ""]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id in IO_CALLS:
                uses.append(f"{_rel(path)}:{node.lineno} calls {node.func.id}()")
            continue
        else:
            continue
        uses += [
            f"{_rel(path)}:{node.lineno} imports {name}"
            for name in names
            if name.split(".")[0] in IO_MODULES
        ]
    return uses


@pytest.mark.parametrize(
    "path",
    [p for p in MODULES if module_name(p).startswith(PURE_CORE)],
    ids=_rel,
)
def test_the_pure_core_does_no_io(path: Path) -> None:
    uses = _io_uses(path)
    assert not uses, (
        "\n".join(uses) + "\ncontrol/ and design/ take values and return values; printing, "
        "files and clocks belong to the CLI, the service or the drivers"
    )


def _lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


@pytest.mark.parametrize("path", sorted(SRC.rglob("*.py")), ids=_rel)
def test_every_module_is_at_most_400_lines(path: Path) -> None:
    assert _lines(path) <= MAX_LINES, (
        f"{_rel(path)}: {_lines(path)} lines; a module is at most {MAX_LINES} "
        "(split it along a seam: one module, one idea)"
    )
