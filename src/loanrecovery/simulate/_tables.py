"""The four output tables, derived from the main path records."""

from __future__ import annotations

import numpy as np
import pandas as pd

from loanrecovery.actions import ACTIONS, NO_ACTION
from loanrecovery.contract.schema import LOAN_COLUMNS, PAYMENT_SPECS
from loanrecovery.simulate import _params as P
from loanrecovery.simulate._engine import MainPath
from loanrecovery.simulate._state import ACTIVE, CHARGED_OFF, PAID_OFF, REPOSSESSED, STATUS_NAMES

#: The 21 canonical columns, in the contract's order.
CANONICAL_COLUMNS: tuple[str, ...] = LOAN_COLUMNS
EXTRA_LOAN_COLUMNS: tuple[str, ...] = (
    "Origination_Month",
    "Snapshot_Month",
    "Contact_Opt_Out",
    "UTC_Offset",
    "Default_Next_6M",
    "Loan_Status",
    "Last_Month",
    "Current_EMI",
)
PAYMENT_COLUMNS: tuple[str, ...] = tuple(spec.name for spec in PAYMENT_SPECS)
COLLECTION_COLUMNS: tuple[str, ...] = (
    "Action_ID",
    "Loan_ID",
    "Month",
    "Action",
    "Cost",
    "Recovered_Amount",
    "Days_Past_Due_At_Action",
    "Balance_At_Action",
    "Arrears_At_Action",
    "Episode",
    "Secured",
    "Segment",
)
#: A month counts as a missed payment when less than this share of the installment is paid
#: (nothing or next to nothing); short payments above it make the loan "Delayed".
MISSED_SHARE = 0.1


def dpd_bucket(cycles: np.ndarray) -> np.ndarray:
    """Label of the days-past-due bucket at an action: 30-59, 60-89 or 90+."""
    return np.asarray(["30-59", "60-89", "90+"])[np.clip(cycles, 1, 3) - 1]


def segment_labels(cycles: np.ndarray, secured: np.ndarray) -> np.ndarray:
    """Segment of an action: DPD bucket at action x secured/unsecured, e.g. '60-89|secured'."""
    kind = np.where(secured, "secured", "unsecured")
    return np.char.add(np.char.add(dpd_bucket(cycles).astype(str), "|"), kind)


def recovered_amounts(path: MainPath) -> np.ndarray:
    """Total paid in the RECOVERY_HORIZON months after each action (month t+1..t+12)."""
    ev = path.events
    cum = np.concatenate([np.zeros((path.paid.shape[0], 1)), np.cumsum(path.paid, axis=1)], axis=1)
    # months t+1..t+H are columns t..t+H-1; cum[:, j] = sum of columns < j
    return cum[ev.loan, ev.month + P.RECOVERY_HORIZON] - cum[ev.loan, ev.month]


def realised_costs(path: MainPath, recovered: np.ndarray) -> np.ndarray:
    """Action cost: fixed part (plus settlement discount) plus the agency commission."""
    agency = path.events.action == ACTIONS.index("Agency Placement")
    return path.events.cost_at_action + agency * P.AGENCY_COMMISSION * recovered


def collections_table(path: MainPath, loan_ids: np.ndarray) -> pd.DataFrame:
    """One row per collection action in months 1..M, in (month, loan) order.

    Row i is event i of ``path.events`` (the engine records them in that order), which
    is what keys the truth by Action_ID.
    """
    ev = path.events
    recovered = recovered_amounts(path)
    cost = realised_costs(path, recovered)
    if ev.month.size and not (np.lexsort((ev.loan, ev.month)) == np.arange(ev.month.size)).all():
        raise AssertionError("collection events are not in (month, loan) order")
    frame = pd.DataFrame(
        {
            "Loan_ID": loan_ids[ev.loan],
            "Month": ev.month,
            "Action": np.asarray(ACTIONS)[ev.action],
            "Cost": np.round(cost, 2),
            "Recovered_Amount": np.round(recovered, 2),
            "Days_Past_Due_At_Action": P.DAYS_PER_CYCLE * ev.cycles,
            "Balance_At_Action": np.round(ev.balance, 2),
            "Arrears_At_Action": np.round(ev.arrears, 2),
            "Episode": ev.episode,
            "Secured": np.where(ev.state.secured, "Yes", "No"),
            "Segment": segment_labels(ev.cycles, ev.state.secured),
        }
    )
    frame.insert(0, "Action_ID", [f"ACT_{i}" for i in range(1, len(frame) + 1)])
    return frame.reset_index(drop=True)


def payments_table(path: MainPath, n_months: int, loan_ids: np.ndarray) -> pd.DataFrame:
    """One row per loan and observed month 1..M in which the loan was active."""
    rows, cols = np.nonzero(path.active[:, :n_months])
    return pd.DataFrame(
        {
            "Loan_ID": loan_ids[rows],
            "Month": cols + 1,
            "Amount_Due": np.round(path.due[rows, cols], 2),
            "Amount_Paid": np.round(path.paid[rows, cols], 2),
            "Days_Past_Due": P.DAYS_PER_CYCLE * path.cycles[rows, cols],
            "Outstanding_Balance": np.round(path.balance[rows, cols], 2),
        }
    )


