"""The `panelpilot` command as a user runs it: real processes, exit codes, one clear line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
LEADER = str(ROOT / "examples" / "leader-network.yaml")


def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "panelpilot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )


def snap(t: float, **chargers: float) -> str:
    return json.dumps(
        {
            "t": t,
            "meters": {"site": sum(chargers.values())},
            "chargers": {k: {"connected": True, "current_a": v} for k, v in chargers.items()},
        }
    )


def test_decide_prints_one_decision_per_snapshot_line() -> None:
    lines = [snap(float(t), wc1=0, wc2=0, wc3=0, wc4=0) for t in range(3)]
    result = run("decide", LEADER, "-", stdin="\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [d["t"] for d in out] == [0.0, 1.0, 2.0]
    last = out[-1]
    assert sum(c["limit_a"] for c in last["chargers"].values()) == 150
    assert last["networks"]["leader-net"] == {
        "current_a": 0.0,
        "limit_a": 150.0,
        "connections": 4,
        "size": 4,
        "status": "limited",
        "enabled": True,
        "available_a": 150.0,
    }
    assert {c["fallback_a"] for c in last["chargers"].values()} == {37.5}


def test_decide_table_is_readable() -> None:
    result = run("decide", LEADER, "-", "--table", stdin=snap(0, wc1=0) + "\n")
    assert result.returncode == 0, result.stderr
    assert "wc1" in result.stdout and "leader-net" in result.stdout


@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        ("{not json\n", "<stdin>:1: not JSON"),
        ('{"t": 1, "chargers": {"wc9": {}}}\n', "<stdin>:1: chargers.wc9: unknown device"),
        ('{"t": 1}\n{"t": 0}\n', "<stdin>:2: t: 0 is before the previous snapshot's t 1"),
        (
            '{"t": 1, "chargers": {"wc1": {"current_a": -3}}}\n',
            "<stdin>:1: chargers.wc1.current_a: -3 is negative",
        ),
        ('{"t": 1, "chargers": {"wc1": {"amps": 3}}}\n', "<stdin>:1: chargers.wc1.amps: unknown"),
        ('{"t": "noon"}\n', '<stdin>:1: t: "noon" is not a number'),
    ],
)
def test_decide_bad_snapshot_is_exit_2_with_one_clear_line(stdin: str, message: str) -> None:
    result = run("decide", LEADER, "-", stdin=stdin)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_site_file_is_exit_2_naming_file_line_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "site.yaml"
    bad.write_text(
        "circuits:\n"
        "  - id: service\n"
        "    limit_a: -40\n"
        "chargers:\n"
        "  - {id: a, circuit: service, max_a: 32, colour: red}\n"
    )
    result = run("decide", str(bad), "-", stdin="")
    assert result.returncode == 2
    assert f"{bad}:3: circuits[0].limit_a: -40: Input should be greater than 0" in result.stderr
    assert f"{bad}:5: chargers[0].colour: unknown field; allowed here: id, circuit" in result.stderr
    assert "Traceback" not in result.stderr


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "site.yaml"
    bad.write_text("circuits:\n  - id: service\n    limit_a: [80\n")
    result = run("validate", str(bad))
    assert result.returncode == 2
    assert f"{bad}:" in result.stderr and "YAML syntax" in result.stderr


def test_missing_files_are_exit_2() -> None:
    assert run("validate", "nowhere.yaml").returncode == 2
    result = run("decide", LEADER, "nowhere.jsonl")
    assert result.returncode == 2 and "nowhere.jsonl: no such file" in result.stderr


def test_schema_is_json_schema_of_the_site_file() -> None:
    result = run("schema")
    assert result.returncode == 0
    schema = json.loads(result.stdout)
    assert schema["title"] == "panelpilot site file"
    assert "circuits" in schema["required"]
    assert schema["$defs"]["Network"]["properties"]["network_limit_a"]
