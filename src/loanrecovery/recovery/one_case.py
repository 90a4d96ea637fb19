"""The best action for ONE delinquent account, in about a millisecond.

:class:`CaseScorer` gives what :func:`~loanrecovery.recovery.runner.case_values`,
:func:`~loanrecovery.recovery.compliance.eligibility` and the fitted
:class:`~loanrecovery.recovery.effects.ActionEffectEstimator` give for a one-loan book, with
the same numbers, but without building data frames: the decision features of the account
come from numpy arrays of its rows (:func:`case_features`) and the effect models from
:class:`~loanrecovery.modeling.flat_trees.FlatForest` (all folds and actions in two native
calls). It is built once per bundle and never changes, so threads can share it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from loanrecovery.actions import ACTIONS, NO_ACTION, REMINDER_ACTIONS
from loanrecovery.delinquency import DEFAULT_DPD, DELINQUENT_DPD
from loanrecovery.modeling.flat_trees import FlatForest
from loanrecovery.recovery.catalogue import Catalogue
from loanrecovery.recovery.compliance import allowed_contact_hours
from loanrecovery.recovery.effects import ActionEffectEstimator
from loanrecovery.recovery.features import _CATEGORICAL, STATIC_COLUMNS

__all__ = ["CaseScorer", "case_features", "number"]

_PROBE_ROWS = 8


def number(value: Any) -> float:
    """``pd.to_numeric(value, errors="coerce")`` of one value, as a float (NaN if none)."""
    if value is None:
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _payment_pattern(month: np.ndarray, due: np.ndarray, paid: np.ndarray) -> dict[str, float]:
    """``_payment_state`` of one loan's rows, at its latest month (``snapshot_cases``)."""
    order = np.argsort(month, kind="stable")
    month, due, paid = month[order], due[order], paid[order]
    billed = due > 0
    short = np.where(billed, np.clip(1.0 - paid / np.maximum(due, 1e-9), 0.0, 1.0), 0.0)
    acc = 0.0
    for value in short:  # the EWMA, as in recovery.features._payment_state
        acc = value * 0.3 + 0.7 * acc
    full = ~billed | (short <= 0.01)
    nothing = billed & (short >= 0.99)
    last = len(month) - 1
    key = month + (int(month.max(initial=0)) + 100)

    def share(flag: np.ndarray, months: int) -> float:
        total = np.r_[0, np.cumsum(flag.astype(float))]
        first = int(np.searchsorted(key, key[last] - months + 1, side="left"))
        return float((total[last + 1] - total[first]) / (last + 1 - first))

    done = np.flatnonzero(full)
    since = month[last] - month[done[-1]] if len(done) else month[last] - month[0] + 1
    return {
        "Arrears": float(max(due[last] - paid[last], 0.0)),
        "Shortfall_EWMA": float(acc),
        "Paid_Share_Last": float(1.0 - short[last]),
        "No_Payment_Share_6M": share(nothing, 6),
        "Full_Payment_Share_12M": share(full, 12),
        "Months_Since_Full_Payment": float(since),
    }


