"""The accounts table: one row per account, one answer (``accounts.csv``).

Built once from what a bundle's stages said of a book (:class:`~loanrecovery.bundle.Bundle`'s
``apply``); ``scored_loans.csv``, ``watchlist.csv`` and ``plan.csv`` are views of it
(:mod:`loanrecovery.bundle.views`), so a column they share with it cannot disagree.

How each answer is chosen:

* **Status**: Current / Delinquent (1-89 days past due) / In Default (90+) / Closed (paid
  off, settled, repossessed, or nothing owed) / Charged Off. Closed and charged-off accounts
  get no action, no probability of default (charged off: 1) and no rank, and are never alerted.
* **PD_3M, PD_6M, PD_12M**: the early-warning horizon models, chained so that a longer
  horizon is never lower (:mod:`loanrecovery.early_warning.horizon`), for the accounts on the
  payment panel's watchlist; an account already in default has 1; without a payment panel,
  PD_6M is the risk model's 6-month PD and the others are empty.
* **Recommended_Action**: the optimized recovery plan's action for the accounts it covers
  (active, 30+ days past due, with a collection history); else the strategy policy's rule.
  An account in default is never given a reminder: if the policy's rule gives one, it gets no
  action and ``Action_Why`` says so.
* **Expected_Gain**: the net recovery (12-month recovery less cost) the planned action adds
  over the cheapest action of the catalogue with an estimate. Doing nothing is not observable
  in a collection history (every row is an action taken), so the cheapest action stands in
  for it; ``Action_Why`` names it. ``Expected_Gain_Low`` / ``_High`` are the lowest and
  highest gain of the effect estimator's cross-fitting fold models: the model uncertainty of
  that account's figure.
* **Priority_Rank**: 1 = work first. Planned accounts by expected gain, then accounts alerted
  on the watchlist by PD_3M, then every other account with an action by PD_6M.
* **Contact_Window**: the month after the snapshot and the borrower-local hour of a contact
  action (empty for letters and legal actions).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from loanrecovery.actions import NO_ACTION, REMINDER_ACTIONS
from loanrecovery.bundle.account import (
    CHARGED_OFF_RULE,
    CLOSED_RULE,
    NO_REMINDER_RULE,
    account_status,
)
from loanrecovery.config import Config
from loanrecovery.contract.book import Book
from loanrecovery.modeling.scoring import score_band
from loanrecovery.recovery.compliance import case_attributes, schedule_contacts
from loanrecovery.recovery.runner import RecoveryResult
from loanrecovery.risk_model import RiskScores

__all__ = [
    "ACCOUNT_COLUMNS",
    "CHARGED_OFF_RULE",
    "PENDING_COLUMNS",
    "PLAN_COLUMNS",
    "account_answers",
    "build_accounts",
    "finish_accounts",
    "gain_baseline",
    "plan_columns",
    "policy_contacts",
    "priority_ranks",
    "rank_keys",
    "schedule_policy_contacts",
]

#: Columns of ``accounts.csv``, in order.
ACCOUNT_COLUMNS: tuple[str, ...] = (
    "Priority_Rank",
    "Loan_ID",
    "Borrower_ID",
    "As_Of",
    "Outstanding",
    "Days_Past_Due",
    "Status",
    "Segment",
    "PD_3M",
    "PD_6M",
    "PD_12M",
    "Risk_Band",
    "Risk_Score",
    "Reasons",
    "Warning_Signs",
    "Recommended_Action",
    "Action_Why",
    "Expected_Gain",
    "Expected_Gain_Low",
    "Expected_Gain_High",
    "Contact_Window",
    "On_Watchlist",
)


def gain_baseline(recovery: RecoveryResult) -> int:
    """Catalogue index of the action gains are measured against: the cheapest action (by the
    catalogue's cost) that has an estimate for some account."""
    costs = np.array([a.cost for a in recovery.catalogue.actions], dtype=float)
    estimated = recovery.eligible.any(axis=0) if len(recovery.eligible) else np.ones(len(costs))
    costs = np.where(estimated, costs, np.inf)
    return int(np.argmin(costs))


#: Columns of :func:`plan_columns`.
PLAN_COLUMNS: tuple[str, ...] = (
    "plan_action",
    "plan_why",
    "gain",
    "gain_low",
    "gain_high",
    "plan_hour",
)
#: Working columns of :func:`account_answers` (whether the plan covers the account, its
#: UTC offset and contact hour), dropped by :func:`finish_accounts`.
PENDING_COLUMNS: tuple[str, ...] = ("_Planned", "_UTC_Offset", "_Hour")


def _as_of(book: Book) -> float:
    return float("nan") if book.as_of is None else float(book.as_of)


def plan_columns(recovery: RecoveryResult) -> pd.DataFrame:
    """Per account of the optimized plan (indexed by ``Loan_ID`` as text): its action,
    reason, gain over :func:`gain_baseline` and that gain's fold range, and local contact
    hour (:data:`PLAN_COLUMNS`). Book-wide: the baseline is the book's."""
    plan = recovery.plans["optimized"].reset_index(drop=True)
    names = recovery.catalogue.names
    base = gain_baseline(recovery)
    action = plan["Action"].to_numpy()
    index = np.array([names.index(a) if a in names else -1 for a in action])
    acted = index >= 0
    rows = np.arange(len(plan))
    net = recovery.expected_recovery - recovery.expected_cost
    gain = np.where(acted, net[rows, np.maximum(index, 0)] - net[:, base], np.nan)
    low = high = gain
    if recovery.net_by_fold is not None and len(plan):
        folds = recovery.net_by_fold
        fold_gain = folds[:, rows, np.maximum(index, 0)] - folds[:, :, base]
        low = np.where(acted, np.nanmin(fold_gain, axis=0), np.nan)
        high = np.where(acted, np.nanmax(fold_gain, axis=0), np.nan)
    note = (
        f"; Expected_Gain is over {names[base]} (the cheapest action: doing nothing is not in "
        "the collection history)"
    )
    reason = np.where(acted, plan["Reason"].astype(str) + note, plan["Reason"].astype(str))
    frame = pd.DataFrame(
        {
            "plan_action": action,
            "plan_why": reason,
            "gain": np.round(gain, 2),
            "gain_low": np.round(np.minimum(low, gain), 2),
            "gain_high": np.round(np.maximum(high, gain), 2),
            "plan_hour": pd.to_numeric(plan["Local_Hour"])
            .where(plan["Local_Hour"] >= 0)
            .to_numpy(),
        },
        index=plan["Loan_ID"].astype(str).to_numpy(),
    )
    return frame[list(PLAN_COLUMNS)]


def _watch_columns(watchlist: pd.DataFrame | None, ids: pd.Series) -> pd.DataFrame:
    cols = ["P3", "P6", "P12", "Alert", "Reasons"]
    if watchlist is None or not len(watchlist):
        return pd.DataFrame(np.nan, index=ids.index, columns=cols)
    listed = watchlist.drop_duplicates("Loan_ID").set_index(
        watchlist.drop_duplicates("Loan_ID")["Loan_ID"].astype(str)
    )
    frame = listed.reindex(ids.astype(str).to_numpy(), columns=cols)
    return frame.set_index(ids.index)


def _window(hour: np.ndarray, as_of: float) -> np.ndarray:
    when = f"month {int(as_of) + 1}, " if np.isfinite(as_of) else ""
    return np.array(
        [
            "" if not np.isfinite(h) else f"{when}{int(h):02d}:00-{int(h) + 1:02d}:00 local time"
            for h in hour
        ],
        dtype=object,
    )


def build_accounts(
    book: Book,
    risk: RiskScores,
    strategies: np.ndarray,
    strategy_rules: np.ndarray,
    config: Config,
    *,
    watchlist: pd.DataFrame | None = None,
    recovery: RecoveryResult | None = None,
) -> pd.DataFrame:
    """One row per accepted loan with its one answer (module docstring), sorted by rank.

    :func:`account_answers`, then the two book-wide steps: :func:`schedule_policy_contacts`
    and the rank (:func:`rank_keys`, :func:`priority_ranks`, :func:`finish_accounts`).

    Parameters
    ----------
    book : Book
        The validated book the stages were applied to.
    risk : RiskScores
        The risk stage's answer (loan-table order).
    strategies, strategy_rules : ndarray of str
        The strategy policy's action and rule per loan.
    config : Config
        The catalogue (channels of the actions) the plan used.
    watchlist : DataFrame, optional
        The early-warning watchlist (closed accounts left out, alerts set).
    recovery : RecoveryResult, optional
        The plans (with a collection history).

    Returns
    -------
    DataFrame
        :data:`ACCOUNT_COLUMNS`, sorted by ``Priority_Rank`` (accounts without one last, by
        ``Loan_ID``).
    """
    plan = None if recovery is None else plan_columns(recovery)
    frame = account_answers(
        book, risk, strategies, strategy_rules, config, watchlist=watchlist, plan=plan
    )
    schedule_policy_contacts(frame, config)
    return finish_accounts(frame, priority_ranks(rank_keys(frame)))


def account_answers(
    book: Book,
    risk: RiskScores,
    strategies: np.ndarray,
    strategy_rules: np.ndarray,
    config: Config,
    *,
    watchlist: pd.DataFrame | None = None,
    plan: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Every account's answer but the book-wide ones, in loan-table order.

    Parameters
    ----------
    book, risk, strategies, strategy_rules, config, watchlist
        As :func:`build_accounts`.
    plan : DataFrame, optional
        :func:`plan_columns` of the book's optimized plan (the accounts of ``book`` may be
        a part of it).

    Returns
    -------
    DataFrame
        :data:`ACCOUNT_COLUMNS` (``Priority_Rank`` empty; ``Contact_Window`` empty for the
        accounts whose contact hour :func:`schedule_policy_contacts` sets) and
        :data:`PENDING_COLUMNS`.
    """
    loans = book.loans.reset_index(drop=True)
    ids = loans["Loan_ID"].astype(str)
    n = len(loans)
    status = account_status(loans, risk.closed)
    closed, charged = status == "Closed", status == "Charged Off"
    in_default = (status == "In Default") | charged
    watch = _watch_columns(watchlist, ids)
    planned_cols = (
        pd.DataFrame(index=ids.index)
        if plan is None
        else plan.reindex(ids.to_numpy()).set_index(ids.index)
    )
    listed = watch["P3"].notna().to_numpy()
    pds = {}
    for col, key in (("PD_3M", "P3"), ("PD_6M", "P6"), ("PD_12M", "P12")):
        value = watch[key].to_numpy(dtype=float)
        if col == "PD_6M":
            value = np.where(listed, value, np.round(risk.scores, 4))
        value = np.where(in_default, 1.0, value)
        pds[col] = np.where(closed, np.nan, value)
    alert = watch["Alert"].eq(True).to_numpy() & ~closed & ~in_default

    action = np.asarray(strategies, dtype=object).copy()
    why = np.asarray(strategy_rules, dtype=object).copy()
    gain = np.full(n, np.nan)
    gain_low, gain_high, hour = gain.copy(), gain.copy(), gain.copy()
    if len(planned_cols.columns):
        planned = planned_cols["plan_action"].notna().to_numpy()
        action[planned] = planned_cols.loc[planned, "plan_action"].to_numpy()
        why[planned] = planned_cols.loc[planned, "plan_why"].to_numpy()
        gain = planned_cols["gain"].to_numpy(dtype=float)
        gain_low = planned_cols["gain_low"].to_numpy(dtype=float)
        gain_high = planned_cols["gain_high"].to_numpy(dtype=float)
        hour = planned_cols["plan_hour"].to_numpy(dtype=float)
    else:
        planned = np.zeros(n, dtype=bool)
    reminded = in_default & np.isin(action, REMINDER_ACTIONS)
    why[reminded] = [NO_REMINDER_RULE.format(rule=r) for r in why[reminded]]
    action[reminded] = NO_ACTION
    action[closed | charged] = NO_ACTION
    why[closed] = CLOSED_RULE
    why[charged] = CHARGED_OFF_RULE
    for arr in (gain, gain_low, gain_high, hour):
        arr[closed | charged] = np.nan

    as_of = _as_of(book)
    acts = action != NO_ACTION
    reasons = risk.reasons.reset_index(drop=True)
    reason_text = reasons.apply(lambda r: "; ".join(str(v) for v in r if str(v)), axis=1)
    band = np.where(np.isnan(pds["PD_6M"]), "", score_band(np.nan_to_num(pds["PD_6M"])))
    frame = pd.DataFrame(
        {
            "Priority_Rank": pd.array([pd.NA] * n, dtype="Int64"),
            "Loan_ID": loans["Loan_ID"].to_numpy(),
            "Borrower_ID": loans["Borrower_ID"].to_numpy()
            if "Borrower_ID" in loans.columns
            else pd.NA,
            "As_Of": pd.array([as_of if np.isfinite(as_of) else pd.NA] * n, dtype="Int64"),
            "Outstanding": pd.to_numeric(loans["Outstanding_Loan_Amount"]).to_numpy(),
            "Days_Past_Due": pd.to_numeric(loans["Days_Past_Due"]).to_numpy(),
            "Status": status,
            "Segment": risk.segments,
            **pds,
            "Risk_Band": band,
            "Risk_Score": np.round(risk.scores, 6),
            "Reasons": reason_text.to_numpy() if len(reasons.columns) else "",
            "Warning_Signs": watch["Reasons"].fillna("").to_numpy(),
            "Recommended_Action": action,
            "Action_Why": why,
            "Expected_Gain": gain,
            "Expected_Gain_Low": gain_low,
            "Expected_Gain_High": gain_high,
            "Contact_Window": _window(np.where(acts & planned, hour, np.nan), as_of),
            "On_Watchlist": alert,
            "_Planned": planned,
            "_UTC_Offset": case_attributes(loans)["UTC_Offset"].to_numpy(),
            "_Hour": hour,
        }
    )
    return frame[[*ACCOUNT_COLUMNS, *PENDING_COLUMNS]]


def policy_contacts(frame: pd.DataFrame) -> np.ndarray:
    """The accounts of an :func:`account_answers` frame whose action is the policy's (not
    the plan's): :func:`schedule_policy_contacts` gives their contact hours."""
    acts = frame["Recommended_Action"].to_numpy() != NO_ACTION
    return ~frame["_Planned"].to_numpy(dtype=bool) & acts


def schedule_policy_contacts(frame: pd.DataFrame, config: Config) -> None:
    """Set the contact hour and ``Contact_Window`` of the policy's contact actions of an
    :func:`account_answers` frame (in place). Book-wide: the contact actions of one UTC
    offset take the allowed hours in turn, in the frame's row order (loan-table order);
    a book applied in parts gathers the :func:`policy_contacts` rows of every part first."""
    unplanned = policy_contacts(frame)
    offsets = frame["_UTC_Offset"].to_numpy()[unplanned]
    action = frame["Recommended_Action"].to_numpy()[unplanned]
    utc = schedule_contacts(action, offsets, config.catalogue)
    hour = frame["_Hour"].to_numpy(dtype=float).copy()
    hour[unplanned] = np.where(utc >= 0, (utc + offsets) % 24, np.nan)
    as_of = frame["As_Of"].astype("float64").to_numpy()
    acts = frame["Recommended_Action"].to_numpy() != NO_ACTION
    frame["_Hour"] = hour
    frame["Contact_Window"] = _window(
        np.where(acts, hour, np.nan), float(as_of[0]) if len(as_of) else float("nan")
    )


def rank_keys(frame: pd.DataFrame) -> pd.DataFrame:
    """What the priority rank orders, for the accounts with an action of an
    :func:`account_answers` frame: ``Loan_ID`` (text), ``Group`` (0 planned, by expected
    gain; 1 alerted on the watchlist, by PD_3M; 2 the others, by PD_6M) and ``Key``."""
    acts = frame["Recommended_Action"].to_numpy() != NO_ACTION
    planned = frame["_Planned"].to_numpy(dtype=bool)
    alert = frame["On_Watchlist"].to_numpy(dtype=bool)
    gain = frame["Expected_Gain"].to_numpy(dtype=float)
    group = np.where(planned & acts, 0, np.where(alert & acts, 1, 2))
    sort_key = np.where(group == 0, -np.nan_to_num(gain, nan=-np.inf), 0.0)
    sort_key = np.where(group == 1, -np.nan_to_num(frame["PD_3M"].to_numpy(float)), sort_key)
    sort_key = np.where(group == 2, -np.nan_to_num(frame["PD_6M"].to_numpy(float)), sort_key)
    return pd.DataFrame(
        {
            "Loan_ID": frame["Loan_ID"].astype(str).to_numpy()[acts],
            "Group": group[acts].astype(np.int8),
            "Key": sort_key[acts],
        }
    )


def priority_ranks(keys: pd.DataFrame) -> pd.Series:
    """``Priority_Rank`` (1 = work first) of every account of :func:`rank_keys` of a whole
    book (the keys of its parts concatenated), indexed by ``Loan_ID``."""
    ids = keys["Loan_ID"].to_numpy()
    order = np.lexsort((ids, keys["Key"].to_numpy(dtype=float), keys["Group"].to_numpy()))
    rank = np.empty(len(keys), dtype=np.int64)
    rank[order] = np.arange(1, len(keys) + 1)
    return pd.Series(rank, index=ids, name="Priority_Rank")


def finish_accounts(frame: pd.DataFrame, ranks: pd.Series) -> pd.DataFrame:
    """The accounts table of an :func:`account_answers` frame whose contacts are scheduled:
    ``Priority_Rank`` from ``ranks`` (:func:`priority_ranks`), sorted by it (accounts
    without one last, by ``Loan_ID``), :data:`ACCOUNT_COLUMNS` only."""
    found = ranks.reindex(frame["Loan_ID"].astype(str).to_numpy())
    frame = frame.assign(Priority_Rank=pd.array(found.to_numpy(), dtype="Int64"))
    frame["_rank"] = frame["Priority_Rank"].astype("float64").fillna(np.inf)
    frame = frame.sort_values(["_rank", "Loan_ID"], kind="stable")
    return frame.drop(columns=["_rank"]).reset_index(drop=True)[list(ACCOUNT_COLUMNS)]
