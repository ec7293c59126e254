"""Progress bars: on standard error when it is a terminal (a pseudo-terminal here), never with
`--quiet` or without a terminal, and never a byte more on standard output.

Each case runs the real `panelpilot` in a child process; standard error is either the slave of
a pseudo-terminal (`pty`) or a file, standard output always a file.
"""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
from dataclasses import dataclass
from pathlib import Path

import pytest

from panelpilot.cli import progress

ROOT = Path(__file__).parents[2]
EXAMPLES = ROOT / "examples"
# Rich reads these to decide what a terminal is: the child gets none of them from us.
TERMINAL_ENV = ("FORCE_TERMINAL", "NO_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS",
                "LINES", "PANELPILOT_PROGRESS_AFTER_S")  # fmt: skip
BAR = "━".encode()
TWO_CARS = """\
site:
  circuits:
    - {id: garage, limit_a: 40, breaker_a: 50, meter: garage}
  networks:
    - {id: n, circuit: garage, network_limit_a: 40}
  chargers:
    - {id: wc1, circuit: garage, network: n, max_a: 32}
    - {id: wc2, circuit: garage, network: n, max_a: 32}
duration_s: 300
evs:
  - {charger: wc1, arrive_s: 0, energy_kwh: 20, max_a: 32, response_s: 2}
"""


@dataclass(frozen=True)
class Ran:
    code: int
    stdout: bytes
    stderr: bytes


def _drain(master: int) -> bytes:
    """Everything the child wrote to the terminal, until it closed it."""
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed its end
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def panelpilot(
    tmp_path: Path, *args: str, terminal: bool, after_s: str = "0", stdin: bytes = b""
) -> Ran:
    """Run `panelpilot ARGS` with standard error on a terminal (or a file)."""
    env = {k: v for k, v in os.environ.items() if k not in TERMINAL_ENV}
    env.update(TERM="xterm-256color", XDG_DATA_HOME=str(tmp_path / "data"))
    env["PANELPILOT_PROGRESS_AFTER_S"] = after_s
    out, err, given = tmp_path / "stdout", tmp_path / "stderr", tmp_path / "stdin"
    given.write_bytes(stdin)
    command = [sys.executable, "-m", "panelpilot", *args]
    with out.open("wb") as stdout, given.open("rb") as source:
        if not terminal:
            with err.open("wb") as stderr:
                code = subprocess.run(command, stdin=source, stdout=stdout, stderr=stderr,
                                      env=env, cwd=ROOT, check=False).returncode  # fmt: skip
            return Ran(code, out.read_bytes(), err.read_bytes())
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))
        child = subprocess.Popen(command, stdin=source, stdout=stdout, stderr=slave, env=env,
                                 cwd=ROOT)  # fmt: skip
        os.close(slave)
        try:
            written = _drain(master)
        finally:
            os.close(master)
        code = child.wait()
    return Ran(code, out.read_bytes(), written)


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    path = tmp_path / "two-cars.yaml"
    path.write_text(TWO_CARS)
    return path


def test_check_shows_a_bar_on_a_terminal_and_stdout_is_unchanged(tmp_path: Path) -> None:
    site = str(EXAMPLES / "pw3-home.yaml")
    shown = panelpilot(tmp_path, "check", site, terminal=True)
    plain = panelpilot(tmp_path, "check", site, terminal=False)
    assert b"checking" in shown.stderr and BAR in shown.stderr
    assert plain.stderr == b""
    assert shown.stdout == plain.stdout and shown.code == plain.code == 0


def test_quiet_writes_nothing_on_the_terminal(tmp_path: Path) -> None:
    site = str(EXAMPLES / "pw3-home.yaml")
    quiet = panelpilot(tmp_path, "check", site, "--quiet", terminal=True)
    plain = panelpilot(tmp_path, "check", site, terminal=False)
    assert quiet.stderr == b""
    assert quiet.stdout == plain.stdout


def test_sim_shows_one_bar_per_controller_on_standard_error(tmp_path: Path, scenario: Path) -> None:
    shown = panelpilot(tmp_path, "sim", str(scenario), "--json", terminal=True)
    plain = panelpilot(tmp_path, "sim", str(scenario), "--json", terminal=False)
    for name in (b"panelpilot", b"static", b"none"):
        assert name in shown.stderr
    assert b"100%" in shown.stderr
    assert plain.stderr == b"" and shown.stdout == plain.stdout
    assert b"\x1b" not in shown.stdout


def test_decide_counts_the_file_and_leaves_stdout_alone(tmp_path: Path) -> None:
    args = ("decide", str(EXAMPLES / "shared-panel.yaml"), str(EXAMPLES / "shared-panel.jsonl"))
    shown = panelpilot(tmp_path, *args, terminal=True)
    plain = panelpilot(tmp_path, *args, terminal=False)
    quiet = panelpilot(tmp_path, *args, "-q", terminal=False)
    assert b"snapshots" in shown.stderr and b"100%" in shown.stderr
    assert plain.stderr == quiet.stderr == b""
    assert shown.stdout == plain.stdout == quiet.stdout
    assert len(plain.stdout.splitlines()) == 60


def test_an_error_line_stays_whole_above_the_bar(tmp_path: Path) -> None:
    states = tmp_path / "bad.jsonl"
    states.write_text('{"t": 0, "meters": {"site": 20}}\n{bad\n')
    args = ("decide", str(EXAMPLES / "shared-panel.yaml"), str(states))
    shown = panelpilot(tmp_path, *args, terminal=True)
    plain = panelpilot(tmp_path, *args, terminal=False)
    line = plain.stderr.strip()
    assert line.startswith(b"panelpilot: ") and b":2: " in line
    assert shown.code == plain.code == 2
    assert line + b"\r\n" in shown.stderr  # one line, not broken at the terminal's width


def test_db_upgrade_shows_a_bar_and_prints_the_same(tmp_path: Path) -> None:
    shown = panelpilot(tmp_path, "db", "upgrade", "--db", f"sqlite:///{tmp_path}/a.db",
                       terminal=True)  # fmt: skip
    plain = panelpilot(tmp_path, "db", "upgrade", "--db", f"sqlite:///{tmp_path}/b.db",
                       terminal=False)  # fmt: skip
    assert b"upgrading" in shown.stderr
    assert plain.stderr == b""
    assert shown.stdout.replace(b"/a.db", b"/b.db") == plain.stdout


def test_a_bar_waits_for_its_delay(tmp_path: Path) -> None:
    # A quick command under an hour's delay shows no bar at all (the cursor is only hidden
    # and shown again).
    site = str(EXAMPLES / "pw3-home.yaml")
    shown = panelpilot(tmp_path, "check", site, terminal=True, after_s="3600")
    assert b"checking" not in shown.stderr and BAR not in shown.stderr


@pytest.mark.parametrize(("raw", "after_s"), [("", 1.0), ("0", 0.0), ("2.5", 2.5),
                                              ("soon", 1.0), ("-3", 0.0)])  # fmt: skip
def test_the_delay_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, raw: str, after_s: float
) -> None:
    monkeypatch.setenv(progress.AFTER_ENV, raw)
    assert progress._after_s() == after_s