def _last_month(active: np.ndarray) -> np.ndarray:
    """0-based column of each loan's last active month (-1 if never active)."""
    n_cols = active.shape[1]
    rev = np.argmax(active[:, ::-1], axis=1)
    return np.where(active.any(axis=1), n_cols - 1 - rev, -1)


def _payment_history(
    path: MainPath, last: np.ndarray, n_months: int
) -> tuple[np.ndarray, np.ndarray]:
    """Payment_History over the last 12 observed months and Num_Missed_Payments."""
    cols = np.arange(n_months)[None, :]
    active = path.active[:, :n_months]
    missed = active & (path.paid[:, :n_months] < MISSED_SHARE * path.installment[:, :n_months])
    window = active & (cols > last[:, None] - 12) & (cols <= last[:, None])
    late = window & (path.cycles[:, :n_months] > 0)
    history = np.where(
        (missed & window).any(axis=1), "Missed", np.where(late.any(axis=1), "Delayed", "On-Time")
    )
    return history, missed.sum(axis=1)


def _recovery_status(
    path: MainPath,
    collections: pd.DataFrame,
    loan_index: dict[str, int],
    last: np.ndarray,
    status: np.ndarray,
    n_months: int,
) -> np.ndarray:
    """Outcome of each loan's latest collection episode, when known by month M."""
    out = np.full(status.size, None, dtype=object)
    if collections.empty:
        return out
    first = collections.groupby(["Loan_ID", "Episode"], sort=False)["Month"].min().reset_index()
    latest = first.sort_values(["Loan_ID", "Episode"]).groupby("Loan_ID").tail(1)
    idx = latest["Loan_ID"].map(loan_index).to_numpy()
    start = latest["Month"].to_numpy()
    end = start + P.RECOVERY_HORIZON  # month at which the 12-month outcome is read
    closed = status[idx] != ACTIVE
    close_month = last[idx] + 1
    closed_in_window = closed & (close_month <= end)
    known = (end <= n_months) | closed_in_window
    end_col = np.minimum(end, n_months) - 1
    current_at_end = path.cycles[idx, end_col] == 0
    residual = path.balance[idx, np.maximum(close_month - 1, 0)]
    st = status[idx]
    closed_label = np.select(
        [st == PAID_OFF, st == CHARGED_OFF, (st == REPOSSESSED) & (residual <= 1.0)],
        ["Fully Recovered", "Written Off", "Fully Recovered"],
        default="Partially Recovered",
    )
    open_label = np.where(current_at_end, "Fully Recovered", "Partially Recovered")
    label = np.where(closed_in_window, closed_label, open_label)
    out[idx[known]] = label[known]
    return out


def loans_table(
    static: pd.DataFrame,
    path: MainPath,
    collections: pd.DataFrame,
    n_months: int,
) -> pd.DataFrame:
    """One row per loan observed in months 1..M, its state at its last observed month."""
    loan_ids = static["Loan_ID"].to_numpy()
    loan_index = {lid: i for i, lid in enumerate(loan_ids)}
    snap = path.snapshot
    last = _last_month(path.active[:, :n_months])
    seen = last >= 0
    safe_last = np.maximum(last, 0)
    n = len(static)
    history, n_missed = _payment_history(path, safe_last, n_months)
    status = snap.status
    attempts = collections.groupby("Loan_ID").size()
    method = collections.groupby("Loan_ID")["Action"].last()
    legal = (
        collections.assign(legal=collections["Action"] == "Legal Action")
        .groupby("Loan_ID")["legal"]
        .any()
    )
    future = path.active[:, n_months : n_months + P.DEFAULT_HORIZON] & (
        path.cycles[:, n_months : n_months + P.DEFAULT_HORIZON] >= 3
    )
    frame = static.copy()
    frame["Collateral_Value"] = np.round(snap.collateral, 2)
    frame["Outstanding_Loan_Amount"] = np.round(path.balance[np.arange(n), safe_last], 2)
    frame["Payment_History"] = history
    frame["Num_Missed_Payments"] = n_missed.astype(np.int64)
    frame["Days_Past_Due"] = P.DAYS_PER_CYCLE * path.cycles[np.arange(n), safe_last]
    frame["Recovery_Status"] = _recovery_status(
        path, collections, loan_index, safe_last, status, n_months
    )
    frame["Collection_Attempts"] = frame["Loan_ID"].map(attempts).fillna(0).astype(np.int64)
    frame["Collection_Method"] = frame["Loan_ID"].map(method).fillna(NO_ACTION)
    frame["Legal_Action_Taken"] = np.where(frame["Loan_ID"].isin(legal[legal].index), "Yes", "No")
    frame["Snapshot_Month"] = n_months
    frame["Default_Next_6M"] = ((status == ACTIVE) & future.any(axis=1)).astype(np.int64)
    frame["Loan_Status"] = np.asarray(STATUS_NAMES)[status]
    frame["Last_Month"] = safe_last + 1
    frame["Current_EMI"] = np.round(snap.installment, 2)
    frame = frame.loc[seen, list(CANONICAL_COLUMNS) + list(EXTRA_LOAN_COLUMNS)]
    return frame.reset_index(drop=True)
