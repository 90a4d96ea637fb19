"""Bulk inserts of many new rows for the importer: PostgreSQL ``COPY ... FROM STDIN`` and
SQLite driver-level ``executemany``, in the caller's transaction.

SQLAlchemy's ``insert()`` with a list of rows costs about 40 µs a row on PostgreSQL (psycopg
sends one ``INSERT`` per row in a pipeline) and 10 µs on SQLite (one parameter dict built
and checked per row); a 1,000,000-loan book has 12,000,000 panel rows. Here the rows are
plain tuples and every value goes through the column type's own bind processor for the
dialect (the JSON columns are serialised and the SQLite dates formatted exactly as an ORM
insert stores them), so what is stored is the same. Other databases use ``insert()``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

__all__ = ["analyze", "bulk_insert", "bulk_insert_rows"]

_CHUNK = 20_000


def _converter(
    table: Any, keys: Sequence[str], dialect: Any
) -> Callable[[Sequence[Any]], Sequence[Any]]:
    """A row's values through its columns' bind processors (the row as it is if none)."""
    procs = [table.c[k].type.dialect_impl(dialect).bind_processor(dialect) for k in keys]
    if all(p is None for p in procs):
        return _same
    full = [p if p is not None else _same for p in procs]

    def convert(row: Sequence[Any]) -> Sequence[Any]:
        return [p(v) for p, v in zip(full, row, strict=True)]

    return convert


def _same(value: Any) -> Any:
    return value


def bulk_insert(
    session: Session, model: Any, keys: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """Insert ``rows`` (tuples of values in the order of ``keys``, the column names) into
    ``model``'s table, in the session's transaction; pending ORM changes are flushed first.
    Columns not in ``keys`` get their database defaults (e.g. an autoincrement id).
    Returns the number of rows inserted."""
    session.flush()
    connection = session.connection()
    dialect = connection.dialect
    table = model.__table__
    convert = _converter(table, keys, dialect)
    if dialect.name not in ("postgresql", "sqlite"):
        dicts = [dict(zip(keys, row, strict=True)) for row in rows]
        for start in range(0, len(dicts), _CHUNK):
            session.execute(insert(model), dicts[start : start + _CHUNK])
        return len(dicts)
    raw = connection.connection.driver_connection
    if raw is None:  # pragma: no cover - a pooled connection always has one
        raise RuntimeError("no driver connection to bulk-insert into")
    columns = ", ".join(f'"{k}"' for k in keys)
    done = 0
    if dialect.name == "postgresql":
        with (
            raw.cursor() as cursor,
            cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy,
        ):
            for row in rows:
                copy.write_row(convert(row))
                done += 1
        return done
    sql = f'INSERT INTO "{table.name}" ({columns}) VALUES ({", ".join("?" * len(keys))})'
    cursor = raw.cursor()
    try:
        batch: list[Sequence[Any]] = []
        for row in rows:
            batch.append(convert(row))
            if len(batch) >= _CHUNK:
                cursor.executemany(sql, batch)
                done += len(batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            done += len(batch)
    finally:
        cursor.close()
    return done


def bulk_insert_rows(session: Session, model: Any, rows: Sequence[dict[str, Any]]) -> int:
    """:func:`bulk_insert` of dicts that all have the same keys (those of the first)."""
    if not rows:
        return 0
    keys = list(rows[0])
    return bulk_insert(session, model, keys, ([r[k] for k in keys] for r in rows))


def analyze(session: Session, models: Sequence[Any]) -> None:
    """On PostgreSQL, ``ANALYZE`` the tables of ``models`` in the session's transaction (the
    statistics are committed with the rows, and see them); nothing elsewhere (SQLite plans
    without statistics, and its ``ANALYZE`` reads every index in full)."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        return
    session.flush()
    for model in models:
        connection.exec_driver_sql(f'ANALYZE "{model.__table__.name}"')
