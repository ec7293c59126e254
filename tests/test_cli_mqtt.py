"""The MQTT options as a user meets them: a bad URL, a password where it must not be, a
password file that cannot be read: one line each, exit 2, before anything starts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from panelpilot.cli.mqtt_options import mqtt_options
from panelpilot.site import load_site
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


def test_the_site_files_mqtt_section_gives_the_options_and_the_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "mqtt-password").write_text("from-the-file\nignored\n")
    (tmp_path / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    site_file = tmp_path / "site.yaml"
    site_file.write_text(
        Path(LEADER).read_text() + "mqtt:\n  url: mqtts://broker.lan\n  site_id: north\n"
        "  username: site-north\n  password_file: mqtt-password\n  ca_file: ca.pem\n"
        "  topic_prefix: acme/sites\n  discovery: false\n"
    )
    site = load_site(site_file)
    monkeypatch.delenv("PANELPILOT_MQTT_USERNAME", raising=False)
    monkeypatch.delenv("PANELPILOT_MQTT_PASSWORD", raising=False)
    options = mqtt_options(site, site_file, None, None, None)
    assert options is not None
    assert (str(options.broker), options.site_id) == ("mqtts://broker.lan:8883", "north")
    assert (options.username, options.password) == ("site-north", "from-the-file")
    assert options.ca_file == str(tmp_path / "ca.pem")
    assert (options.topic_prefix, options.discovery) == ("acme/sites", False)
    assert "from-the-file" not in repr(options)
    monkeypatch.setenv("PANELPILOT_MQTT_PASSWORD", "from-the-environment")
    options = mqtt_options(site, site_file, "mqtts://other:1884", "south", None)
    assert options is not None and options.password == "from-the-environment"
    assert (str(options.broker), options.site_id) == ("mqtts://other:1884", "south")
    assert mqtt_options(load_site(LEADER), None, None, None, None) is None  # nothing asked
