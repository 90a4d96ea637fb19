"""Validating the collection history (``collections.csv``: one row per past action).

The contract columns are :data:`~loanrecovery.contract.schema.COLLECTION_SPECS`; the
recovery step also reads ``Days_Past_Due_At_Action`` and ``Balance_At_Action`` (typed here
when present). Row-level rules, each a reject with its reason:

* a value missing, not a finite number, or out of range (the loan contract's rules);
* an action on a loan that is not in the loan table (with ``loan_ids``);
* an action dated after the as-of month (the loans' ``Snapshot_Month``);
* ``Recovered_Amount`` more than ``max_recovery_factor`` times ``Balance_At_Action``;
* a repeated ``Action_ID``: identical copies keep one (the earliest file row), copies that
  disagree are all rejected, so the result does not depend on row order.

Accepted rows are sorted by ``Loan_ID``, ``Month``, ``Action_ID`` (when present) then their
values, so a shuffled file gives the same accepted table.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from loanrecovery.contract.schema import COLLECTION_SPECS, ColumnSpec, Kind, Role
from loanrecovery.contract.validate import REJECT_COLUMNS, ValidationResult, validate_frame

__all__ = [
    "validate_collections",
    "HISTORY_SPECS",
    "MAX_RECOVERY_FACTOR",
]

logger = logging.getLogger(__name__)

#: ``Recovered_Amount`` may exceed ``Balance_At_Action`` by this factor (interest and fees
#: accrue after the action; the simulator's largest ratio is about 1.1).
MAX_RECOVERY_FACTOR = 2.0

#: The columns the recovery step reads besides the contract's, typed when present.
HISTORY_SPECS: tuple[ColumnSpec, ...] = (
    *COLLECTION_SPECS,
    ColumnSpec("Action_ID", Kind.TEXT, Role.IDENTIFIER, required=False, nullable=True),
    ColumnSpec(
        "Days_Past_Due_At_Action",
        Kind.NUMBER,
        Role.TREATMENT,
        required=False,
        minimum=0,
        maximum=100_000,
    ),
    ColumnSpec(
        "Balance_At_Action",
        Kind.NUMBER,
        Role.TREATMENT,
        required=False,
        minimum=0,
        maximum=1e12,
    ),
)


def _extra_rejects(
    accepted: pd.DataFrame, rows: np.ndarray, mask: np.ndarray, column: str, reason: pd.Series
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Loan_ID": accepted.loc[mask, "Loan_ID"].to_numpy(),
            "Row": rows[mask],
            "Column": column,
            "Value": accepted.loc[mask, column].astype("string").to_numpy(),
            "Reason": reason[mask].to_numpy() if len(reason) == len(mask) else reason,
        },
        columns=REJECT_COLUMNS,
    )


def _duplicate_actions(accepted: pd.DataFrame, rows: np.ndarray) -> tuple[np.ndarray, pd.Series]:
    """Rows to reject for a repeated Action_ID, and why (independent of row order)."""
    bad = np.zeros(len(accepted), dtype=bool)
    reason = pd.Series("", index=accepted.index, dtype=object)
    if "Action_ID" not in accepted.columns:
        return bad, reason
    ids = accepted["Action_ID"]
    repeated = (ids.notna() & ids.duplicated(keep=False)).to_numpy()
    if not repeated.any():
        return bad, reason
    body = accepted.drop(columns=["Action_ID"]).astype("string").fillna("")
    content = pd.util.hash_pandas_object(body, index=False).to_numpy()
    frame = pd.DataFrame({"id": ids.to_numpy(), "row": rows, "content": content})[repeated]
    variants = frame.groupby("id")["content"].transform("nunique")
    first = frame.groupby("id")["row"].transform("min")
    conflicting = variants > 1
    copy = ~conflicting & (frame["row"] != first)
    positions = np.flatnonzero(repeated)
    bad[positions[conflicting.to_numpy()]] = True
    bad[positions[copy.to_numpy()]] = True
    why = np.where(
        conflicting,
        "Action_ID repeated with different values (rows "
        + frame.groupby("id")["row"].transform(lambda r: ", ".join(map(str, sorted(r)))).astype(str)
        + "); every copy rejected",
        "duplicate of row " + first.astype(str) + " (same Action_ID and values)",
    )
    reason.iloc[positions] = pd.Series(why, index=reason.index[positions], dtype=str)
    return bad, reason


def validate_collections(
    frame: pd.DataFrame,
    *,
    source: str,
    loan_ids: pd.Series | None = None,
    as_of: int | None = None,
    max_recovery_factor: float = MAX_RECOVERY_FACTOR,
    decimal: str = ".",
) -> ValidationResult:
    """Validate a collection history (see the module docstring for the rules).

    Parameters
    ----------
    frame : DataFrame
        The history as read.
    source : str
        File name for messages.
    loan_ids : Series, optional
        The accepted loans; an action on another loan is rejected.
    as_of : int, optional
        The as-of month (the loans' ``Snapshot_Month``); a later action is rejected.
    max_recovery_factor : float, default=MAX_RECOVERY_FACTOR
        Largest accepted ``Recovered_Amount / Balance_At_Action``.
    decimal : {".", ","}, default="."
        The decimal mark of the amounts.

    Returns
    -------
    ValidationResult
        Accepted rows sorted by loan, month and action (row order does not matter).

    Raises
    ------
    DataFileError
        A required column is missing.
    """
    result = validate_frame(frame, HISTORY_SPECS, source=source, unique_id=False, decimal=decimal)
    accepted, rows = result.accepted, result.row_numbers
    bad = np.zeros(len(accepted), dtype=bool)
    parts = [result.rejects]

    def reject(mask: np.ndarray, column: str, reason: pd.Series | str) -> None:
        nonlocal bad
        mask = mask & ~bad
        if mask.any():
            why = (
                reason if isinstance(reason, pd.Series) else pd.Series(reason, index=accepted.index)
            )
            parts.append(_extra_rejects(accepted, rows, mask, column, why))
            bad |= mask

    if loan_ids is not None:
        known = set(pd.Series(loan_ids).astype(str))
        reject(
            ~accepted["Loan_ID"].astype(str).isin(known).to_numpy(),
            "Loan_ID",
            "Loan_ID not in the loan table (or rejected there)",
        )
    if as_of is not None:
        reject(
            (accepted["Month"].to_numpy(dtype=float) > as_of),
            "Month",
            f"action dated after the as-of month {as_of} (the loans' Snapshot_Month)",
        )
    if "Balance_At_Action" in accepted.columns:
        balance = accepted["Balance_At_Action"].to_numpy(dtype=float)
        recovered = accepted["Recovered_Amount"].to_numpy(dtype=float)
        too_much = np.nan_to_num(recovered) > max_recovery_factor * np.nan_to_num(balance)
        too_much &= np.nan_to_num(recovered) > 0
        reject(
            too_much,
            "Recovered_Amount",
            f"recovered more than {max_recovery_factor:g} x Balance_At_Action "
            "(the balance owed when the action was taken)",
        )
    dup, why = _duplicate_actions(accepted, rows)
    reject(dup, "Action_ID", why)
    rejects = (
        pd.concat([p for p in parts if len(p)], ignore_index=True)
        if any(len(p) for p in parts)
        else result.rejects
    )
    kept = accepted.loc[~bad].assign(_row=rows[~bad])
    keys = ["Loan_ID", "Month", *(["Action_ID"] if "Action_ID" in kept.columns else [])]
    keys += ["Action", "Cost", "Recovered_Amount", "_row"]
    kept = kept.sort_values(keys, kind="stable")
    out = ValidationResult(
        accepted=kept.drop(columns="_row").reset_index(drop=True),
        rejects=rejects.sort_values("Row", kind="stable").reset_index(drop=True),
        row_numbers=kept["_row"].to_numpy(),
        n_rows_in=result.n_rows_in,
        source=source,
    )
    if out.n_accepted + out.n_rejected != out.n_rows_in:  # pragma: no cover - invariant
        raise AssertionError("collection validation lost rows")
    if bad.any():
        logger.warning("%s: %d more rows rejected (history rules)", source, int(bad.sum()))
    return out
