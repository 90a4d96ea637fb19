"""Fitting every stage on a validated book, once, into a :class:`~loanrecovery.bundle.Bundle`."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from loanrecovery.bundle.core import Bundle
from loanrecovery.config import Config
from loanrecovery.contract.book import Book
from loanrecovery.contract.payments import PanelValidation
from loanrecovery.early_warning.run import (
    EarlyWarningDataError,
    EarlyWarningResult,
    run_early_warning,
)
from loanrecovery.exceptions import DataFileError, NoValidRowsError
from loanrecovery.recovery.runner import EffectsFit, fit_effects
from loanrecovery.risk import (
    RiskModelResult,
    RiskTarget,
    baseline_from_champion,
    fit_risk_model,
    resolve_target,
)
from loanrecovery.risk_model import BookRiskFit, fit_book_risk
from loanrecovery.risk_signal import (
    fallback_note,
    no_signal_policy,
    risk_signal,
    uses_risk_thresholds,
)
from loanrecovery.versions import library_versions

__all__ = ["fit_bundle", "fit_with_report", "FitReport", "FORMAT"]

logger = logging.getLogger(__name__)

#: Format of the bundle files this version writes.
FORMAT = "loanrecovery-bundle/2"


@dataclass
class FitReport:
    """What fitting measured, for the report: the honest evaluation of every stage.

    Attributes
    ----------
    target : RiskTarget
    risk : BookRiskFit
        The fitted risk stage with its out-of-fold scores and metrics.
    baseline : RiskModelResult
        The original write-up's forest, evaluated the same way.
    early_warning : EarlyWarningResult or None
        Out-of-time evaluation and the watchlist of the fitted book.
    early_warning_error : str or None
        Why early warning could not be fitted on this panel.
    effects : EffectsFit or None
    seconds : dict
        Wall-clock seconds of each stage.
    """

    target: RiskTarget
    risk: BookRiskFit
    baseline: RiskModelResult
    early_warning: EarlyWarningResult | None = None
    early_warning_error: str | None = None
    effects: EffectsFit | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    strategy_fallback: str | None = None
    """Why the no-signal ladder replaced the configured policy (None when it did not)."""

    def metrics(self) -> dict[str, Any]:
        """Validation metrics of every fitted stage (JSON-ready), for the manifest."""
        out: dict[str, Any] = {
            "risk": self.risk.risk.metrics,
            "baseline_forest": self.baseline.metrics,
            "segments": self.risk.model.segmenter.describe(),
        }
        if self.early_warning is not None:
            out["early_warning"] = self.early_warning.metrics
        if self.effects is not None:
            out["action_effects"] = {
                "history_rows": self.effects.history_rows,
                "history": self.effects.history_note,
                "actions": list(self.effects.estimator.actions_),
            }
        return out


def _target(book: Book) -> RiskTarget:
    if len(book.loans) == 0:
        raise NoValidRowsError(book.source, book.rejects.get("loans"))
    target = resolve_target(book.loans)
    if target is None:
        raise DataFileError(
            book.source,
            "no outcome to learn from: expected a 'Default_Next_6M' (0/1) or 'Recovery_Status' "
            "column; to score new loans with a fitted bundle use `loanrecovery apply`",
        )
    known = target.values[target.trainable]
    if len(set(known.tolist())) < 2:
        raise DataFileError(
            book.source,
            f"the target has {len(known)} usable values, all "
            f"{'missing' if len(known) == 0 else int(known[0])}: a risk model needs both good (0) "
            "and bad (1) outcomes among open loans",
            column=target.name,
        )
    return target


def _early_warning(
    book: Book, config: Config, risk: BookRiskFit
) -> tuple[EarlyWarningResult | None, str | None]:
    if book.payments is None:
        return None, None
    validated = PanelValidation(
        accepted=book.payments,
        rejects=book.rejects["payments"],
        n_rows_in=int(book.rows_in.get("payments", len(book.payments))),
    )
    try:
        return (
            run_early_warning(
                book.loans,
                validated,
                alert_budget=config.limits.alert_budget,
                alert_min_probability=config.limits.alert_min_probability,
                random_state=config.seed,
                segments=pd.Series(risk.segments, index=book.loans["Loan_ID"].to_numpy()),
                segment_of=lambda rows: risk.model.apply(rows, reasons=False).segments,
                model=config.early_warning_model,
            ),
            None,
        )
    except EarlyWarningDataError as exc:
        logger.warning("early warning skipped: %s", exc)
        return None, str(exc)


def _strategy_policy(config: Config, risk: BookRiskFit) -> tuple[Config, dict[str, Any]]:
    """The configuration whose policy the bundle applies: the configured one, or the no-signal
    ladder when the risk model has no signal and the policy uses risk-score thresholds
    (:mod:`loanrecovery.risk_signal`); with the record stored in the manifest."""
    signal = risk_signal(risk.risk.metrics)
    record: dict[str, Any] = {"risk_signal": signal.to_dict(), "policy": config.policy.name}
    if signal.has_signal or not uses_risk_thresholds(config.policy):
        return config, {**record, "fallback": False}
    fallback = no_signal_policy()
    note = fallback_note(signal, config.policy, fallback)
    logger.warning("%s", note)
    record.update(
        fallback=True, policy=fallback.name, replaced_policy=config.policy.name, note=note
    )
    return config.with_overrides(policy=fallback), record


def fit_with_report(
    book: Book,
    config: Config | None = None,
    *,
    progress: Callable[[str], None] | None = None,
) -> tuple[Bundle, FitReport]:
    """Fit every stage on ``book`` and say what the fit measured.

    Parameters
    ----------
    book : Book
        A validated book whose loan table has a target (``Default_Next_6M`` or
        ``Recovery_Status``); with a payment panel early warning is fitted, with a
        collection history the action effects.
    config : Config, optional
        Policy, catalogue, limits and seed (defaults otherwise).
    progress : callable, optional
        Called with the name of each stage as it starts.

    Returns
    -------
    bundle : Bundle
    report : FitReport

    Raises
    ------
    DataFileError
        No accepted loan, no target, a single class, or too little collection history.
    """
    config = config if config is not None else Config()
    step = progress or (lambda _name: None)
    seconds: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[name] = round(now - clock, 2)
        clock = now

    target = _target(book)
    step("risk model")
    try:
        risk = fit_book_risk(book.loans, target, random_state=config.seed)
    except ValueError as exc:
        raise DataFileError(book.source, str(exc)) from None
    lap("risk model")
    config, strategy = _strategy_policy(config, risk)
    step("baseline forest")
    # the champion cross-fitted the original forest already: reuse it (one fit fewer x 6)
    baseline = baseline_from_champion(risk.risk, target) or fit_risk_model(
        risk.features, target, random_state=config.seed
    )
    lap("baseline forest")
    step("early warning")
    early, early_error = _early_warning(book, config, risk)
    lap("early warning")
    effects = None
    if book.collections is not None and len(book.collections):
        step("action effects")
        effects = fit_effects(book.loans, book.collections, book.payments, seed=config.seed)
        lap("action effects")
    report = FitReport(
        target=target,
        risk=risk,
        baseline=baseline,
        early_warning=early,
        early_warning_error=early_error,
        effects=effects,
        seconds=seconds,
        strategy_fallback=strategy.get("note"),
    )
    manifest = {
        "format": FORMAT,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "versions": library_versions(),
        "data": {
            "source": book.source,
            "sha256": book.fingerprint(),
            "counts": book.counts(),
            "as_of": book.as_of,
            "loan_columns": [str(c) for c in book.loans.columns],
        },
        "target": {"column": target.name, "definition": target.description},
        "metrics": report.metrics(),
        "config": config.to_dict(),
        "strategy": strategy,
        "stages": {
            "risk": True,
            "early_warning": early is not None,
            "action_effects": effects is not None,
        },
        "early_warning_model": None if early is None or early.model is None else early.model.kind,
    }
    bundle = Bundle(
        risk=risk.model,
        config=config,
        manifest=manifest,
        watchlist=None if early is None else early.model,
        effects=effects,
    )
    return bundle, report


def fit_bundle(
    book: Book, config: Config | None = None, *, progress: Callable[[str], None] | None = None
) -> Bundle:
    """Fit every stage on ``book`` once (see :func:`fit_with_report`)."""
    return fit_with_report(book, config, progress=progress)[0]
