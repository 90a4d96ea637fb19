"""The book-wide steps of ``apply --engine dask``, run once at the driver.

Between the passes of :mod:`loanrecovery.scale.apply_parts`, the driver reads the small
columns the partitions wrote and runs the same library functions as single-process
``apply`` on the whole book:

* :func:`decide` (after pass 1): the watchlist's rank and alerts
  (:func:`~loanrecovery.early_warning.watchlist.build_watchlist`) and its reason band
  (:func:`~loanrecovery.early_warning.watchlist_model.reason_band`) over every listed loan;
  the recovery plan (:func:`~loanrecovery.recovery.planning.plan_recovery`, one budget and
  the capacities over every case, whose expected recovery and cost the effect models
  predict here: they code the categorical features over the values of all the cases) and
  each planned account's figures (:func:`~loanrecovery.bundle.accounts.plan_columns`).
  Its memory: the listed loans (about 10 values each) and the cases (the loan row, about
  40 decision features, and the expected recovery and cost of every action per
  cross-fitting fold).
* :func:`rank` (after pass 2): the priority rank
  (:func:`~loanrecovery.bundle.accounts.priority_ranks`) over every account with an action
  (identifier, group and key each), and the contact hours of the policy's contact actions
  (:func:`~loanrecovery.bundle.accounts.schedule_policy_contacts`: each UTC offset's
  actions take the allowed hours in turn, in loan-table order over the whole book).

Each writes its decisions per partition under ``_book/`` and, last, a marker file; a rerun
of the same job that finds the marker reads it instead of deciding again.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from loanrecovery.bundle.accounts import plan_columns, priority_ranks, schedule_policy_contacts
from loanrecovery.contract.validate import natural_order
from loanrecovery.early_warning.watchlist import build_watchlist
from loanrecovery.early_warning.watchlist_model import RAW_P3, reason_band
from loanrecovery.exceptions import DataFileError
from loanrecovery.jsonable import to_jsonable
from loanrecovery.recovery.features import code_categories
from loanrecovery.recovery.runner import plan_recovery, recovery_json, values_by_fold
from loanrecovery.scale.apply_parts import BOOK_DIR, read_part
from loanrecovery.scale.jobs import write_json_atomic, write_parquet_atomic

__all__ = ["decide", "rank", "DECIDED", "RANKED"]

#: Marker files of the two driver steps (inside ``_book/``).
DECIDED = "decided.json"
RANKED = "ranked.json"
_PART = "_Part"


def _gather(folder: Path, names: list[str]) -> pd.DataFrame | None:
    """The part files of ``folder`` in partition order, with the partition of each row."""
    frames = []
    for name in names:
        frame = read_part(folder / f"{name}.parquet")
        if frame is not None and len(frame):
            frames.append(frame.assign(**{_PART: name}))
    return pd.concat(frames, ignore_index=True) if frames else None


def _split(frame: pd.DataFrame, folder: Path) -> None:
    """Write ``frame``'s rows of each partition to ``folder/<part>.parquet``."""
    for name, rows in frame.groupby(_PART, sort=False):
        write_parquet_atomic(
            rows.drop(columns=[_PART]).reset_index(drop=True), folder / f"{name}.parquet"
        )


def _alerts(bundle: Any, work: Path, names: list[str], floor: float) -> dict[str, Any]:
    """The watchlist's rank, alerts and reason band over the whole book."""
    listed = _gather(work / "listed", names)
    if listed is None or bundle.watchlist is None:
        return {"listed": 0, "alerts": 0, "month": None}
    end = int(listed["Month"].max())
    # Only the book's latest month is listed; the feature rows are in Loan_ID order.
    listed = listed.loc[listed["Month"] == end].sort_values("Loan_ID", kind="stable")
    listed = listed.reset_index(drop=True)
    model = bundle.watchlist
    band = np.zeros(len(listed), dtype=bool)
    band[reason_band(listed[RAW_P3].to_numpy(dtype=float), model.alert_budget)] = True
    probabilities = pd.DataFrame(
        {
            "P_3": listed[RAW_P3].to_numpy(dtype=float),
            "P_6": listed["P6"].to_numpy(dtype=float),
            "P_12": listed["P12"].to_numpy(dtype=float),
        }
    )
    ranked = build_watchlist(
        listed.rename(columns={"Days_Past_Due": "DPD"}),
        probabilities,
        listed["Expected_Months_To_Default"].to_numpy(dtype=float),
        listed["Segment"].to_numpy(dtype=object),
        [""] * len(listed),
        alert_budget=model.alert_budget,
        min_probability=floor,
    )
    by_id = ranked.set_index(ranked["Loan_ID"].astype(str))
    ids = listed["Loan_ID"].astype(str).to_numpy()
    decided = pd.DataFrame(
        {
            "Loan_ID": ids,
            "Rank": by_id["Rank"].reindex(ids).to_numpy(),
            "Alert": by_id["Alert"].reindex(ids).to_numpy(dtype=bool),
            "Band": band,
            _PART: listed[_PART].to_numpy(),
        }
    )
    _split(decided, work / "alerts")
    return {"listed": len(listed), "alerts": int(decided["Alert"].sum()), "month": end}


