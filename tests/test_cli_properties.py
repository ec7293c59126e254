"""Every command that reads a user's file or standard input, fed random and hostile input:
exit 0 (or 1 for design findings) or 2 with one `panelpilot:` line per problem, never a
traceback."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from panelpilot.cli import app
from tests.site.strategies import hostile_text

ROOT = Path(__file__).parents[1]
LEADER = str(ROOT / "examples" / "leader-network.yaml")
PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))


@contextmanager
def file_with(content: bytes) -> Iterator[str]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "input.yaml"
        path.write_bytes(content)
        yield str(path)


def invoke(args: list[str], stdin: bytes = b"") -> Result:
    return CliRunner().invoke(app, args, input=stdin)


def assert_clean(result: Result, allowed: tuple[int, ...]) -> None:
    """The exit code is one the command documents, and a refusal is one line per problem."""
    assert result.exit_code in allowed, (result.exit_code, result.output, result.exception)
    # SystemExit is how typer ends with a code; anything else escaped the command.
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in result.output
    if result.exit_code == 2:
        lines = result.stderr.splitlines()
        assert lines and all(line.startswith("panelpilot: ") for line in lines), result.stderr


CONTENT = st.binary(max_size=300) | hostile_text().map(lambda t: t.encode("utf-8", "surrogatepass"))


@PROPERTY
@given(CONTENT)
def test_validate_any_file_is_ok_or_exit_2_in_lines(content: bytes) -> None:
    with file_with(content) as path:
        assert_clean(invoke(["validate", path]), (0, 2))


@PROPERTY
@given(CONTENT)
def test_check_any_file_is_a_report_or_exit_2_in_lines(content: bytes) -> None:
    with file_with(content) as path:
        assert_clean(invoke(["check", path]), (0, 1, 2))


@PROPERTY
@given(CONTENT)
def test_sim_any_scenario_file_is_exit_2_in_lines_or_a_run(content: bytes) -> None:
    with file_with(content) as path:
        assert_clean(invoke(["sim", path]), (0, 2))


LINES = st.one_of(
    st.binary(max_size=200),
    st.sampled_from(
        [
            b'{"t": 1, "meters": {"site": 1e308}}',
            b'{"t": 1' + b"0" * 400 + b"}",
            b'{"t": 1, "commands": [{"network": "leader-net", "network_limit_a": NaN}]}',
            b'{"t": Infinity}',
            b"[" * 100_000,
            b'{"t": 1, "chargers": {"wc1": {"current_a": -1e400}}}',
            b'{"t": 1, "chargers": {"wc1": {"connected": true, "current_a": 30}}}',
        ]
    ),
)


@PROPERTY
@given(st.lists(LINES, min_size=1, max_size=4))
def test_decide_any_lines_are_decisions_or_exit_2_in_one_line(lines: list[bytes]) -> None:
    result = invoke(["decide", LEADER, "-"], b"\n".join(lines) + b"\n")
    assert_clean(result, (0, 2))
    if result.exit_code == 2:
        assert len(result.stderr.splitlines()) == 1


@PROPERTY
@given(st.binary(max_size=100))
def test_decide_any_bytes_as_a_site_file_are_exit_2_in_lines(content: bytes) -> None:
    with file_with(content) as path:
        assert_clean(invoke(["decide", path, "-"], b""), (0, 2))


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.binary(max_size=80))
def test_a_password_on_stdin_is_taken_or_refused_in_one_line(password: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "chargers.db")
        result = invoke(["chargers", "add", "WC-1", "--password-stdin", "--db", db], password)
        assert_clean(result, (0, 2))


def test_schema_reads_nothing_and_prints_json() -> None:
    result = invoke(["schema"])
    assert_clean(result, (0,))
    assert result.stdout.startswith("{")
