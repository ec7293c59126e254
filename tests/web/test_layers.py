"""The web reads through the service's facade and read models, and decides no roles itself."""

from __future__ import annotations

import ast
from pathlib import Path

WEB = Path(__file__).parents[2] / "src" / "panelpilot" / "web"

# What the web may import from the layers below it (issue 13: the web reaches into nothing).
ALLOWED = {
    "panelpilot.control.settings",  # SettingsError, the refusal type of every settings change
    "panelpilot.control.types",  # Command, the value a network change is made of
    "panelpilot.control.codec",  # the decision's JSON, for the live stream
    "panelpilot.service.access",
    "panelpilot.service.accounts",
    "panelpilot.service.fleet",  # the fleet page's collector and its read model (no service)
    "panelpilot.service.pairing",
    "panelpilot.service.service",
    "panelpilot.service.views",
}
# The running service's insides: the web asks `service.reads` and `service.settings` instead.
INSIDES = {"runtime", "storage", "controller", "topology", "supervisors", "state_view"}


def _modules() -> list[tuple[Path, ast.Module]]:
    return [(p, ast.parse(p.read_text(), str(p))) for p in sorted(WEB.rglob("*.py"))]


def test_the_web_imports_only_the_facade_and_the_read_models() -> None:
    for path, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                name = node.module
            elif isinstance(node, ast.Import):
                name = node.names[0].name
            else:
                continue
            if name.startswith("panelpilot.") and not name.startswith("panelpilot.web"):
                assert name in ALLOWED, f"{path.name}:{node.lineno} imports {name}"


def test_the_web_never_reaches_into_the_running_service() -> None:
    for path, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute):
                assert node.attr not in INSIDES, f"{path.name}:{node.lineno} uses .{node.attr}"


def test_the_web_compares_no_roles() -> None:
    # Who may do what is the service's table (service/access.py); the web only maps Forbidden.
    for path, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Compare):
                names = [n for n in ast.walk(node) if isinstance(n, ast.Attribute | ast.Constant)]
                assert not any(
                    getattr(n, "attr", None) == "role" or getattr(n, "value", None) == "installer"
                    for n in names
                ), f"{path.name}:{node.lineno} compares a role"