def _check_snapshots(records: dict[str, dict[str, Any]]) -> None:
    """One book has one snapshot: the month the plan counts prior actions up to, and the
    as-of month of the accounts, must be those of every partition."""
    for key, what in (
        ("snapshot", "the month the recovery plan counts prior actions up to"),
        ("as_of", "the as-of month of the accounts"),
    ):
        seen = {n: str(r[key]) for n, r in records.items() if r.get(key) is not None}
        if len(set(seen.values())) > 1:
            shown = ", ".join(f"{n}: {v}" for n, v in sorted(seen.items())[:6])
            raise DataFileError(
                min(seen),
                f"the partitions do not share {what} ({shown}); apply --engine dask needs "
                "one snapshot for the whole book",
            )


def _plan(bundle: Any, work: Path, names: list[str]) -> dict[str, Any] | None:
    """The optimized plan over every case of the book."""
    cases = _gather(work / "cases", names)
    if cases is None or bundle.effects is None:
        return None
    features = _gather(work / "case_features", names)
    if features is None or len(features) != len(cases):
        raise AssertionError("the cases and their features were not written together")
    # The cases in the book's loan-table order, as single-process apply plans them (the
    # contact hours of the plan take their turn in that order).
    order = natural_order(cases["Loan_ID"])
    cases = cases.iloc[order].reset_index(drop=True)
    features = features.iloc[order].reset_index(drop=True)
    part = cases.pop(_PART).to_numpy()
    risk = cases.pop("_Risk").to_numpy(dtype=float)
    features = code_categories(features.drop(columns=[_PART]), regather=True)
    cases, rec, cost, net_folds = values_by_fold(
        cases, features, bundle.effects.estimator, bundle.config.catalogue
    )
    recovery = plan_recovery(
        cases, risk, rec, cost, net_folds, effects=bundle.effects, **bundle.config.plan_options()
    )
    plan = recovery.plans["optimized"].reset_index(drop=True)
    figures = plan_columns(recovery).reset_index(drop=True)
    rows = pd.concat([plan, figures], axis=1).assign(**{_PART: part})
    _split(rows, work / "plan")
    return dict(to_jsonable(recovery_json(recovery)))


def decide(
    bundle: Any,
    out: Path,
    names: list[str],
    records: dict[str, dict[str, Any]],
    *,
    alert_min_probability: float | None,
) -> dict[str, Any]:
    """The watchlist's alerts and reason band and the recovery plan of the whole book
    (module docstring), written per partition; returns their summary."""
    work = out / BOOK_DIR
    marker = work / DECIDED
    if marker.is_file():
        return dict(json.loads(marker.read_text(encoding="utf-8")))
    floor = bundle.config.limits.alert_min_probability
    floor = floor if alert_min_probability is None else alert_min_probability
    _check_snapshots(records)
    summary = {
        "watchlist": _alerts(bundle, work, names, float(floor)),
        "recovery": _plan(bundle, work, names),
    }
    write_json_atomic(summary, marker)
    return summary


def rank(bundle: Any, out: Path, names: list[str]) -> dict[str, Any]:
    """The priority rank over the whole book and the contact hours of the policy's contact
    actions (their turn runs over the whole book in loan-table order), written per
    partition."""
    work = out / BOOK_DIR
    marker = work / RANKED
    if marker.is_file():
        return dict(json.loads(marker.read_text(encoding="utf-8")))
    keys = _gather(work / "keys", names)
    ranked = 0
    if keys is not None:
        ranks = priority_ranks(keys)
        keys["Priority_Rank"] = ranks.reindex(keys["Loan_ID"].to_numpy()).to_numpy()
        _split(keys[["Loan_ID", "Priority_Rank", _PART]], work / "ranks")
        ranked = len(keys)
    contacts = _gather(work / "contacts", names)
    scheduled = 0
    if contacts is not None:
        contacts = _loan_order(contacts)
        schedule_policy_contacts(contacts, bundle.config)
        _split(contacts[["Loan_ID", "_Hour", "Contact_Window", _PART]], work / "windows")
        scheduled = len(contacts)
    summary = {"ranked": ranked, "policy_contacts": scheduled}
    write_json_atomic(summary, marker)
    return summary


def _loan_order(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows gathered from the partitions in the book's loan-table order (the contract sorts
    the loans by ``Loan_ID`` in natural order)."""
    return frame.iloc[natural_order(frame["Loan_ID"])].reset_index(drop=True)
