"""Reading tables: every file-level problem is a DataFileError naming the file."""

from __future__ import annotations

import gzip

import pandas as pd
import pytest

from loanrecovery.exceptions import DataFileError
from loanrecovery.io import MALFORMED_ROWS, read_table


def test_missing_file(tmp_path):
    with pytest.raises(DataFileError, match="not found") as info:
        read_table(tmp_path / "nope.csv")
    assert "nope.csv" in str(info.value)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"   \n\n", "empty"),
        (b"Loan_ID,Age\n", "no data rows"),
        (b"\x00\x01\x02\x03binary\x00junk" * 10, "binary"),
        (b"Loan_ID;Age;Income\nLN_1;30;100\n", "separated by ';'"),
        (b"Loan_ID\tAge\nLN_1\t30\n", "separated by tab"),
    ],
)
def test_file_level_problems(tmp_path, content, message):
    path = tmp_path / "loans.csv"
    path.write_bytes(content)
    with pytest.raises(DataFileError, match=message) as info:
        read_table(path, as_text=True)
    assert str(path) in str(info.value)


def test_spreadsheet_refused(tmp_path):
    path = tmp_path / "loans.xlsx"
    path.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(DataFileError, match="save the sheet as CSV"):
        read_table(path)


def test_explicit_delimiter_reads_semicolons(tmp_path):
    path = tmp_path / "loans.csv"
    path.write_bytes(b"Loan_ID;Age\nLN_1;30\n")
    frame = read_table(path, as_text=True, delimiter=";")
    assert frame.to_dict("list") == {"Loan_ID": ["LN_1"], "Age": ["30"]}


@pytest.mark.parametrize("encoding", ["utf-8-sig", "latin-1", "utf-16", "cp1252"])
def test_encodings(tmp_path, encoding):
    path = tmp_path / "loans.csv"
    path.write_bytes("Loan_ID,Name\nLN_1,José Müller\nLN_2,Zoë\n".encode(encoding))
    frame = read_table(path, as_text=True)
    assert list(frame.columns) == ["Loan_ID", "Name"]
    assert frame["Name"].tolist() == ["José Müller", "Zoë"]


def test_quoted_fields_and_missing_values(tmp_path):
    path = tmp_path / "loans.csv"
    path.write_text('Loan_ID,Note,Amount\nLN_1,"hello, world",1\nLN_2,,2\n', encoding="utf-8")
    frame = read_table(path, as_text=True)
    assert frame["Note"].tolist() == ["hello, world", None]
    assert frame["Amount"].tolist() == ["1", "2"]


def test_malformed_records_are_listed_not_dropped(tmp_path):
    path = tmp_path / "loans.csv"
    path.write_text("Loan_ID,Age\nLN_1,30\nLN_2,31,extra\nLN_3,32\n", encoding="utf-8")
    frame = read_table(path, as_text=True)
    assert frame["Loan_ID"].tolist() == ["LN_1", "LN_3"]
    ((number, text, found, expected),) = frame.attrs[MALFORMED_ROWS]
    assert (number, text, found, expected) == (3, "LN_2,31,extra", 3, 2)


def test_gzip_and_parquet(tmp_path):
    frame = pd.DataFrame({"Loan_ID": ["LN_1", "LN_2"], "Age": [30, 41]})
    gz = tmp_path / "loans.csv.gz"
    gz.write_bytes(gzip.compress(frame.to_csv(index=False).encode()))
    assert read_table(gz)["Age"].tolist() == [30, 41]
    pq = tmp_path / "loans.parquet"
    frame.to_parquet(pq)
    assert read_table(pq, as_text=True)["Age"].tolist() == ["30", "41"]


def test_corrupt_parquet(tmp_path):
    path = tmp_path / "loans.parquet"
    path.write_bytes(b"PAR1garbagegarbage")
    with pytest.raises(DataFileError, match="Parquet"):
        read_table(path)


def test_duplicate_header_names(tmp_path):
    path = tmp_path / "loans.csv"
    path.write_text("Loan_ID,Age,Age\nLN_1,1,2\n", encoding="utf-8")
    with pytest.raises(DataFileError, match="duplicate column names"):
        read_table(path)
