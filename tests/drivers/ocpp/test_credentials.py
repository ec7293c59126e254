"""Charge point registrations: hashed with Argon2id, managed by a non-interactive command."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from panelpilot.cli import app
from panelpilot.drivers.ocpp import CredentialError, CredentialStore

PASSWORD = "correct-horse-battery"


def test_passwords_are_stored_hashed_and_verified(tmp_path: Path) -> None:
    db = tmp_path / "panelpilot.db"
    store = CredentialStore(db)
    store.add("WC-1", PASSWORD)
    stored = store.password_hash("WC-1")
    assert stored is not None and stored.startswith("$argon2id$")
    assert PASSWORD.encode() not in db.read_bytes()
    assert store.verify("WC-1", PASSWORD)
    assert not store.verify("WC-1", PASSWORD + "x")
    assert not store.verify("WC-2", PASSWORD)  # unknown id
    store.close()


def test_add_refuses_duplicates_bad_ids_and_short_passwords(tmp_path: Path) -> None:
    store = CredentialStore(tmp_path / "panelpilot.db")
    store.add("WC-1", PASSWORD)
    with pytest.raises(CredentialError, match="already registered"):
        store.add("WC-1", "another-password")
    store.add("WC-1", "another-password", replace=True)
    assert store.verify("WC-1", "another-password") and not store.verify("WC-1", PASSWORD)
    with pytest.raises(CredentialError, match="charge point id"):
        store.add("bad/id", PASSWORD)
    with pytest.raises(CredentialError, match="characters"):
        store.add("WC-2", "short")
    assert [r.charge_point_id for r in store.list()] == ["WC-1"]
    assert store.remove("WC-1") and not store.remove("WC-1")
    store.close()


def test_the_chargers_command_adds_lists_and_removes(tmp_path: Path) -> None:
    db = str(tmp_path / "site.db")
    runner = CliRunner()
    added = runner.invoke(
        app, ["chargers", "add", "WC-1", "--password-stdin", "--db", db], input=PASSWORD + "\n"
    )
    assert added.exit_code == 0, added.output
    listed = runner.invoke(app, ["chargers", "list", "--db", db])
    assert listed.exit_code == 0 and listed.stdout.startswith("WC-1\t")
    assert PASSWORD not in listed.stdout
    assert CredentialStore(db).verify("WC-1", PASSWORD)
    removed = runner.invoke(app, ["chargers", "remove", "WC-1", "--db", db])
    assert removed.exit_code == 0
    assert runner.invoke(app, ["chargers", "list", "--db", db]).stdout == ""


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["add", "WC-1"], PASSWORD, "--password-stdin"),
        (["add", "WC-1", "--password-stdin"], "short\n", "characters"),
        (["add", "bad id", "--password-stdin"], PASSWORD, "charge point id"),
        (["remove", "WC-9"], "", "not registered"),
    ],
)
def test_bad_input_is_one_clear_line_and_exit_2(
    tmp_path: Path, args: list[str], stdin: str, message: str
) -> None:
    result = CliRunner().invoke(
        app, ["chargers", *args, "--db", str(tmp_path / "p.db")], input=stdin
    )
    assert result.exit_code == 2
    assert message in result.stderr and len(result.stderr.splitlines()) == 1
    assert "Traceback" not in result.output


def test_a_file_that_is_not_a_database_is_exit_2(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    result = CliRunner().invoke(app, ["chargers", "list", "--db", str(junk)])
    assert result.exit_code == 2 and "not a usable SQLite database" in result.stderr
