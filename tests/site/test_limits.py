"""Hostile site files are refused in one located line, and the limits leave real sites alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from panelpilot.design import check_file
from panelpilot.site import SiteFileError, load_site, load_site_text
from panelpilot.site.loader import yaml_document
from panelpilot.site.yaml_reader import DEFAULT_LIMITS, YamlLimits

GARAGE_200 = Path(__file__).parents[2] / "examples" / "scenarios" / "garage-200-site.yaml"


def problems(text: str) -> list[str]:
    with pytest.raises(SiteFileError) as info:
        load_site_text(text, "site.yaml")
    return [str(p) for p in info.value.problems]


def billion_laughs(levels: int = 9) -> str:
    text = 'lol0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    for i in range(1, levels + 1):
        text += f"lol{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]\n"
    return text


def nested_children(depth: int) -> str:
    lines = ["circuits:"]
    for i in range(depth):
        pad = "  " * (2 * i + 1)
        lines += [f"{pad}- id: c{i}", f"{pad}  limit_a: 100", f"{pad}  children:"]
    lines.append("  " * (2 * depth + 1) + "- {id: leaf, limit_a: 10}")
    return "\n".join(lines) + "\n"


def test_billion_laughs_is_refused_where_the_expansion_passes_the_limit() -> None:
    text = "circuits: [{id: a, limit_a: 10}]\n" + billion_laughs()
    # 10^5 values by lol4 (line 6) pass the 50,000: the reader stops there, not at 10^9.
    assert problems(text) == [
        "site.yaml:6: more than 50,000 values once aliases are expanded; "
        "a file may hold at most 50,000"
    ]


def test_aliases_within_the_limits_still_work() -> None:
    # A merge key repeats a mapping: the usual use of aliases in a hand-written file.
    site = load_site_text(
        """\
circuits: [{id: garage, limit_a: 80}]
networks: [{id: n, circuit: garage, network_limit_a: 64}]
chargers:
  - &wc {id: wc1, circuit: garage, network: n, max_a: 32}
  - {<<: *wc, id: wc2}
""",
        "site.yaml",
    )
    assert [(c.id, c.network, c.max_a) for c in site.chargers] == [
        ("wc1", "n", 32.0),
        ("wc2", "n", 32.0),
    ]


def test_more_aliases_than_allowed_are_refused() -> None:
    limits = YamlLimits(max_aliases=3)
    with pytest.raises(SiteFileError) as info:
        yaml_document("a: &x 1\nb: [*x, *x, *x, *x]\n", "site.yaml", limits)
    assert str(info.value) == ("site.yaml:2: more than 3 aliases (*name); a file may use at most 3")


def test_an_alias_inside_its_own_anchor_is_refused() -> None:
    assert problems("circuits: &c [*c]\n") == [
        "site.yaml:1: an alias inside the node it names (a cycle); "
        "aliases may only repeat a finished node"
    ]


def test_3000_deep_children_are_refused_at_the_depth_limit() -> None:
    # In flow style (block style that deep is 27 MB of indentation, refused for its size).
    inner = "{id: leaf, limit_a: 10}"
    for i in range(3000):
        inner = f"{{id: c{i}, limit_a: 100, children: [{inner}]}}"
    assert problems(f"circuits: [{inner}]\n") == [
        "site.yaml:1: nested deeper than 64 levels; a file may nest at most 64"
    ]


def test_20000_open_brackets_are_refused_at_the_depth_limit() -> None:
    assert problems("circuits: " + "[" * 20000 + "\n") == [
        "site.yaml:1: nested deeper than 64 levels; a file may nest at most 64"
    ]


def test_a_tree_nested_as_deep_as_the_limit_allows_loads_and_checks(tmp_path: Path) -> None:
    # Circuit k sits at depth 2k + 1 and its fields at 2k + 2, so 30 levels fit in 64.
    site = load_site_text(nested_children(30), "site.yaml")
    assert max(depth for _, depth in site.all_circuits()) == 30
    path = tmp_path / "deep.yaml"
    path.write_text(nested_children(30))
    assert not check_file(path).has_errors


def test_a_file_over_the_size_limit_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("# padding\n" * (DEFAULT_LIMITS.max_bytes // 10 + 1))
    with pytest.raises(SiteFileError) as info:
        load_site(path)
    assert str(info.value) == f"{path}: more than 2,097,152 bytes; a file may be at most 2 MiB"


def test_more_values_than_the_limit_are_refused_at_the_line_they_pass_it() -> None:
    limits = YamlLimits(max_nodes=100)
    with pytest.raises(SiteFileError) as info:
        yaml_document("a:\n" + "".join(f"  - {i}\n" for i in range(200)), "site.yaml", limits)
    # The mapping, its key, the list and 97 items make 100; the 98th item (line 99) is one
    # too many.
    assert str(info.value) == ("site.yaml:99: more than 100 values; a file may hold at most 100")


def test_the_largest_example_is_far_inside_every_limit() -> None:
    text = GARAGE_200.read_text()
    assert len(text.encode()) * 100 < DEFAULT_LIMITS.max_bytes
    assert load_site(GARAGE_200).chargers


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (".inf", "Infinity: not a finite number; NaN and infinity are refused"),
        ("-.inf", "-Infinity: not a finite number; NaN and infinity are refused"),
        (".nan", "NaN: not a finite number; NaN and infinity are refused"),
        ("1e400", "Infinity: not a finite number; NaN and infinity are refused"),
        ('"NaN"', '"NaN": not a finite number; NaN and infinity are refused'),
        ("1e308", "1e+308: beyond +-1e9; numbers here are finite and at most 1e9 in size"),
        (
            "1" + "0" * 60,
            "a number of more than 20 digits: beyond +-1e9; numbers here are finite and at "
            "most 1e9 in size",
        ),
        (
            "1" + "0" * 99,
            "a number of more than 20 digits: beyond +-1e9; numbers here are finite and at "
            "most 1e9 in size",
        ),
    ],
)
def test_non_finite_and_huge_circuit_limits_are_refused_with_the_field(
    value: str, message: str
) -> None:
    assert problems(f"circuits:\n  - id: service\n    limit_a: {value}\n") == [
        f"site.yaml:3: circuits[0].limit_a: {message}"
    ]


def test_non_finite_numbers_are_refused_in_every_section() -> None:
    text = """\
