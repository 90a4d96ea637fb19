"""Reading loan tables from CSV and Parquet, with file-level problems as clear errors.

Row-level problems are not decided here: a CSV record with the wrong number of fields is
skipped by the reader and listed in ``frame.attrs["malformed_rows"]`` as
``(line_number, text, fields_found, fields_expected)`` so that the data contract can send it
to the rejects file. Line numbers count the header as line 1, as a spreadsheet does.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import logging
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from charset_normalizer import from_bytes

from loanrecovery.exceptions import DataFileError

__all__ = ["read_table", "read_parquet_folder", "parquet_parts", "MALFORMED_ROWS", "NULL_VALUES"]

logger = logging.getLogger(__name__)

#: Texts read as a missing value. "None" is not one of them: it is a level (no action taken).
NULL_VALUES = ("", "NA", "N/A", "NULL", "null", "NaN", "nan")

#: Key of ``DataFrame.attrs`` listing CSV records that could not be split into fields.
MALFORMED_ROWS = "malformed_rows"

_PARQUET_MAGIC = b"PAR1"
_OTHER_DELIMITERS = (";", "\t", "|")
_SPREADSHEET_SUFFIXES = {".xlsx", ".xls", ".xlsm", ".ods"}
_ENCODING_SAMPLE = 1 << 20


def read_table(
    path: str | Path, *, as_text: bool = False, delimiter: str | None = None
) -> pd.DataFrame:
    """Read a CSV or Parquet file into a DataFrame.

    Parameters
    ----------
    path : str or Path
        A ``.csv`` (any common encoding, with or without BOM, quoted fields, optionally
        gzip-compressed) or ``.parquet`` file.
    as_text : bool, default=False
        Read every CSV column as text (missing values as ``None``) so that a data contract
        can check each value itself; Parquet columns are converted to text too.
    delimiter : str, optional
        The CSV field delimiter. By default a comma; a file that is clearly separated by
        ``;``, tab or ``|`` is refused with a message saying how to read it.

    Returns
    -------
    DataFrame
        The table. Malformed CSV records are listed in ``frame.attrs["malformed_rows"]``.

    Raises
    ------
    DataFileError
        The file is missing, empty, has a header but no rows, is not a table, or uses
        another delimiter than the one expected.
    """
    path = Path(path)
    if not path.exists():
        raise DataFileError(path, "file not found")
    if path.is_dir():
        frame = read_parquet_folder(path).to_pandas()
        frame = _as_text(frame) if as_text else frame
        frame.attrs[MALFORMED_ROWS] = []
        if len(frame) == 0:
            raise DataFileError(path, "has a header but no data rows")
        logger.info("read %s: %d rows x %d columns", path, len(frame), frame.shape[1])
        return frame
    if path.suffix.lower() in _SPREADSHEET_SUFFIXES:
        raise DataFileError(path, "spreadsheet workbooks are not read; save the sheet as CSV")
    raw = path.read_bytes()
    if not raw.strip():
        raise DataFileError(path, "file is empty, expected a header line and data rows")
    if raw[:4] == _PARQUET_MAGIC or path.suffix.lower() in {".parquet", ".pq"}:
        frame = _read_parquet(path, raw, as_text=as_text)
    else:
        frame = _read_csv(path, raw, as_text=as_text, delimiter=delimiter)
    if frame.shape[1] == 0:
        raise DataFileError(path, "no columns found, expected a header line")
    if len(frame) == 0 and not frame.attrs.get(MALFORMED_ROWS):
        raise DataFileError(path, "has a header but no data rows")
    logger.info("read %s: %d rows x %d columns", path, len(frame), frame.shape[1])
    return frame


def _read_parquet(path: Path, raw: bytes, *, as_text: bool) -> pd.DataFrame:
    try:
        table = pq.read_table(io.BytesIO(raw))
    except (pa.ArrowException, OSError) as exc:
        raise DataFileError(path, f"not a readable Parquet file ({exc})") from None
    frame = _as_text(table.to_pandas()) if as_text else table.to_pandas()
    frame.attrs[MALFORMED_ROWS] = []
    return frame


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Every value as text (missing values as None), as the CSV reader gives them."""
    frame = frame.astype(object).where(frame.notna(), None)  # type: ignore[call-overload]
    return frame.apply(lambda col: col.map(lambda v: None if v is None else str(v)))


def parquet_parts(folder: str | Path) -> list[Path]:
    """The part files of a Parquet folder (``*.parquet``, sorted by name).

    Raises
    ------
    DataFileError
        The folder holds no ``.parquet`` file.
    """
    folder = Path(folder)
    parts = sorted(p for p in folder.glob("*.parquet") if p.is_file())
    if not parts:
        raise DataFileError(
            folder,
            "is a folder with no .parquet files; expected a CSV or Parquet file or a "
            "Parquet folder (part files *.parquet, as `simulate --format parquet` writes)",
        )
    return parts