def case_features(
    loan: Mapping[str, Any],
    payments: Mapping[str, np.ndarray] | None,
    actions: Mapping[str, np.ndarray] | None,
) -> dict[str, float]:
    """Decision features of one delinquent account, as ``snapshot_cases`` computes them on a
    one-loan book (categorical columns as their code among the values present, so 0, or
    NaN when missing, as the data frame path gives for one row).

    Parameters
    ----------
    loan : mapping
        The loan row.
    payments : mapping of str to ndarray, optional
        ``Month``, ``Amount_Due``, ``Amount_Paid`` of the account's payment rows.
    actions : mapping of str to ndarray, optional
        ``Month`` and ``Action`` of the account's collection history (None: no history).
    """
    out: dict[str, float] = {
        "Days_Past_Due": number(loan["Days_Past_Due"]),
        "Balance": number(loan["Outstanding_Loan_Amount"]),
    }
    if payments is not None and len(payments["Month"]):
        out.update(
            _payment_pattern(payments["Month"], payments["Amount_Due"], payments["Amount_Paid"])
        )
    if actions is not None:
        if "Snapshot_Month" in loan:
            month = int(number(loan["Snapshot_Month"]))
        else:
            month = int(np.nanmax(actions["Month"], initial=np.nan) or 0) + 1
        done = actions["Month"].astype(float)
        before = done < month
        ago = month - done[before]
        legal = ago[actions["Action"][before] == "Legal Action"]
        out["Months_Since_Last_Action"] = float(ago.min()) if len(ago) else math.nan
        out["Actions_Last_12M"] = float((ago <= 12).sum())
        out["Months_Since_Legal_Action"] = float(legal.min()) if len(legal) else math.nan
    for col in STATIC_COLUMNS:
        if col in loan:
            value = loan[col]
            if col in _CATEGORICAL:
                missing = value is None or (isinstance(value, float) and math.isnan(value))
                out[col] = math.nan if missing else 0.0
            else:
                out[col] = number(value)
    emi, income = out.get("Monthly_EMI"), out.get("Monthly_Income")
    balance = max(out["Balance"], 1.0) if not math.isnan(out["Balance"]) else math.nan
    if emi is not None and income is not None:
        out["EMI_To_Income"] = emi / income if income != 0 else math.nan
    if "Collateral_Value" in out:
        out["Collateral_To_Balance"] = out["Collateral_Value"] / balance
    if "Arrears" in out and emi is not None:
        out["Arrears_To_EMI"] = out["Arrears"] / emi if emi != 0 else math.nan
    if income is not None:
        out["Income_To_Balance"] = income / balance
    return out