voltage_v: .nan
circuits: [{id: service, limit_a: 100, meter: site}]
networks: [{id: n, circuit: service, network_limit_a: .inf}]
chargers: [{id: wc1, circuit: service, network: n, max_a: 32, fallback_a: .nan}]
pcs: {export_limit_a: .inf}
control: {period_s: .nan}
"""
    fields = [p.split(": ")[1] for p in problems(text)]
    assert fields == [
        "voltage_v",
        "networks[0].network_limit_a",
        "chargers[0].fallback_a",
        "pcs.export_limit_a",
        "control.period_s",
    ]


def test_an_integer_too_long_to_convert_is_refused_by_the_reader() -> None:
    assert problems("circuits:\n  - id: s\n    limit_a: 1" + "0" * 5000 + "\n") == [
        "site.yaml:3: an integer of 5,001 characters; integers are at most 100 characters"
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: 2024-13-45\n", "YAML syntax: cannot read '2024-13-45' as timestamp"),
        ("name: !!int abc\n", "YAML syntax: cannot read 'abc' as int"),
        ("name: !!bool maybe\n", "YAML syntax: cannot read 'maybe' as bool"),
        # A complex key holding a mapping: ruamel raised a bare TypeError (found by the
        # hostile-text property test).
        ("? [{null: null}]\n: x\n", "YAML syntax: a key must be a plain value"),
    ],
)
def test_values_yaml_cannot_build_are_located_syntax_errors(text: str, message: str) -> None:
    (problem,) = problems(text)
    assert problem.startswith(f"site.yaml:1: {message}")


def test_the_documented_limits_are_the_readers() -> None:
    text = (Path(__file__).parents[2] / "docs" / "site-file.md").read_text()
    limits = DEFAULT_LIMITS
    assert f"{limits.max_bytes / 2**20:g} MiB ({limits.max_bytes:,} bytes)" in text
    assert f"| nesting | {limits.max_depth} levels" in text
    assert f"| values | {limits.max_nodes:,} scalars" in text
    assert f"| aliases | {limits.max_aliases:,} `*name`s" in text
    assert "+-1e9" in text
