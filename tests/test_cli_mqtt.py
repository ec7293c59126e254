"""The MQTT options as a user meets them: a bad URL, a password where it must not be, a
password file that cannot be read: one line each, exit 2, before anything starts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.test_cli import LEADER, ROOT
from tests.web.live_server import free_port


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "panelpilot", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def _one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def test_a_password_in_the_url_is_refused_and_never_repeated() -> None:
    line = _one_line(run("demo", "--port", str(free_port()), "--mqtt", "mqtt://u:s3cret@h:1883"))
    assert "--mqtt: the URL carries a password" in line and "s3cret" not in line


def test_a_broker_url_of_another_scheme_is_refused() -> None:
    line = _one_line(run("demo", "--port", str(free_port()), "--mqtt", "http://broker"))
    assert line == (
        "panelpilot: --mqtt: scheme 'http' is not mqtt:// or mqtts:// (mqtts:// is MQTT over TLS)"
    )


def test_a_password_file_that_cannot_be_read_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    line = _one_line(
        run(
            "run", LEADER, "--db", f"sqlite:///{tmp_path / 'pp.db'}", "--port", str(free_port()),
            "--mqtt", "mqtt://127.0.0.1:1", "--mqtt-password-file", str(missing),
            env={"PANELPILOT_MQTT_USERNAME": "site"},
        )
    )  # fmt: skip
    assert (
        line
        == f"panelpilot: --mqtt-password-file {missing}: cannot read: No such file or directory"
    )


def test_a_password_without_a_user_name_is_refused(tmp_path: Path) -> None:
    password = tmp_path / "password"
    password.write_text("pw-from-file\n")
    line = _one_line(
        run(
            "demo", "--port", str(free_port()), "--mqtt", "mqtt://127.0.0.1:1",
            "--mqtt-password-file", str(password),
            env={"PANELPILOT_MQTT_USERNAME": ""},
        )
    )  # fmt: skip
    assert "an MQTT password needs a user name" in line and "pw-from-file" not in line


def test_a_site_id_that_is_no_topic_level_is_refused() -> None:
    line = _one_line(
        run("demo", "--port", str(free_port()), "--mqtt", "mqtt://h", "--mqtt-site", "a/#")
    )
    assert line == "panelpilot: --mqtt-site 'a/#': 1-64 letters, digits, _ or -"


def test_the_mqtt_section_is_checked_with_the_site_file(tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    leader = Path(LEADER).read_text()
    site.write_text(leader + "mqtt:\n  url: mqtt://broker.lan\n  keepalive_s: 1\n")
    line = _one_line(run("validate", str(site)))
    assert line.startswith(f"panelpilot: {site}:") and "mqtt.keepalive_s: 1:" in line
    site.write_text(leader + "mqtt:\n  url: mqtt://broker.lan\n  ca_file: ca.pem\n")
    line = _one_line(run("validate", str(site)))
    assert line.endswith("mqtt: ca_file is for mqtts:// (TLS) only; the url is mqtt://")