class CaseScorer:
    """Expected recovery and cost of every catalogue action for one account, and the best.

    Parameters
    ----------
    estimator : ActionEffectEstimator
        Fitted (a bundle's ``effects.estimator``).
    catalogue : Catalogue
        The actions planned with, and their rules.

    Attributes
    ----------
    native : bool
        Whether the effect models run as flat native forests (else through LightGBM).
    """

    def __init__(self, estimator: ActionEffectEstimator, catalogue: Catalogue) -> None:
        self.estimator = estimator
        self.catalogue = catalogue
        self.features = list(estimator.feature_names_in_)
        self.k = len(estimator.actions_)
        self._columns = [ACTIONS.index(a) for a in catalogue.names]
        self._fallback = np.array([a.cost for a in catalogue.actions], dtype=float)
        rng = np.random.default_rng(0)
        probe = rng.normal(0.0, 50.0, size=(_PROBE_ROWS, len(self.features) + 1))
        probe[::2, ::3] = np.nan
        probe[:, -1] = np.arange(_PROBE_ROWS) % self.k
        models = estimator.models_
        recovery = [m["recovery"] for m in models]  # S-learner: one model per fold
        costs = [m["cost"] for m in models]  # T-learner: one model per action and fold
        self._recovery = FlatForest(
            [r.booster_ for r in recovery if not isinstance(r, list)], probe
        )
        self._cost = FlatForest(
            [c.booster_ for m in costs if isinstance(m, list) for c in m[: self.k]], probe[:, :-1]
        )
        self.native = (
            self._recovery.native
            and self._cost.native
            and self._recovery.n_models == len(models)
            and self._cost.n_models == len(models) * self.k
        )
        rules = catalogue.rules
        self._reachable = {o: bool(allowed_contact_hours(o, rules)) for o in range(-24, 25)}

    def values(self, features: Mapping[str, float]) -> tuple[np.ndarray, np.ndarray]:
        """Expected recovery and cost of every catalogue action (catalogue order), as
        :func:`~loanrecovery.recovery.runner.case_values` gives them."""
        row = np.array([features.get(c, math.nan) for c in self.features], dtype=np.float64)
        balance = features.get("Balance", math.nan)
        scale = max(1.0 if math.isnan(balance) else balance, 1.0)
        k = self.k
        if self.native:
            rec_folds = self._recovery.sums_by_value(np.r_[row, 0.0], len(row), k)
            cost_folds = self._cost.sums(row).reshape(len(self.estimator.models_), k)
            mean_rec = np.mean([r[None, :] * np.array([scale])[:, None] for r in rec_folds], axis=0)
            mean_cost = np.mean([c[None, :] * np.ones(1)[:, None] for c in cost_folds], axis=0)
            rec_all = np.full((1, len(ACTIONS)), np.nan)
            cost_all = np.full((1, len(ACTIONS)), np.nan)
            for j, name in enumerate(self.estimator.actions_):
                rec_all[:, ACTIONS.index(name)] = mean_rec[:, j]
                cost_all[:, ACTIONS.index(name)] = mean_cost[:, j]
            rec_all, cost_all = np.maximum(rec_all, 0.0), np.maximum(cost_all, 0.0)
        else:
            frame = pd.DataFrame({c: [features.get(c, math.nan)] for c in self.features})
            rec_all, cost_all = self.estimator.predict(frame)
        rec, cost = rec_all[0, self._columns], cost_all[0, self._columns]
        return rec, np.where(np.isnan(cost), self._fallback, cost)

    def allowed(self, loan: Mapping[str, Any]) -> np.ndarray:
        """The catalogue actions the contact and legal rules allow for the account
        (:func:`~loanrecovery.recovery.compliance.eligibility` of one row)."""
        rules = self.catalogue.rules
        opt_out = (
            str(loan["Contact_Opt_Out"]).strip().lower() in ("yes", "true", "1")
            if ("Contact_Opt_Out" in loan)
            else False
        )
        offset = number(loan.get("UTC_Offset", 0))
        offset = 0 if math.isnan(offset) else int(offset)
        reachable = self._reachable.get(offset)
        if reachable is None:
            reachable = bool(allowed_contact_hours(offset, rules))
        dpd = number(loan.get("Days_Past_Due", 0))
        balance = number(loan.get("Outstanding_Loan_Amount", 0))
        prior = number(loan.get("Call_Attempts_Last_7D", 0))
        dpd, balance, prior = (0.0 if math.isnan(v) else v for v in (dpd, balance, prior))
        legal_ok = dpd >= rules.legal_min_days_past_due and balance >= rules.legal_min_balance
        mask = np.ones(len(self.catalogue.actions), dtype=bool)
        for j, spec in enumerate(self.catalogue.actions):
            if spec.name in REMINDER_ACTIONS and dpd >= DEFAULT_DPD:
                mask[j] = False  # an account in default gets a recovery action
            if spec.channel == "contact" and not reachable:
                mask[j] = False
            if spec.channel not in rules.opt_out_channels and opt_out:
                mask[j] = False
            if (
                spec.call_attempts > 0
                and not prior + spec.call_attempts <= rules.max_call_attempts_7d
            ):
                mask[j] = False
            if spec.name in rules.legal_actions and not legal_ok:
                mask[j] = False
        return mask

    def best(
        self,
        loan: Mapping[str, Any],
        payments: Mapping[str, np.ndarray] | None,
        actions: Mapping[str, np.ndarray] | None,
    ) -> tuple[str, str, float] | None:
        """The allowed action of highest expected net recovery for a delinquent account
        (None when the account is not planned for: not active or under 30 days past due)."""
        status = loan.get("Loan_Status", "Active")
        dpd = number(loan["Days_Past_Due"])
        if status != "Active" or not (0.0 if math.isnan(dpd) else dpd) >= DELINQUENT_DPD:
            return None
        rec, cost = self.values(case_features(loan, payments, actions))
        allowed = self.allowed(loan) & np.isfinite(rec)
        value = np.where(allowed, np.nan_to_num(rec) - cost, -np.inf)
        best = int(np.argmax(value))
        if not np.isfinite(value[best]) or value[best] <= 0:
            return NO_ACTION, "no allowed action has a positive expected net recovery", 0.0
        why = "highest expected net recovery among the actions the contact and legal rules allow"
        return self.catalogue.names[best], why, float(value[best])
