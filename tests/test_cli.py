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


def _hostile_site(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / f"{kind}.yaml"
    if kind == "laughs":
        text = 'lol0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
        for i in range(1, 10):
            text += f"lol{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]\n"
        path.write_text("circuits: [{id: a, limit_a: 10}]\n" + text)
    elif kind == "huge":
        # 50 MB and 1.6 million circuits, as in issue 12.
        with path.open("w") as handle:
            handle.write("circuits:\n  - id: service\n    limit_a: 1000\n    children:\n")
            row = "      - {id: c%07d, limit_a: 1}\n"
            for start in range(0, 1_600_000, 100_000):
                handle.write("".join(row % i for i in range(start, start + 100_000)))
    elif kind == "deep":
        inner = "{id: leaf, limit_a: 10}"
        for i in range(3000):
            inner = f"{{id: c{i}, limit_a: 100, children: [{inner}]}}"
        path.write_text(f"circuits: [{inner}]\n")
    elif kind == "brackets":
        path.write_text("circuits: " + "[" * 20000 + "\n")
    else:
        path.write_text(f"circuits:\n  - id: service\n    limit_a: {kind}\n")
    return path


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("laughs", ":6: more than 50,000 values once aliases are expanded"),
        ("huge", ": more than 2,097,152 bytes; a file may be at most 2 MiB"),
        ("deep", ":1: nested deeper than 64 levels; a file may nest at most 64"),
        ("brackets", ":1: nested deeper than 64 levels; a file may nest at most 64"),
        (".inf", ":3: circuits[0].limit_a: Infinity: not a finite number"),
        ("1e400", ":3: circuits[0].limit_a: Infinity: not a finite number"),
    ],
)
def test_hostile_site_files_are_exit_2_with_one_line(
    tmp_path: Path, kind: str, message: str
) -> None:
    path = _hostile_site(tmp_path, kind)
    for command in ("validate", "check"):
        result = run(command, str(path))
        assert result.returncode == 2, result.stderr
        assert result.stderr == f"panelpilot: {path}{message}" + result.stderr.split(message)[1]
        assert len(result.stderr.splitlines()) == 1
        assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        ('{"t": 1, "meters": {"site": 1e308}}', "meters.site: 1e+308 is out of range"),
        ('{"t": 1' + "0" * 400 + "}", "t: Infinity is out of range"),
        ("[" * 100_000, "nested deeper than 32 levels"),
        (
            '{"t": 1, "commands": [{"network": "leader-net", "network_limit_a": NaN}]}',
            "commands[0].network_limit_a: NaN is out of range; allowed: a finite number of amps",
        ),
    ],
)
def test_hostile_decide_lines_are_exit_2_with_one_line(stdin: str, message: str) -> None:
    result = run("decide", LEADER, "-", stdin=stdin + "\n")
    assert result.returncode == 2
    assert result.stderr.startswith(f"panelpilot: <stdin>:1: {message}")
    assert len(result.stderr.splitlines()) == 1
