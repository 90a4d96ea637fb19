"""The service's commands: db upgrade, import, users add|revoke, serve's refusal to start on
an unmigrated database."""

from __future__ import annotations

import pandas as pd
from typer.testing import CliRunner

from loanrecovery.cli import app
from loanrecovery.service.auth import user_for_token
from loanrecovery.service.db import make_engine, make_sessionmaker
from loanrecovery.service.logins import log_in

runner = CliRunner()


def _run(*args: str):
    return runner.invoke(app, list(args))


def test_upgrade_import_users_and_revoke(fresh_db, small_book, tmp_path):
    folder = tmp_path / "book"
    folder.mkdir()
    loans = small_book.loans.head(30).astype({"Age": "object"})
    loans.loc[loans.index[0], "Age"] = "not a number"
    loans.to_csv(folder / "loans.csv", index=False)
    small_book.payments[small_book.payments["Loan_ID"].isin(loans["Loan_ID"])].to_csv(
        folder / "payments.csv", index=False
    )
    assert _run("db", "upgrade", "--db", fresh_db).exit_code == 0
    first = _run("import", "--data", str(folder), "--db", fresh_db,
                 "--rejects", str(tmp_path / "rej"))  # fmt: skip
    assert first.exit_code == 0, first.output
    assert "loans: 30 rows in, 29 accepted, 1 rejected" in first.output
    rejects = pd.read_csv(tmp_path / "rej" / "rejects.csv")
    assert list(rejects["Column"]) == ["Age"]
    again = _run("import", "--data", str(folder), "--db", fresh_db,
                 "--rejects", str(tmp_path / "rej"))  # fmt: skip
    assert "nothing changed" in again.output
    added = _run("users", "add", "ann", "--role", "collector", "--db", fresh_db)
    assert added.exit_code == 0, added.output
    token = added.output.strip().splitlines()[-1]
    engine = make_engine(fresh_db)
    factory = make_sessionmaker(engine)
    with factory() as session:
        user = user_for_token(session, token)
        assert user is not None and user.name == "ann" and user.role == "collector"
    assert _run("users", "add", "ann", "--role", "collector", "--db", fresh_db).exit_code == 2
    bad_role = _run("users", "add", "bob", "--role", "boss", "--db", fresh_db)
    assert bad_role.exit_code == 2 and "role 'boss'" in bad_role.output
    assert _run("users", "revoke", "ann", "--db", fresh_db).exit_code == 0
    with factory() as session:
        assert user_for_token(session, token) is None
    engine.dispose()


def test_serve_refuses_an_unmigrated_database(databases):
    result = _run("serve", "--db", databases.new("sqlite"), "--port", "1")
    assert result.exit_code == 2
    assert "loanrecovery db upgrade" in result.output


def test_users_get_a_web_password_from_stdin_and_short_ones_are_refused(fresh_db):
    assert _run("db", "upgrade", "--db", fresh_db).exit_code == 0
    added = runner.invoke(
        app, ["users", "add", "cy", "--role", "manager", "--password-stdin", "--db", fresh_db],
        input="first passphrase\n",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    short = runner.invoke(app, ["users", "set-password", "cy", "--db", fresh_db], input="short\n")
    assert short.exit_code == 2 and "at least 10" in short.output
    unknown = runner.invoke(app, ["users", "set-password", "nobody", "--db", fresh_db],
                            input="long enough pass\n")  # fmt: skip
    assert unknown.exit_code == 2 and "no user named 'nobody'" in unknown.output
    changed = runner.invoke(app, ["users", "set-password", "cy", "--db", fresh_db],
                            input="second passphrase\n")  # fmt: skip
    assert changed.exit_code == 0, changed.output
    engine = make_engine(fresh_db)
    with make_sessionmaker(engine)() as session:
        first = log_in(session, "cy", "first passphrase")
        second = log_in(session, "cy", "second passphrase")
        session.rollback()
    engine.dispose()
    assert not first.ok and second.ok
