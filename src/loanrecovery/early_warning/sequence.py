"""Sequence model of early warning: a GRU over each loan's monthly payment history.

Optional: needs the ``deep`` extra (``pip install 'loanrecovery[deep]'``, PyTorch on the
CPU). Without it the product works as before and asking for this model raises
:class:`DeepExtraMissingError`. PyTorch is imported only inside the methods that need it.

Per loan-month the model reads the loan's months up to that month (amount due and paid,
paid/due, due/instalment, days past due, balance / amount lent, observed flag, calendar
month, months on book; :data:`~loanrecovery.early_warning._sequence_data.CHANNELS`) and
its static loan and borrower terms (a small MLP with embeddings of the loan and
employment types, which also sets the GRU's initial state), and gives one probability per
horizon of 90+ days past due within that horizon. The GRU runs forward only, so the
prediction at month ``t`` uses months ``<= t`` only (tested).

The horizons are chained hazards, monotone by construction (no clipping): the network gives
a hazard logit ``h_k`` per horizon and ``P_1 = sigmoid(h_1)``, ``P_k = 1 - (1 - P_(k-1)) *
(1 - sigmoid(h_k))``, each ``P_k`` trained on the targets of horizon ``k``. See
``docs/sequences.md``.

The learned weights are kept as numpy arrays (``weights_``), so the fitted estimator
holds no torch object and can be saved with skops like the other models.
"""

from __future__ import annotations

import importlib
import logging
from types import ModuleType

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from loanrecovery.early_warning._sequence_data import (
    CHANNELS,
    STATIC_NUMERIC,
    SequenceData,
    build_sequences,
)
from loanrecovery.exceptions import LoanRecoveryError

__all__ = ["DeepExtraMissingError", "SequenceClassifier", "require_torch", "torch_available"]

logger = logging.getLogger(__name__)

#: Channels that are not standardised (flags and the calendar).
_UNSCALED = {"Observed", "Month_Sin", "Month_Cos"}
#: How the horizons' outputs are linked (``link_``); a model fitted with another link (the
#: clipped heads of earlier versions) is refused rather than misread.
_LINK = "chained-hazard"


class DeepExtraMissingError(LoanRecoveryError, ImportError):
    """The sequence model was asked for but PyTorch (the ``deep`` extra) is not installed."""

    def __init__(
        self, what: str = "the sequence model needs PyTorch, which is not installed"
    ) -> None:
        super().__init__(f"{what}: pip install 'loanrecovery[deep]'")


def require_torch() -> ModuleType:
    """The ``torch`` module, or :class:`DeepExtraMissingError` when it cannot be imported."""
    try:
        return importlib.import_module("torch")
    except ImportError:
        raise DeepExtraMissingError() from None


def _net() -> ModuleType:
    """The torch half of the model (``_sequence_net``), loaded only once torch is known to be
    there: importing it at module level would make the whole product need the deep extra."""
    require_torch()
    return importlib.import_module(f"{__package__}._sequence_net")


def torch_available() -> bool:
    """Whether the ``deep`` extra (PyTorch) can be imported."""
    try:
        require_torch()
    except DeepExtraMissingError:
        return False
    return True