def read_parquet_folder(folder: str | Path) -> pa.Table:
    """A Parquet folder's part files read in name order and concatenated (one table).

    Raises
    ------
    DataFileError
        No part file, a part that is not Parquet, or parts whose columns differ.
    """
    tables = []
    for part in parquet_parts(folder):
        try:
            tables.append(pq.read_table(part))
        except (pa.ArrowException, OSError) as exc:
            raise DataFileError(part, f"not a readable Parquet file ({exc})") from None
    try:
        return pa.concat_tables(tables, promote_options="permissive")
    except (pa.ArrowException, ValueError) as exc:
        raise DataFileError(
            folder, f"its part files do not have the same columns ({exc}); expected one table"
        ) from None


def _decompress(path: Path, raw: bytes) -> bytes:
    if raw[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(raw)
        except OSError as exc:
            raise DataFileError(path, f"damaged gzip file ({exc})") from None
    return raw


def _detect_encoding(path: Path, raw: bytes) -> str:
    """Return a Python codec name for ``raw``; refuse bytes that are not text."""
    if raw.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in raw[:8192]:
        raise DataFileError(path, "contains binary data, expected a CSV text or Parquet file")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"
    best = from_bytes(raw[:_ENCODING_SAMPLE]).best()
    if best is None:
        raise DataFileError(path, "is not text in any known encoding, expected CSV or Parquet")
    logger.info("%s: text encoding detected as %s", path, best.encoding)
    return str(best.encoding)


def _header_fields(path: Path, text_head: str, delimiter: str) -> list[str]:
    first_line = text_head.lstrip("\ufeff").splitlines()[0] if text_head.strip() else ""
    try:
        return next(csv.reader([first_line], delimiter=delimiter))
    except (csv.Error, StopIteration):
        raise DataFileError(path, "header line cannot be read as CSV") from None


def _check_delimiter(path: Path, header: list[str], delimiter: str) -> None:
    if len(header) != 1:
        return
    for other in _OTHER_DELIMITERS:
        if other != delimiter and other in header[0]:
            shown = "tab" if other == "\t" else repr(other)
            raise DataFileError(
                path,
                f"the header has one column but contains {shown}: the file seems separated by "
                f"{shown}, not {delimiter!r}; pass --delimiter {shown} or save it as "
                "comma-separated CSV",
            )


_DELIMITER_NAMES = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}


def _delimiter(path: Path, delimiter: str | None) -> str:
    """The delimiter as one character; ``tab``, ``\\t``, ``semicolon`` … are accepted."""
    if delimiter is None:
        return ","
    value = _DELIMITER_NAMES.get(delimiter.strip().lower(), delimiter)
    if len(value) != 1:
        raise DataFileError(
            path, f"delimiter {delimiter!r} is not one character; expected e.g. ',', ';', tab"
        )
    return value


def _read_csv(path: Path, raw: bytes, *, as_text: bool, delimiter: str | None) -> pd.DataFrame:
    raw = _decompress(path, raw)
    if not raw.strip():
        raise DataFileError(path, "file is empty, expected a header line and data rows")
    encoding = _detect_encoding(path, raw)
    delimiter = _delimiter(path, delimiter)
    text_head = raw[:65536].decode(encoding, errors="replace")
    header = [
        name.strip() or f"Unnamed_{i + 1}"
        for i, name in enumerate(_header_fields(path, text_head, delimiter))
    ]
    if all(name.startswith("Unnamed_") for name in header):
        raise DataFileError(path, "the first line is blank, expected a header line")
    _check_delimiter(path, header, delimiter)
    duplicated = sorted({h for h in header if header.count(h) > 1})
    if duplicated:
        raise DataFileError(path, f"duplicate column names in the header: {duplicated}")

    malformed: list[tuple[int | None, str, int, int]] = []

    def _on_invalid(row: pacsv.InvalidRow) -> str:
        malformed.append((row.number, row.text, row.actual_columns, row.expected_columns))
        return "skip"

    read_options = pacsv.ReadOptions(
        encoding="utf8" if encoding in {"utf-8", "utf-8-sig"} else encoding,
        use_threads=False,
        column_names=header,
        skip_rows=1,
    )
    convert_options = pacsv.ConvertOptions(
        column_types={name: pa.string() for name in header} if as_text else None,
        strings_can_be_null=True,
        null_values=list(NULL_VALUES),
    )
    parse_options = pacsv.ParseOptions(delimiter=delimiter, invalid_row_handler=_on_invalid)
    try:
        table = pacsv.read_csv(
            io.BytesIO(raw),
            read_options=read_options,
            parse_options=parse_options,
            convert_options=convert_options,
        )
    except (pa.ArrowException, UnicodeError, LookupError) as exc:
        raise DataFileError(path, f"cannot be read as CSV ({exc})") from None
    frame = table.to_pandas()
    if as_text:
        frame = frame.astype(object).where(frame.notna(), None)
    frame.attrs[MALFORMED_ROWS] = malformed
    if malformed:
        logger.warning("%s: %d malformed CSV records skipped", path, len(malformed))
    return frame
