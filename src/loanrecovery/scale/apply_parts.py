"""The three per-partition passes of ``apply --engine dask`` (they run on the workers).

1. :func:`prepare_partition`: validates the partition (its rejects are written), scores it
   and writes what the book-wide steps read: the watchlist rows of its performing loans
   with the unrounded 3-month probability, and the recovery cases with their decision
   features (the book-wide step predicts their recovery and cost: the effect models code
   the categorical features over the values of the whole book's cases).
2. :func:`answer_partition`: the partition's accounts table and its views, given the
   book-wide decisions (watchlist rank, alerts and reason band; the optimized plan), with
   the keys of the priority rank and the accounts given a contact by the policy.
3. :func:`finish_partition`: the book-wide priority rank and contact hours set, the final
   ``scored``, ``watchlist``, ``plan`` and ``accounts`` parts written.

Each writes its outputs atomically, then its record (:mod:`loanrecovery.scale.jobs`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from loanrecovery.actions import NO_ACTION
from loanrecovery.bundle.account import CLOSED_RULE
from loanrecovery.bundle.accounts import (
    PLAN_COLUMNS,
    account_answers,
    finish_accounts,
    policy_contacts,
    rank_keys,
)
from loanrecovery.bundle.files import load_bundle
from loanrecovery.bundle.views import plan_view, refresh_view, scored_view, watchlist_view
from loanrecovery.contract.book import read_book
from loanrecovery.early_warning.watchlist import WATCHLIST_COLUMNS
from loanrecovery.early_warning.watchlist_model import RAW_P3, segments_by_loan
from loanrecovery.recovery.features import snapshot_cases
from loanrecovery.recovery.runner import case_risks
from loanrecovery.scale.jobs import (
    RECORDS_DIR,
    cached_load,
    text_columns,
    write_json_atomic,
    write_parquet_atomic,
)
from loanrecovery.strategy import assign_strategies, explain_strategies

__all__ = [
    "BOOK_DIR",
    "VIEWS",
    "prepare_partition",
    "answer_partition",
    "finish_partition",
    "read_part",
    "CONTACT_COLUMNS",
]

#: Working folder of the book-wide steps inside the output folder.
BOOK_DIR = "_book"
#: The final outputs made from the accounts table, as ``<name>.parquet/`` folders.
VIEWS = ("scored", "watchlist", "plan")
#: The columns of the policy's contacts pass 2 writes for the book-wide turn of hours.
CONTACT_COLUMNS = ("Loan_ID", "Recommended_Action", "_Planned", "_UTC_Offset", "_Hour", "As_Of")
#: The watchlist columns pass 1 writes for the book-wide alert step.
LISTED_COLUMNS = [c for c in WATCHLIST_COLUMNS if c not in ("Rank", "Alert", "Reasons")]


def _load(path: Path) -> Any:
    return load_bundle(path)


def read_part(path: Path) -> pd.DataFrame | None:
    """A part file, or None when the step wrote none for that partition."""
    return pd.read_parquet(path) if path.is_file() else None


def _rejects(book: Any) -> pd.DataFrame:
    parts = [
        frame.assign(Table=name)
        for name, frame in book.rejects.items()
        if frame is not None and len(frame)
    ]
    if not parts:
        return pd.DataFrame(columns=["Table", "Loan_ID", "Row", "Column", "Value", "Reason"])
    out = pd.concat(parts, ignore_index=True)
    return out[["Table", *[c for c in out.columns if c != "Table"]]]


def _book(name: str, folders: dict[str, str]) -> Any:
    paths = {t: Path(folder) / f"{name}.parquet" for t, folder in folders.items()}
    return read_book(
        paths["loans"], payments=paths.get("payments"), collections=paths.get("collections")
    )


def _alert_floor(bundle: Any, alert_min_probability: float | None) -> float:
    limit = bundle.config.limits.alert_min_probability
    return float(limit if alert_min_probability is None else alert_min_probability)


def _warns(bundle: Any, book: Any) -> bool:
    return bool(bundle.watchlist is not None and book.payments is not None and len(book.payments))


def _plans(bundle: Any, book: Any) -> bool:
    return bundle.effects is not None and book.collections is not None


def prepare_partition(
    name: str,
    payload: bytes,
    *,
    folders: dict[str, str],
    out: str,
    alert_min_probability: float | None,
) -> dict[str, Any]:
    """Pass 1 (module docstring); the record holds the counts, the watchlist's month and
    the snapshot month of the cases."""
    bundle = cached_load(payload, _load, ".bundle")
    book = _book(name, folders)
    target = Path(out)
    work = target / BOOK_DIR
    write_parquet_atomic(
        text_columns(_rejects(book)), target / "rejects.parquet" / f"{name}.parquet"
    )
    record: dict[str, Any] = {
        "partition": name,
        "counts": book.counts(),
        "early_warning_month": None,
        "listed": 0,
        "cases": 0,
        "snapshot": None,
        "as_of": None if book.as_of is None else int(book.as_of),
    }
    loans = book.loans
    if len(loans):
        scored = bundle.risk.apply(loans, reasons=False)
        by_loan = pd.Series(scored.segments, index=loans["Loan_ID"].to_numpy())
        if _warns(bundle, book):
            watch = bundle.watchlist.apply(
                book.payments,
                loans,
                segments=by_loan,
                min_probability=_alert_floor(bundle, alert_min_probability),
                reasons_for=(),
                raw_p3=True,
            )
            if len(watch):
                record["early_warning_month"] = int(watch["Month"].max())
                record["listed"] = len(watch)
                write_parquet_atomic(
                    text_columns(watch[[*LISTED_COLUMNS, RAW_P3]]),
                    work / "listed" / f"{name}.parquet",
                )
        if _plans(bundle, book):
            cases, features = snapshot_cases(loans, book.payments, book.collections)
            risk_score = pd.Series(scored.scores, index=loans["Loan_ID"].to_numpy())
            cases, risk = case_risks(loans, cases, risk_score, by_loan, seed=bundle.config.seed)
            if len(cases):
                record["cases"] = len(cases)
                record["snapshot"] = _snapshot(loans, book.collections)
                write_parquet_atomic(
                    text_columns(cases.assign(_Risk=risk)), work / "cases" / f"{name}.parquet"
                )
                write_parquet_atomic(
                    text_columns(features), work / "case_features" / f"{name}.parquet"
                )
    write_json_atomic(record, target / RECORDS_DIR / f"{name}.json")
    return record


def _snapshot(loans: pd.DataFrame, collections: pd.DataFrame) -> list[Any]:
    """What the cases' prior actions are counted up to (``snapshot_cases``): the loans'
    latest ``Snapshot_Month``, else the latest action's month; the same in every part of
    one book."""
    if "Snapshot_Month" in loans:
        return ["Snapshot_Month", int(pd.to_numeric(loans["Snapshot_Month"]).max())]
    last = pd.to_numeric(collections["Month"]).max(skipna=True) if len(collections) else None
    return ["last action", None if last is None or pd.isna(last) else int(last)]


def answer_partition(
    name: str,
    payload: bytes,
    *,
    folders: dict[str, str],
    out: str,
    reasons: bool,
    alert_min_probability: float | None,
    end_month: int | None,
) -> dict[str, Any]:
    """Pass 2 (module docstring); the record holds the number of the policy's contacts."""
    bundle = cached_load(payload, _load, ".bundle")
    book = _book(name, folders)
    work = Path(out) / BOOK_DIR
    record: dict[str, Any] = {"partition": name, "contacts": 0}
    loans = book.loans
    if len(loans):
        config = bundle.config
        scored = bundle.risk.apply(loans, reasons=reasons)
        by_loan = pd.Series(scored.segments, index=loans["Loan_ID"].to_numpy())
        dpd = loans["Days_Past_Due"].to_numpy(dtype=float)
        strategies = assign_strategies(config.policy, scored.scores, scored.segments, dpd)
        rules = explain_strategies(config.policy, scored.scores, scored.segments, dpd)
        strategies[scored.closed] = NO_ACTION
        rules[scored.closed] = CLOSED_RULE
        watch = _watchlist(bundle, book, by_loan, work, name, alert_min_probability, end_month)
        plan_rows = read_part(work / "plan" / f"{name}.parquet") if _plans(bundle, book) else None
        plan = None
        if plan_rows is not None:
            plan = plan_rows[list(PLAN_COLUMNS)].set_index(plan_rows["Loan_ID"].astype(str))
            plan_rows = plan_rows.drop(columns=list(PLAN_COLUMNS))
        frame = account_answers(book, scored, strategies, rules, config, watchlist=watch, plan=plan)
        contacts = frame.loc[policy_contacts(frame), list(CONTACT_COLUMNS)]
        record["contacts"] = len(contacts)
        write_parquet_atomic(text_columns(contacts), work / "contacts" / f"{name}.parquet")
        write_parquet_atomic(rank_keys(frame), work / "keys" / f"{name}.parquet")
        views = {
            "scored": scored_view(frame, loans, scored.reasons),
            "watchlist": None if watch is None else watchlist_view(frame, watch),
            "plan": None if plan_rows is None else plan_view(frame, plan_rows),
        }
        for view, table in views.items():
            if table is not None and len(table):
                write_parquet_atomic(text_columns(table), work / "views" / view / f"{name}.parquet")
        write_parquet_atomic(text_columns(frame), work / "answers" / f"{name}.parquet")
    write_json_atomic(record, work / "answered" / f"{name}.json")
    return record


