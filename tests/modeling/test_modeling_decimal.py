"""Tables of any layout read with ``--decimal ,``: number columns parsed with the decimal
comma, never 1,000-fold wrong; values in the other convention are refused and counted."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from loanrecovery.contract.numbers import read_decimal_columns
from loanrecovery.exceptions import DataQualityWarning, OptionError
from loanrecovery.modeling.training import read_table_with_decimal


def test_number_columns_are_parsed_with_the_decimal_comma():
    frame = pd.DataFrame(
        {
            "Income": ["215.422,00", "1.234", "12,39", *["7"] * 7],
            "Name": list("abcdefghij"),
            "Mixed": [*[f"{i},5" for i in range(9)], "1.5"],
        }
    )
    out, refused = read_decimal_columns(frame)
    assert out["Income"].tolist() == [215422.0, 1234.0, 12.39, *[7.0] * 7]
    assert out["Name"].tolist() == list("abcdefghij")
    assert out["Mixed"].iloc[:2].tolist() == [0.5, 1.5] and pd.isna(out["Mixed"].iloc[9])
    assert refused == {"Mixed": 1}


def test_read_table_with_decimal_reads_as_text_and_warns_of_refused_values(tmp_path):
    path = tmp_path / "t.csv"
    rows = [f"{i};{i}.000,5" for i in range(1, 20)]
    path.write_text("Id;Amount\n" + "\n".join([*rows, "20;20.5"]) + "\n", encoding="utf-8")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame = read_table_with_decimal(path, delimiter=";", decimal=",")
    assert frame["Amount"].iloc[0] == 1000.5 and pd.isna(frame["Amount"].iloc[-1])
    assert any(
        issubclass(w.category, DataQualityWarning) and "'Amount': 1 values" in str(w.message)
        for w in caught
    )
    with pytest.raises(OptionError, match="--decimal"):
        read_table_with_decimal(path, delimiter=";", decimal=";")
