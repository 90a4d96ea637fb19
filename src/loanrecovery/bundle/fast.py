"""Every stage for ONE account in a few milliseconds: the bundle's one-account path.

:class:`AccountApplier` gives the :class:`~loanrecovery.bundle.results.AccountResult` that
:func:`~loanrecovery.bundle.account.account_result` gives (the same numbers: tested on every
account of simulated books), without the data-frame machinery that makes sense for a
million loans and dominates for one: the loan's features, states and scores are computed from
the row's values, the early-warning features from the account's panel arrays
(:class:`~loanrecovery.early_warning.one_account.AccountWarning`), the best action from the
effect models summed natively (:class:`~loanrecovery.recovery.one_case.CaseScorer`).

Everything per-bundle (flattened trees, dense path tables, bins) is built once, in the
constructor; :meth:`AccountApplier.apply` only reads it, so one applier serves many threads.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from types import EllipsisType
from typing import Any

import numpy as np
import pandas as pd
from scipy import special
from sklearn.linear_model import LogisticRegression

from loanrecovery.bundle.account import (
    _CHARGED_OFF,
    _CLOSED_STATUSES,
    account_answer,
    account_result,
)
from loanrecovery.bundle.results import AccountResult
from loanrecovery.config import Config
from loanrecovery.contract.book import Book
from loanrecovery.contract.trusted import (
    trusted_history_arrays,
    trusted_panel_arrays,
    trusted_row,
)
from loanrecovery.delinquency import (
    CHARGED_OFF_STATUSES,
    CLOSED_STATUSES,
    DEFAULT_DPD,
    DELINQUENT_DPD,
    FUTURE_TARGET,
    inactive_loans,
)
from loanrecovery.early_warning.one_account import AccountWarning
from loanrecovery.early_warning.watchlist_model import WatchlistModel
from loanrecovery.features import CATEGORICAL_INPUTS, NUMERIC_INPUTS, RATIO_FEATURES, safe_ratio
from loanrecovery.modeling.calibration import PD_FLOOR
from loanrecovery.modeling.candidates import GBMScorer, ScorecardModel
from loanrecovery.modeling.flat_trees import FlatForest
from loanrecovery.modeling.reason_text import LOWERS_SUFFIX, reason_groups
from loanrecovery.modeling.reasons import IN_DEFAULT_REASON, rank_reason_groups
from loanrecovery.recovery.one_case import CaseScorer, number
from loanrecovery.recovery.runner import EffectsFit
from loanrecovery.risk_model import CLOSED, BookRiskModel
from loanrecovery.strategy import assign_strategies, explain_strategies

__all__ = ["AccountApplier"]

_PANEL = ("Month", "Amount_Due", "Amount_Paid", "Days_Past_Due", "Outstanding_Balance")


class _Gbm:
    """A GBM candidate's score and path contributions for one row, from flat trees."""

    def __init__(self, model: GBMScorer) -> None:
        self.model = model
        table, offsets = model.path_table()
        self.table = np.ascontiguousarray(table.toarray())
        self.table.setflags(write=False)
        probe = np.random.default_rng(0).normal(0.0, 100.0, size=(8, model.n_features_in_))
        self.forest = FlatForest([model.booster_], probe.astype(np.float32).astype(np.float64))
        self.native = self.forest.native and len(offsets) == model.booster_.num_trees()

    def score_and_contributions(self, row: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = row.astype(np.float32)
        x[~np.isfinite(x)] = np.nan  # as FrameEncoder.transform
        leaves = self.forest.leaves(x.astype(np.float64))
        contributions = np.add.reduce(self.table[leaves], axis=0)[None, :]
        return contributions.sum(axis=1) + self.model.expected_value_, contributions


class _Scorecard:
    """The scorecard's score and contributions for one row (``ScorecardModel._woe``)."""

    def __init__(self, model: ScorecardModel) -> None:
        self.model = model
        self.native = all(model.bins_[n][0] == "numeric" for n in model.feature_names_in_)

    def score_and_contributions(self, row: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        woe = np.zeros((1, len(row)))
        for j, name in enumerate(self.model.feature_names_in_):
            _, splits, per_bin, woe_missing = self.model.bins_[name]
            value = row[j]
            if math.isnan(value):
                woe[0, j] = woe_missing
            else:
                index = int(np.searchsorted(splits, value, side="right"))
                woe[0, j] = per_bin[min(index, len(per_bin) - 1)]
        contributions = (woe - self.model.woe_mean_) * self.model.coef_
        return contributions.sum(axis=1) + self.model.expected_value_, contributions


class AccountApplier:
    """A bundle's stages prepared for one account at a time.

    Parameters
    ----------
    risk : BookRiskModel
    config : Config
    watchlist : WatchlistModel, optional
    effects : EffectsFit, optional

    Attributes
    ----------
    native : bool
        Whether the trees run as flat native forests (False without a C compiler: then the
        effect and early-warning models go through LightGBM and the risk stage through the
        data-frame path, with the same answers, more slowly).
    early_warning : AccountWarning or None
        The GBM watchlist's one-account (and many-account) probabilities; None without a
        watchlist or with one that reads whole histories.
    """

    def __init__(
        self,
        risk: BookRiskModel,
        config: Config,
        watchlist: WatchlistModel | None = None,
        effects: EffectsFit | None = None,
    ) -> None:
        self.risk = risk
        self.config = config
        self.watchlist = watchlist
        self.effects = effects
        champion = risk.champion
        self._names = list(risk.features.feature_names_out_)
        self._medians = [risk.features.medians_.get(c, 0.0) for c in NUMERIC_INPUTS]
        built = [*NUMERIC_INPUTS, *(RATIO_FEATURES if risk.features.include_ratios else ())]
        built += [f"{c}={level}" for c, levels in CATEGORICAL_INPUTS.items() for level in levels]
        self._order = [self._names.index(str(c)) for c in champion.feature_names_in_]
        parts: dict[str, Any] = {}
        for name in champion.weights_:
            model = champion.models_[name]
            if isinstance(model, GBMScorer):
                parts[name] = _Gbm(model)
            elif isinstance(model, ScorecardModel):
                parts[name] = _Scorecard(model)
        self._parts = parts
        self.native = (
            built == self._names
            and len(parts) == len(champion.weights_)
            and all(p.native for p in parts.values())
        )
        names = [str(c) for c in champion.feature_names_in_]
        template = pd.DataFrame(np.zeros((1, len(names))), columns=names)
        reference = getattr(champion, "reason_reference_", None)
        self._groups = [g for g in reason_groups(template, reference) if g.columns]
        gbm = watchlist is not None and getattr(watchlist, "kind", "gbm") == "gbm"
        # the sequence model and the blend read the whole history: the data-frame path
        self.early_warning = AccountWarning(watchlist) if gbm and watchlist is not None else None
        self._cases = (
            CaseScorer(effects.estimator, config.catalogue) if effects is not None else None
        )

    @property
    def reads_one_history(self) -> bool:
        """Whether the early-warning model reads one account's panel arrays (the GBM does;
        the sequence model and the blend read the data-frame path)."""
        return self.early_warning is not None

    # -- the risk stage --------------------------------------------------------------------
    def _features(self, loan: Mapping[str, Any]) -> np.ndarray:
        """``LoanFeatures.transform`` of one row."""
        numeric = {}
        for col, median in zip(NUMERIC_INPUTS, self._medians, strict=True):
            value = number(loan[col])
            numeric[col] = median if not math.isfinite(value) else value
        values = list(numeric.values())
        if self.risk.features.include_ratios:
            for num, den, cap in RATIO_FEATURES.values():
                ratio = safe_ratio(np.array([numeric[num]]), np.array([numeric[den]]), cap)
                values.append(float(ratio[0]))
        for col, levels in CATEGORICAL_INPUTS.items():
            value = loan[col]
            values.extend(float(isinstance(value, str) and value == lv) for lv in levels)
        return np.asarray(values, dtype=np.float64)

    def _risk(self, loan: Mapping[str, Any]) -> tuple[str, float, tuple[str, ...], bool]:
        """Segment, PD, reasons and whether the loan is closed."""
        risk = self.risk
        dpd = number(loan["Days_Past_Due"])
        in_default, closed = False, False
        if risk.target == FUTURE_TARGET:
            in_default = dpd >= DEFAULT_DPD
            outstanding = number(loan["Outstanding_Loan_Amount"])
            outstanding = 1.0 if math.isnan(outstanding) else outstanding
            closed = outstanding <= 0 and (0.0 if math.isnan(dpd) else dpd) <= 0
            closed = closed and not in_default
        if in_default:
            return self._segment(1.0, closed), 1.0, (IN_DEFAULT_REASON,), closed
        if closed:
            return CLOSED, 0.0, (), closed
        x = self._features(loan)
        champion = risk.champion
        row = x[self._order]
        score = np.zeros(1)
        total = np.zeros((1, champion.n_features_in_))
        for name, weight in champion.weights_.items():
            part_score, part = self._parts[name].score_and_contributions(row)
            score += weight * part_score
            total += weight * part
        reasons = tuple(r for r in self._reasons(total, row) if r)
        pd_ = self._calibrated(score)
        return self._segment(pd_, closed), pd_, reasons, closed

    def _segment(self, pd_: float, closed: bool) -> str:
        """The risk segment of the PD (:meth:`BookRiskModel.segments_of`)."""
        return str(self.risk.segments_of(np.array([pd_]), np.array([closed]))[0])

    def _calibrated(self, score: np.ndarray) -> float:
        """``ScoreCalibrator.predict`` of one score (Platt's logistic without its checks)."""
        calibrator = self.risk.champion.calibrator_
        model = calibrator.model_
        if not isinstance(model, LogisticRegression) or model.coef_.shape != (1, 1):
            return float(calibrator.predict(score)[0])
        logit = score.reshape(-1, 1) @ model.coef_.T + model.intercept_
        p = special.expit(logit.ravel())
        return float(np.clip(p, PD_FLOOR, 1 - PD_FLOOR)[0])

    def _reasons(self, contributions: np.ndarray, row: np.ndarray) -> list[str]:
        """``reason_codes`` of one row, with the reason groups built once."""
        groups = self._groups
        grouped = np.zeros((1, len(groups)))
        values: list[tuple[Any, ...]] = []
        for g, group in enumerate(groups):
            cols = list(group.columns)
            grouped[:, g] = contributions[:, cols].sum(axis=1)
            if len(cols) == 1:
                v: tuple[Any, ...] = (float(row[cols[0]]),)
            else:
                v = tuple(np.float64(row[c]) for c in cols)
            values.append(v)
            if not group.allows(v, bool(grouped[0, g] > 0)):
                grouped[0, g] = 0.0
        n_reasons = self.risk.n_reasons
        k = int(min(n_reasons, len(groups)))
        out = [""] * n_reasons
        if k == 0:
            return out
        top = rank_reason_groups(grouped, k)
        for rank in range(k):
            g = int(top[0, rank])
            effect = grouped[0, g]
            if effect != 0:
                text = groups[g].describe(values[g])
                out[rank] = text if effect > 0 else text + LOWERS_SUFFIX
        return out

    # -- every stage -----------------------------------------------------------------------
    def apply(self, book: Book) -> AccountResult:
        """Every stage's answer for the single account of ``book`` (as
        :func:`~loanrecovery.bundle.account.account_result`).

        Raises
        ------
        ValueError
            ``book`` does not hold exactly one accepted loan.
        """
        loans = book.loans
        if len(loans) != 1:
            raise ValueError(f"expected one accepted loan, got {len(loans)}")
        if not self.native:
            return account_result(
                book, self.risk, self.config, watchlist=self.watchlist, effects=self.effects
            )
        loan = dict(zip(loans.columns, loans.to_numpy(dtype=object)[0], strict=True))
        history = book.collections
        actions = (
            None
            if history is None
            else {"Month": history["Month"].to_numpy(), "Action": history["Action"].to_numpy()}
        )
        return self.answer_row(book, loan, _panel(book), actions, bool(inactive_loans(loans)[0]))

    def apply_trusted(
        self,
        loan: Mapping[str, Any],
        panel: Sequence[Sequence[Any]] = (),
        history: Sequence[Sequence[Any]] = (),
    ) -> AccountResult:
        """:meth:`apply` of ``Book.from_trusted([loan], panel or None, history or None)``,
        without building the book: the rows passed the contract before (e.g. the service's
        stored rows), ``panel`` as :data:`~loanrecovery.contract.trusted.PANEL_ROW` tuples and
        ``history`` as :data:`~loanrecovery.contract.trusted.HISTORY_ROW` tuples of this loan.
        """
        if not self.native or (self.watchlist is not None and not self.reads_one_history):
            book = Book.from_trusted(
                [loan], panel if len(panel) else None, history if len(history) else None,
                source=f"account {loan.get('Loan_ID')}",
            )  # fmt: skip
            return self.apply(book)
        row = trusted_row(loan)
        return self.answer_row(
            None, row, trusted_panel_arrays(panel), trusted_history_arrays(history),
            inactive_row(row),
        )  # fmt: skip

    def answer_row(
        self,
        book: Book | None,
        loan: dict[str, Any],
        panel: dict[str, np.ndarray] | None,
        actions: dict[str, np.ndarray] | None,
        inactive: bool,
        *,
        risk: tuple[str, float, tuple[str, ...], bool] | None = None,
        policy_action: tuple[str, str] | None = None,
        listed: dict[int, float] | None | EllipsisType = ...,
    ) -> AccountResult:
        """Every stage for one typed loan row, its panel arrays and its actions (None: no
        table); ``book`` is needed only by a watchlist without a one-account path.

        ``risk`` (segment, PD, reasons, closed), ``policy_action`` (the policy's action and
        rule) and ``listed`` (the early-warning probabilities, None when not on the watchlist)
        are computed here unless given, as a caller scoring many rows at once does
        (:func:`~loanrecovery.bundle.many.apply_trusted_many`)."""
        segment, pd_6m, reasons, closed = risk if risk is not None else self._risk(loan)
        dpd = number(loan["Days_Past_Due"])
        if policy_action is None:
            policy = self.config.policy
            scores, segments, dpds = (
                np.array([pd_6m]),
                np.array([segment], dtype=object),
                np.array([dpd]),
            )
            action = assign_strategies(policy, scores, segments, dpds)[0]
            why = explain_strategies(policy, scores, segments, dpds)[0]
        else:
            action, why = policy_action
        status = _status(loan, dpd, closed)
        gain: float | None = None
        if status not in ("Closed", "Charged Off") and self._cases is not None:
            if dpd >= DELINQUENT_DPD and actions is not None:
                best = self._cases.best(loan, panel, actions)
                if best is not None:
                    action, why, gain = best
        if isinstance(listed, EllipsisType):
            listed = None
            if panel is not None and not inactive and self.watchlist is not None:
                if self.early_warning is not None:
                    listed = self.early_warning.probabilities(loan, panel)
                elif book is not None and book.payments is not None:
                    by_loan = pd.Series([segment], index=[loan["Loan_ID"]])
                    table = self.watchlist.apply(book.payments, book.loans, segments=by_loan)
                    if len(table):
                        listed = {h: float(table[f"P{h}"].iloc[0]) for h in (3, 6, 12)}
        alerted = (
            listed is not None and self.watchlist is not None and self.watchlist.alerted(listed[3])
        )
        return AccountResult(
            loan_id=str(loan["Loan_ID"]),
            status=status,
            outstanding=float(loan["Outstanding_Loan_Amount"]),
            days_past_due=float(dpd),
            segment=segment,
            reasons=reasons,
            expected_gain=gain,
            **account_answer(status, pd_6m, listed, alerted, str(action), str(why)),
        )


def _panel(book: Book) -> dict[str, np.ndarray] | None:
    if book.payments is None or not len(book.payments):
        return None
    return {c: book.payments[c].to_numpy() for c in _PANEL}


def inactive_row(loan: Mapping[str, Any]) -> bool:
    """``inactive_loans`` of one typed row."""
    out = False
    if "Outstanding_Loan_Amount" in loan and "Days_Past_Due" in loan:
        outstanding = number(loan["Outstanding_Loan_Amount"])
        dpd = number(loan["Days_Past_Due"])
        outstanding = 1.0 if math.isnan(outstanding) else outstanding
        out = outstanding <= 0 and (0.0 if math.isnan(dpd) else dpd) <= 0
    if "Loan_Status" in loan:
        raw = loan["Loan_Status"]
        missing = raw is None or raw is pd.NA or (isinstance(raw, float) and math.isnan(raw))
        text = "" if missing else str(raw).strip()
        out = out or text in (CLOSED_STATUSES | CHARGED_OFF_STATUSES)
    return bool(out)


def _status(loan: Mapping[str, Any], dpd: float, closed: bool) -> str:
    """``account_status`` of one loan."""
    days = 0.0 if math.isnan(dpd) else dpd
    status = "In Default" if days >= DEFAULT_DPD else ("Delinquent" if days > 0 else "Current")
    if "Loan_Status" in loan:
        raw = loan["Loan_Status"]
        text = "" if raw is None or raw is pd.NA or raw != raw else str(raw)
        if text in _CLOSED_STATUSES:
            status = "Closed"
        if text in _CHARGED_OFF:
            status = "Charged Off"
    return "Closed" if closed and status != "Charged Off" else status