def _watchlist(
    bundle: Any,
    book: Any,
    by_loan: pd.Series,
    work: Path,
    name: str,
    alert_min_probability: float | None,
    end_month: int | None,
) -> pd.DataFrame | None:
    """The partition's rows of the book's watchlist: the book's latest month only, the
    book-wide rank, alerts and reason band (:func:`~loanrecovery.scale.apply_book.decide`)."""
    if not _warns(bundle, book):
        return None
    decided = read_part(work / "alerts" / f"{name}.parquet")
    band = [] if decided is None else decided.loc[decided["Band"], "Loan_ID"].astype(str)
    watch = bundle.watchlist.apply(
        book.payments,
        book.loans,
        segments=by_loan,
        min_probability=_alert_floor(bundle, alert_min_probability),
        reasons_for=list(band),
    )
    if not len(watch):
        return watch
    watch = watch.loc[watch["Month"] == end_month].reset_index(drop=True)
    if decided is None or not len(watch):
        return watch.iloc[:0]
    by_id = decided.set_index(decided["Loan_ID"].astype(str))
    ids = watch["Loan_ID"].astype(str).to_numpy()
    watch["Rank"] = by_id["Rank"].reindex(ids).to_numpy()
    watch["Alert"] = by_id["Alert"].reindex(ids).to_numpy(dtype=bool)
    # One segment per loan: the risk stage's (as single-process apply).
    watch = watch.assign(Segment=segments_by_loan(watch["Loan_ID"], by_loan))
    return watch.sort_values("Rank", kind="stable").reset_index(drop=True)


