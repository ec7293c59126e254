"""`panelpilot`: one command with sub-commands. Exit codes: 0 fine, 1 findings, 2 bad input.

One module per command (group) declares its options and calls the layers; this module holds the
app and the one place where an error of any layer becomes one line on stderr and exit code 2
(`LAYER_ERRORS`). A command catches an error itself only to add what the layer cannot know (the
line of a snapshot file, the option that was wrong).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import typer
from typer._click import Context  # the context type of typer's own click
from typer.core import TyperGroup

from panelpilot.cli import (
    chargers,
    check,
    db,
    decide,
    demo,
    fleet,
    run,
    simulate,
    site_file,
    tokens,
    users,
)
from panelpilot.cli.exits import EXIT_BAD_INPUT, fail


@dataclass(frozen=True)
class LayerError:
    """An exception type of one layer, named by its module and class so that recognising it
    never imports the layer: a module that was never imported cannot have raised it, and
    `panelpilot validate` starts without loading the service, drivers or simulator."""

    module: str
    name: str
    per_problem: bool = False  # carries `problems`: one line each (file:line: field: message)

    def matches(self, exc: Exception) -> bool:
        """True when `exc` is of this type (or a subclass of it)."""
        kind = getattr(sys.modules.get(self.module), self.name, None)
        return isinstance(kind, type) and isinstance(exc, kind)

    def lines(self, exc: Exception) -> list[str]:
        """What the user reads: each problem on its own line, or the message."""
        if self.per_problem:
            return [str(problem) for problem in getattr(exc, "problems", [])]
        return [str(exc)]


# Every layer's exception types (docs/architecture.md, Errors); tests/test_cli_errors.py fails
# when a layer defines one that is neither here nor known never to reach a command.
LAYER_ERRORS: tuple[LayerError, ...] = (
    LayerError("panelpilot.site.errors", "SiteFileError", per_problem=True),
    LayerError("panelpilot.control.validate", "SnapshotError"),
    LayerError("panelpilot.control.settings", "SettingsError"),  # and service's NotStored
    LayerError("panelpilot.drivers.base", "DriverError"),  # and ListenError, the SunSpec errors
    LayerError("panelpilot.drivers.ocpp.credentials", "CredentialError"),
    LayerError("panelpilot.service.database", "StorageError"),
    LayerError("panelpilot.service.accounts", "AccountError"),
    LayerError("panelpilot.service.devices", "DeviceSetupError"),
    LayerError("panelpilot.sim.loader", "ScenarioError", per_problem=True),
    LayerError("panelpilot.sim.plot_path", "PlotError"),
)


def one_line_per_error(exc: Exception) -> list[str] | None:
    """The lines to print for an error of a layer, or None when no layer declares it."""
    for known in LAYER_ERRORS:
        if known.matches(exc):
            return known.lines(exc)
    return None


class _Commands(TyperGroup):
    """The root command: runs the sub-command and turns a layer's error into its lines."""

    def invoke(self, ctx: Context) -> object:
        try:
            return super().invoke(ctx)
        except Exception as exc:
            lines = one_line_per_error(exc)
            if lines is None:
                raise
            raise fail(lines, EXIT_BAD_INPUT) from None


app = typer.Typer(
    cls=_Commands,
    help="panelpilot: EV power sharing and PCS limits that keep every circuit under its limit.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# In the order `panelpilot --help` lists them.
app.command()(site_file.schema)
app.command()(site_file.validate)
app.command()(decide.decide)
app.command()(check.check)
app.add_typer(chargers.app, name="chargers")
app.command()(simulate.sim)
app.add_typer(users.app, name="users")
app.add_typer(tokens.app, name="tokens")
app.add_typer(db.app, name="db")
app.command()(run.run)
app.command()(demo.demo)
app.command()(fleet.fleet)


def main() -> None:
    """Entry point of the `panelpilot` script."""
    app()
