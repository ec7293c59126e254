"""Accounts: license numbers and the users/tokens commands (on SQLite and PostgreSQL).

Token expiry in databases older than it: tests/service/test_migrations.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from panelpilot.cli import app
from panelpilot.service.accounts import (
    LICENSE_PATTERN_DEFAULT,
    AccountError,
    Accounts,
    User,
    check_license_number,
)
from panelpilot.service.storage import Storage

runner = CliRunner()


@given(st.text(max_size=80))
def test_a_license_number_is_accepted_only_stripped_and_matching(text: str) -> None:
    try:
        number = check_license_number(text)
    except AccountError as exc:
        assert "license number" in str(exc) and "\n" not in str(exc)
        return
    assert number == text.strip() and 2 <= len(number) <= 32
    assert re.fullmatch(LICENSE_PATTERN_DEFAULT, number)
    assert any(c.isdigit() for c in number)


@pytest.mark.parametrize("good", ["EC-4711", "C-10 123456", "ME.12345", "123456", "EC-1"])
def test_license_numbers_as_printed_pass(good: str) -> None:
    assert check_license_number(f"  {good} ") == good


@pytest.mark.parametrize("bad", ["", " ", "a", "ab", "--1", "EC\t4711", "1" * 33, "<b>1</b>"])
def test_blank_or_made_up_license_numbers_are_refused(bad: str) -> None:
    with pytest.raises(AccountError):
        check_license_number(bad)


def _db(db: str) -> str:
    for name, role in (("ann", "owner"), ("ivan", "installer")):
        added = runner.invoke(
            app,
            ["users", "add", name, "--role", role, "--password-stdin", "--db", db],
            input="long enough\n",
        )
        assert added.exit_code == 0, added.output
    return db


def test_tokens_are_created_listed_and_revoked_from_the_command_line(db_url: str) -> None:
    db = _db(db_url)
    made = runner.invoke(app, ["tokens", "create", "grafana", "--user", "ivan", "--db", db])
    assert made.exit_code == 0 and made.output.startswith("pp_")
    secret = made.output.strip()
    storage = Storage.open(db)
    assert Accounts(storage).token_user(secret, 0.0) == User("ivan", "installer")
    listed = runner.invoke(app, ["tokens", "list", "--db", db])
    assert listed.exit_code == 0 and "\tivan\tgrafana\t" in listed.output
    assert secret not in listed.output
    token_id = listed.output.split("\t")[0]
    revoked = runner.invoke(app, ["tokens", "revoke", token_id, "--db", db])
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    assert Accounts(storage).token_user(secret, 0.0) is None
    again = runner.invoke(app, ["tokens", "revoke", token_id, "--db", db])
    assert again.exit_code == 2 and f"no token {token_id}" in again.output


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["tokens", "create", "x", "--user", "nobody"], "no such user"),
        (["tokens", "create", "x", "--user", "ann", "--days", "400"], "1 to 365 days"),
        (["tokens", "revoke", "99999999999999999999"], "no token"),
        (["users", "remove", "ann"], "only owner"),
        (["users", "remove", "nobody"], "no user 'nobody'"),
    ],
)
def test_token_and_user_commands_refuse_in_one_line(
    db_url: str, args: list[str], says: str
) -> None:
    result = runner.invoke(app, [*args, "--db", _db(db_url)])
    assert result.exit_code == 2 and says in result.output
    assert "Traceback" not in result.output


def test_users_are_listed_and_removed_with_their_tokens(db_url: str) -> None:
    db = _db(db_url)
    secret = runner.invoke(app, ["tokens", "create", "ha", "--user", "ivan", "--db", db])
    listed = runner.invoke(app, ["users", "list", "--db", db])
    assert listed.exit_code == 0
    assert [line.split("\t")[:2] for line in listed.output.splitlines()] == [
        ["ann", "owner"],
        ["ivan", "installer"],
    ]
    removed = runner.invoke(app, ["users", "remove", "ivan", "--db", db])
    assert removed.exit_code == 0
    assert Accounts(Storage.open(db)).token_user(secret.output.strip(), 0.0) is None


def test_a_license_pattern_that_is_not_a_regular_expression_is_one_line(tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    site.write_text("circuits: [{id: service, limit_a: 100}]\n")
    result = runner.invoke(app, ["run", str(site), "--license-pattern", "EC-(", "--port", "0"])
    assert result.exit_code == 2
    assert result.output.startswith("panelpilot: --license-pattern: ")
    assert len(result.output.strip().splitlines()) == 1