def finish_partition(name: str, payload: bytes, *, out: str) -> dict[str, Any]:
    """Pass 3 (module docstring): the final parts of ``accounts`` and its views."""
    cached_load(payload, _load, ".bundle")  # the same task signature as the other passes
    target = Path(out)
    work = target / BOOK_DIR
    record: dict[str, Any] = {"partition": name, "accounts": 0}
    frame = read_part(work / "answers" / f"{name}.parquet")
    if frame is not None:
        windows = read_part(work / "windows" / f"{name}.parquet")
        if windows is not None:
            by_id = windows.set_index(windows["Loan_ID"].astype(str))
            ids = frame["Loan_ID"].astype(str)
            mine = ids.isin(by_id.index).to_numpy()
            for column in ("_Hour", "Contact_Window"):
                frame.loc[mine, column] = by_id[column].reindex(ids[mine]).to_numpy()
        ranks = read_part(work / "ranks" / f"{name}.parquet")
        ranked = (
            pd.Series(dtype="int64")
            if ranks is None
            else pd.Series(ranks["Priority_Rank"].to_numpy(), index=ranks["Loan_ID"].astype(str))
        )
        accounts = finish_accounts(frame, ranked)
        for view in VIEWS:
            table = read_part(work / "views" / view / f"{name}.parquet")
            if table is not None:
                write_parquet_atomic(
                    text_columns(refresh_view(table, accounts, view)),
                    target / f"{view}.parquet" / f"{name}.parquet",
                )
        write_parquet_atomic(
            text_columns(accounts), target / "accounts.parquet" / f"{name}.parquet"
        )
        record["accounts"] = len(accounts)
    write_json_atomic(record, work / "finished" / f"{name}.json")
    return record
