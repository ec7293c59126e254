"""The CLI's one error boundary: every layer's exception type becomes one `panelpilot:` line per
problem on stderr and exit code 2; anything else (a bug) still shows its traceback."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

import panelpilot
from panelpilot.cli import LAYER_ERRORS, LayerError, app
from panelpilot.control.settings import SettingsError
from panelpilot.control.validate import SnapshotError
from panelpilot.drivers.base import DriverError
from panelpilot.drivers.ocpp.central import ListenError
from panelpilot.drivers.ocpp.credentials import CredentialError
from panelpilot.drivers.sunspec.client import DeviceUnreachableError
from panelpilot.service.accounts import AccountError
from panelpilot.service.database import ServiceLock, StorageError, sqlite_url
from panelpilot.service.devices import DeviceSetupError
from panelpilot.service.settings import NotStored
from panelpilot.sim.loader import ScenarioError
from panelpilot.sim.plot_path import PlotError
from panelpilot.site import Problem, SiteFileError
from tests.service.helpers import SITE_YAML

# Exception types that stay inside their layer: each is caught there and becomes a value or
# another layer's error before any command sees it.
NEVER_REACHES_A_COMMAND = {
    "panelpilot.site.yaml_reader.YamlLimitError": "the loader turns it into a SiteFileError",
    "panelpilot.drivers.ocpp.checks.CheckDropped": "a dropped check of one charge point",
    "panelpilot.drivers.ocpp.frames.FrameError": "a bad frame: answered with a CALLERROR",
    "panelpilot.drivers.ocpp.needs.NeedProblem": "a car's need refused: answered Rejected",
    "panelpilot.drivers.sunspec.models.UnknownModelError": "a model the device map lacks",
    "panelpilot.service.access.Forbidden": "a web request's refusal (403)",
    "panelpilot.web.auth.SignInRequired": "a page that needs a sign-in (redirect)",
    "panelpilot.web.limits.Busy": "a request over the limits (429)",
    "panelpilot.web.limits._BodyTooLarge": "a request body over the limit (413)",
}

PROBLEMS = [
    Problem("circuits[0].limit_a", "must be a number", 3, "site.yaml"),
    Problem("chargers[1].circuit", "unknown circuit 'attic'", 9, "site.yaml"),
]
# One error of each layer's types, and the lines the user reads.
EXAMPLES: list[tuple[Exception, list[str]]] = [
    (SiteFileError(PROBLEMS), [str(p) for p in PROBLEMS]),
    (ScenarioError(PROBLEMS[:1]), [str(PROBLEMS[0])]),
    (SnapshotError("t: 0 is before the previous snapshot's t 1"), ["t: 0 is before"]),
    (SettingsError("network n: 30 A is below 6 A x 6 chargers = 36 A"), ["network n: 30 A"]),
    (NotStored("the change could not be saved (disk full)"), ["the change could not be saved"]),
    (DriverError("wc1", "no answer within 5 s"), ["wc1: no answer within 5 s"]),
    (DeviceUnreachableError("pw1", "connection refused"), ["pw1: connection refused"]),
    (ListenError("127.0.0.1", 9000, "in use"), ["OCPP central system: cannot listen on"]),
    (CredentialError("cp1", "password: 1 characters; use 8..64"), ["cp1: password: 1 characters"]),
    (StorageError("cannot open database x.db: read-only"), ["cannot open database x.db"]),
    (AccountError("ann is the only owner"), ["ann is the only owner"]),
    (DeviceSetupError("wc1: an ocpp driver drives a charger"), ["wc1: an ocpp driver"]),
    (PlotError("--plot x.png: no such directory"), ["--plot x.png: no such directory"]),
]


def stderr_lines(result: Result) -> list[str]:
    return result.stderr.splitlines()


def assert_one_line_each(result: Result, starts: list[str]) -> None:
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = stderr_lines(result)
    assert len(lines) == len(starts), lines
    for line, start in zip(lines, starts, strict=True):
        assert line.startswith(f"panelpilot: {start}"), (line, start)
    assert "Traceback" not in result.output


@pytest.mark.parametrize("known", LAYER_ERRORS, ids=lambda k: k.name)
def test_every_entry_of_the_table_names_an_exception_type(known: LayerError) -> None:
    # A renamed or moved error type would silently lose its one-line message.
    kind = getattr(importlib.import_module(known.module), known.name)
    assert isinstance(kind, type) and issubclass(kind, Exception)


@pytest.mark.parametrize(("error", "starts"), EXAMPLES, ids=[type(e).__name__ for e, _ in EXAMPLES])
def test_an_error_of_any_layer_is_one_line_per_problem_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, error: Exception, starts: list[str]
) -> None:
    def refuse(path: Path) -> None:
        raise error

    monkeypatch.setattr("panelpilot.cli.site_file.load_site", refuse)
    assert_one_line_each(CliRunner().invoke(app, ["validate", "site.yaml"]), starts)


def test_an_error_no_layer_declares_is_not_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(path: Path) -> None:
        raise KeyError("a bug, not bad input")

    monkeypatch.setattr("panelpilot.cli.site_file.load_site", broken)
    result = CliRunner().invoke(app, ["validate", "site.yaml"])
    assert isinstance(result.exception, KeyError)
    assert "panelpilot:" not in result.stderr


SRC = Path(panelpilot.__file__).parent


def _module_names() -> list[str]:
    """Every module under src/panelpilot, from its files (service/ has no __init__.py, so
    pkgutil would not walk it)."""
    names = []
    for path in sorted(SRC.rglob("*.py")):
        parts = ("panelpilot", *path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__main__":
            continue  # importing it would start the command line
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def _exception_types() -> list[type[Exception]]:
    """Every exception class defined in a module of panelpilot."""
    found: list[type[Exception]] = []
    for name in _module_names():
        module = importlib.import_module(name)
        found += [
            kind
            for _, kind in inspect.getmembers(module, inspect.isclass)
            if issubclass(kind, Exception) and kind.__module__ == name
        ]
    return found


def test_every_exception_type_of_a_layer_reaches_the_user_as_one_line() -> None:
    caught = tuple(getattr(importlib.import_module(k.module), k.name) for k in LAYER_ERRORS)
    missing = [
        f"{kind.__module__}.{kind.__qualname__}"
        for kind in _exception_types()
        if not issubclass(kind, caught)
        and f"{kind.__module__}.{kind.__qualname__}" not in NEVER_REACHES_A_COMMAND
    ]
    assert not missing, (
        f"{missing}: add each to LAYER_ERRORS in src/panelpilot/cli/__init__.py (and the Errors "
        "section of docs/architecture.md), or to NEVER_REACHES_A_COMMAND here with the reason"
    )


def test_the_list_of_errors_that_stay_inside_their_layer_is_not_stale() -> None:
    defined = {f"{k.__module__}.{k.__qualname__}" for k in _exception_types()}
    assert set(NEVER_REACHES_A_COMMAND) <= defined


# -- through `panelpilot run`: the two types the CLI did not catch before --------------------


@pytest.fixture
def site_and_db(tmp_path: Path) -> tuple[str, str]:
    site = tmp_path / "site.yaml"
    site.write_text(SITE_YAML)
    db = sqlite_url(str(tmp_path / "pp.db"))
    added = CliRunner().invoke(
        app, ["users", "add", "ann", "--password-stdin", "--db", db], input="long enough\n"
    )
    assert added.exit_code == 0, added.output
    return str(site), db


def _run(site: str, db: str) -> Result:
    return CliRunner().invoke(
        app, ["run", site, "--db", db, "--sim", "--port", "0", "--ocpp-port", "0"]
    )


def test_a_driver_error_while_serving_is_one_line_and_frees_the_database(
    monkeypatch: pytest.MonkeyPatch, site_and_db: tuple[str, str]
) -> None:
    async def device_fails(*args: object, **kwargs: object) -> None:
        raise DriverError("pw1", "Modbus exception 2 (illegal data address) at register 40070")

    monkeypatch.setattr("panelpilot.service.launch.serve_until_signalled", device_fails)
    result = _run(*site_and_db)
    assert_one_line_each(result, ["pw1: Modbus exception 2 (illegal data address)"])
    lock = ServiceLock.acquire(site_and_db[1])  # the next `run` may start
    assert lock is not None
    lock.release()


def test_a_settings_error_on_start_is_one_line(
    monkeypatch: pytest.MonkeyPatch, site_and_db: tuple[str, str]
) -> None:
    def refused(self: object) -> None:
        raise SettingsError("network garage-net: 30 A is below 6 A x 6 chargers = 36 A")

    monkeypatch.setattr("panelpilot.service.settings.SettingsManager.restore", refused)
    result = _run(*site_and_db)
    assert_one_line_each(result, ["network garage-net: 30 A is below 6 A x 6 chargers = 36 A"])
