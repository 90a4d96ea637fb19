"""An output folder holds one run's files: an earlier run's are removed (and named), unknown
files are refused, and run.json records the inputs with their hashes."""

from __future__ import annotations

import hashlib
import json

import pytest

from loanrecovery import __version__
from loanrecovery.exceptions import OptionError
from loanrecovery.report.run_folder import RUN_FILE, RunFolder, default_out


def test_run_json_records_time_inputs_hashes_configuration_version_and_files(tmp_path):
    data = tmp_path / "loans.csv"
    data.write_text("Loan_ID\nLN_1\n", encoding="utf-8")
    out = tmp_path / "out"
    with RunFolder(out, "apply", inputs={"data": data, "payments": None}) as folder:
        folder.config = {"seed": 42}
        (out / "scored_loans.csv").write_text("x\n", encoding="utf-8")
        folder.add("scored", out / "scored_loans.csv")
    record = json.loads((out / RUN_FILE).read_text(encoding="utf-8"))
    assert record["command"] == "apply" and record["status"] == "done"
    assert record["package_version"] == __version__
    assert record["inputs"] == {
        "data": {
            "path": str(data),
            "sha256": hashlib.sha256(data.read_bytes()).hexdigest(),
            "bytes": data.stat().st_size,
        }
    }
    assert record["configuration"] == {"seed": 42}
    assert record["files"] == {"scored": "scored_loans.csv"}
    assert record["started"] <= record["finished"]


def test_an_earlier_runs_files_are_removed_and_named(tmp_path):
    out = tmp_path / "out"
    with RunFolder(out, "run") as first:
        for name in ("plan.csv", "watchlist.csv"):
            (out / name).write_text("x\n", encoding="utf-8")
            first.add(name, out / name)
    (out / "sub").mkdir()  # folders are left alone
    second = RunFolder(out, "run")
    assert sorted(p.name for p in second.removed) == ["plan.csv", "watchlist.csv"]
    assert not (out / "plan.csv").exists() and (out / "sub").is_dir()
    second.record()
    record = json.loads((out / RUN_FILE).read_text(encoding="utf-8"))
    assert record["removed_from_earlier_run"] == ["plan.csv", "watchlist.csv"]


def test_files_no_run_recorded_are_refused_not_mixed(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine\n", encoding="utf-8")
    with pytest.raises(OptionError, match=r"--out: .*notes\.txt.*refusing to mix"):
        RunFolder(out, "run")
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine\n"


def test_a_stopped_run_is_recorded_with_the_files_it_wrote(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(ValueError), RunFolder(out, "fit") as folder:
        (out / "rejects.csv").write_text("x\n", encoding="utf-8")
        folder.add("rejects", out / "rejects.csv")
        raise ValueError("stop")
    record = json.loads((out / RUN_FILE).read_text(encoding="utf-8"))
    assert record["status"] == "stopped: ValueError"
    assert record["files"] == {"rejects": "rejects.csv"}
    assert RunFolder(out, "fit").removed == [out / "rejects.csv"]


def test_one_default_folder_scheme():
    assert default_out("early-warning").as_posix() == "out/early-warning"