def _scale_stats(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = np.nanmean(values, axis=0)
    std = np.nanstd(values, axis=0)
    mean = np.where(np.isfinite(mean), mean, 0.0)
    std = np.where(np.isfinite(std) & (std > 1e-6), std, 1.0)
    return mean.astype(np.float32), std.astype(np.float32)


class SequenceClassifier(BaseEstimator):
    """GRU classifiers of default within each horizon over the monthly payment panel.

    Parameters
    ----------
    horizons : tuple of int, default=(3, 6, 12)
        Horizons in months, increasing; one output head each (targets read from ``Y_<h>``),
        chained so that a longer horizon's probability is never lower. A horizon whose
        targets are all unknown is still an output (at least the previous horizon's
        probability) but learns nothing of its own.
    hidden_size : int, default=32
        Width of the GRU state and of the static MLP.
    max_epochs : int, default=25
        Upper bound of training passes.
    patience : int, default=3
        Stop after this many epochs without a better validation loss (the best epoch's
        weights are kept).
    batch_size : int, default=256
        Loans per gradient step.
    learning_rate : float, default=3e-3
        Adam's step size.
    val_months : int, default=3
        Early-stopping slice: targets of the last ``val_months`` labelled months are held
        out of fitting and used to pick the epoch (a time-later slice).
    random_state : int, default=42
        Seed of the weights and of the batch order.
    n_threads : int, default=1
        PyTorch threads during fit and predict (set only then, restored afterwards).

    Attributes
    ----------
    weights_ : dict of str to ndarray
        The network's weights (numpy; no torch object is kept).
    channel_mean_, channel_std_, static_mean_, static_std_ : ndarray
        Scaling learned on the training months.
    best_epoch_ : int
        Epoch kept by early stopping.
    history_ : list of float
        Validation log-loss per epoch.
    fit_until_ : int
        Last month of the panel that fit read.
    link_ : str
        ``"chained-hazard"``: how the outputs make the horizons' probabilities.
    """

    def __init__(
        self,
        horizons: tuple[int, ...] = (3, 6, 12),
        hidden_size: int = 32,
        max_epochs: int = 25,
        patience: int = 3,
        batch_size: int = 256,
        learning_rate: float = 3e-3,
        val_months: int = 3,
        random_state: int = 42,
        n_threads: int = 1,
    ) -> None:
        self.horizons = horizons
        self.hidden_size = hidden_size
        self.max_epochs = max_epochs
        self.patience = patience
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.val_months = val_months
        self.random_state = random_state
        self.n_threads = n_threads

    def fit(
        self, panel: pd.DataFrame, loans: pd.DataFrame, targets: pd.DataFrame
    ) -> SequenceClassifier:
        """Fit on the panel rows whose targets are known.

        Parameters
        ----------
        panel : DataFrame
            Validated panel (sorted by ``Loan_ID`` then ``Month``).
        loans : DataFrame
            The loan table (static columns).
        targets : DataFrame
            Columns ``Y_<h>`` (1, 0 or NaN = unknown / not a training row), aligned row by
            row with ``panel``. Only months up to the last labelled month are read.

        Returns
        -------
        self
        """
        net = _net()
        if list(self.horizons) != sorted(set(self.horizons)):
            raise ValueError(f"horizons must be increasing, got {tuple(self.horizons)}")
        if len(targets) != len(panel):
            raise ValueError(f"targets has {len(targets)} rows, the panel {len(panel)}")
        y_rows = np.column_stack(
            [
                targets[f"Y_{h}"].to_numpy(dtype=np.float64)
                if f"Y_{h}" in targets
                else np.full(len(panel), np.nan)
                for h in self.horizons
            ]
        )
        known = ~np.isnan(y_rows)
        if not known.any():
            raise ValueError("no panel row has a known target")
        months = panel["Month"].to_numpy(dtype=np.int64)
        self.fit_until_ = int(months[known.any(axis=1)].max())
        seen = months <= self.fit_until_
        # Inputs never extend past the last labelled month: no later month can leak in.
        data = build_sequences(panel.loc[seen], loans)
        y_rows, known, months = y_rows[seen], known[seen], months[seen]
        for h_i, h in enumerate(self.horizons):
            labels = y_rows[known[:, h_i], h_i]
            if known[:, h_i].any() and len(np.unique(labels)) < 2:
                raise ValueError(f"horizon {h}: the training loan-months hold a single class")
        self._learn_scaling(data)
        arrays = self._arrays(data)
        shape = (data.n_loans, data.seq.shape[1], len(self.horizons))
        y = np.zeros(shape, dtype=np.float32)
        fit_mask = np.zeros(shape, dtype=np.float32)
        val_mask = np.zeros(shape, dtype=np.float32)
        for h_i in range(len(self.horizons)):
            k = known[:, h_i]
            if not k.any():
                continue
            last = months[k].max()
            late = k & (months > last - self.val_months)
            loan, step = data.row_loan, data.row_step
            y[loan[k], step[k], h_i] = y_rows[k, h_i]
            fit_mask[loan[k & ~late], step[k & ~late], h_i] = 1.0
            val_mask[loan[late], step[late], h_i] = 1.0
        settings = net.TrainSettings(
            hidden=self.hidden_size,
            max_epochs=self.max_epochs,
            patience=self.patience,
            batch_size=self.batch_size,
            learning_rate=self.learning_rate,
            seed=self.random_state,
        )
        with net.deterministic(self.n_threads, self.random_state):
            weights, best, history = net.train(arrays, y, fit_mask, val_mask, settings)
        self.weights_ = weights
        self.link_ = _LINK
        self.best_epoch_ = best
        self.history_ = history
        logger.info("sequence model: kept epoch %d of %d", best, len(history))
        return self

    def _learn_scaling(self, data: SequenceData) -> None:
        cells = data.months.reshape(-1) >= 0
        flat = data.seq.reshape(-1, data.seq.shape[2])[cells]
        mean, std = _scale_stats(flat)
        for i, name in enumerate(CHANNELS):
            if name in _UNSCALED:
                mean[i], std[i] = 0.0, 1.0
        self.channel_mean_, self.channel_std_ = mean, std
        self.static_mean_, self.static_std_ = _scale_stats(data.static)

    def _arrays(self, data: SequenceData) -> dict[str, np.ndarray]:
        seq = data.seq - self.channel_mean_  # a new float32 array, scaled in place
        seq /= self.channel_std_
        seq[data.months < 0] = 0.0
        static = (data.static - self.static_mean_) / self.static_std_
        static = np.nan_to_num(static, nan=0.0).astype(np.float32)
        return {
            "seq": seq,
            "static": static,
            "type_code": data.type_code,
            "employment_code": data.employment_code,
        }

    def predict_proba_horizons(self, panel: pd.DataFrame, loans: pd.DataFrame) -> pd.DataFrame:
        """Probability of 90+ DPD within each horizon, for every panel row.

        Parameters
        ----------
        panel : DataFrame
            Validated panel (sorted by ``Loan_ID`` then ``Month``); each row is scored from
            its loan's months up to its own month.
        loans : DataFrame
            The loan table.

        Returns
        -------
        DataFrame
            Columns ``P_<h>`` indexed like ``panel``, monotone in the horizon.
        """
        hazards, data = self._hazard_logits(panel, loans, last_only=False)
        return self._chained(hazards[data.row_loan, data.row_step], panel.index)

    def predict_proba_last(self, panel: pd.DataFrame, loans: pd.DataFrame) -> pd.DataFrame:
        """Probability of 90+ DPD within each horizon at each loan's last panel month.

        The same figures as :meth:`predict_proba_horizons` at those rows, without running
        the output layers on every month (what a watchlist of the latest month needs).

        Parameters
        ----------
        panel : DataFrame
            Validated panel (sorted by ``Loan_ID`` then ``Month``).
        loans : DataFrame
            The loan table.

        Returns
        -------
        DataFrame
            Columns ``P_<h>`` indexed by ``Loan_ID`` (in the panel's order), monotone in
            the horizon.
        """
        hazards, data = self._hazard_logits(panel, loans, last_only=True)
        return self._chained(hazards, pd.Index(data.loan_ids, name="Loan_ID"))

    def _hazard_logits(
        self, panel: pd.DataFrame, loans: pd.DataFrame, *, last_only: bool
    ) -> tuple[np.ndarray, SequenceData]:
        check_is_fitted(self, "weights_")
        if getattr(self, "link_", None) != _LINK:
            raise ValueError(
                "this sequence model was fitted by an earlier version of loanrecovery "
                "(clipped horizons); fit it (or the bundle) again"
            )
        net = _net()
        data = build_sequences(panel, loans)
        if data.static.shape[1] != len(STATIC_NUMERIC):
            raise ValueError("static inputs differ from those seen at fit time")
        arrays = self._arrays(data)
        shape = (len(CHANNELS), len(STATIC_NUMERIC), self.hidden_size, len(self.horizons))
        with net.threads(self.n_threads):
            model = net.cached_net(self, self.weights_, shape)
            hazards = net.predict_hazard_logits(model, arrays, data.lengths, last_only=last_only)
        return hazards, data

    def _chained(self, hazard_logits: np.ndarray, index: pd.Index) -> pd.DataFrame:
        """``P_k = 1 - exp(-(softplus(h_1) + ... + softplus(h_k)))``: monotone in ``k``
        because every term is non-negative (nothing is clipped)."""
        cumulative = np.cumsum(np.logaddexp(0.0, hazard_logits.astype(np.float64)), axis=1)
        probs = -np.expm1(-cumulative)
        return pd.DataFrame(
            probs, index=index, columns=[f"P_{h}" for h in self.horizons], dtype=np.float64
        )
