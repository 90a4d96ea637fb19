"""The bundle: every stage fitted once, applied to a whole book or to one account.

A :class:`Bundle` holds the fitted risk stage (features, segments, champion PD, reasons), the
early-warning watchlist model, the action-effect estimator, the configuration and a
manifest. Applying never refits and never changes the bundle, so one loaded bundle can serve
many threads at once.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from loanrecovery.actions import NO_ACTION
from loanrecovery.bundle.account import CLOSED_RULE
from loanrecovery.bundle.accounts import build_accounts
from loanrecovery.bundle.fast import AccountApplier
from loanrecovery.bundle.many import apply_trusted_many
from loanrecovery.bundle.results import AccountResult, BookResult
from loanrecovery.config import Config
from loanrecovery.contract.book import Book, validate_book
from loanrecovery.delinquency import DELINQUENT_DPD
from loanrecovery.early_warning.watchlist_model import WatchlistModel, segments_by_loan
from loanrecovery.exceptions import DataFileError
from loanrecovery.recovery.runner import EffectsFit, run_recovery
from loanrecovery.risk_model import BookRiskModel
from loanrecovery.strategy import assign_strategies, explain_strategies

__all__ = ["Bundle"]


class Bundle:
    """Every stage of loanrecovery, fitted once (:func:`~loanrecovery.bundle.fit_bundle`).

    Parameters
    ----------
    risk : BookRiskModel
        Features, segments, PD and reasons.
    config : Config
        Policy, catalogue, challenger and limits the bundle applies.
    manifest : dict
        Versions, data hash, as-of, metrics and configuration (see
        :func:`~loanrecovery.bundle.files.save_bundle`).
    watchlist : WatchlistModel, optional
        Early warning (fitted when the book had a payment panel).
    effects : EffectsFit, optional
        Action effects (fitted when the book had a collection history).
    """

    def __init__(
        self,
        risk: BookRiskModel,
        config: Config,
        manifest: Mapping[str, Any],
        watchlist: WatchlistModel | None = None,
        effects: EffectsFit | None = None,
    ) -> None:
        self.risk = risk
        self.config = config
        self.manifest = dict(manifest)
        self.watchlist = watchlist
        self.effects = effects
        self._applier: AccountApplier | None = None
        self._applier_lock = threading.Lock()

    def prepare(self) -> Bundle:
        """Build what applying to one account needs (flattened trees, tables), once.

        :meth:`apply_one` does it on its first call; a service calls it at start-up so that
        no request pays for it. Thread-safe and idempotent; the fitted stages are not
        changed (the prepared copy lives beside them and is never saved).
        """
        self._account_applier()
        return self

    @staticmethod
    def reads_history(days_past_due: float) -> bool:
        """Whether an account's collection actions can change its answer: they are read only
        to choose the best action for an active delinquent account (``DELINQUENT_DPD`` days
        past due or more), so a caller may leave them out for the others."""
        return bool(days_past_due >= DELINQUENT_DPD)

    def _account_applier(self) -> AccountApplier:
        applier = self._applier
        if applier is None:
            with self._applier_lock:
                if self._applier is None:
                    self._applier = AccountApplier(
                        self.risk, self.config, watchlist=self.watchlist, effects=self.effects
                    )
                applier = self._applier
        return applier

    @property
    def bundle_id(self) -> str:
        """The bundle's identity (SHA-256 of its content, set when it is saved)."""
        return str(self.manifest.get("bundle_id", ""))

    def apply(
        self,
        book: Book,
        *,
        risk_scores: np.ndarray | None = None,
        reasons: bool = True,
        watchlist: pd.DataFrame | None = None,
    ) -> BookResult:
        """Score, segment, explain, warn and plan a validated book, without refitting.

        Parameters
        ----------
        book : Book
            A book validated by :func:`~loanrecovery.contract.book.validate_book`.
        risk_scores : ndarray, optional
            PDs to use instead of the model's (``run`` passes the out-of-fold PDs of the
            loans the model was trained on, so that no loan is judged by a model that saw
            its outcome).
        reasons : bool, default=True
            Compute reason codes.
        watchlist : DataFrame, optional
            The watchlist this bundle's early-warning model already gave for ``book`` (``run``
            passes the one its fit computed, rather than building the panel features twice).

        Returns
        -------
        BookResult
        """
        scored = self.risk.apply(book.loans, reasons=reasons)
        if risk_scores is not None:
            scored.scores = np.asarray(risk_scores, dtype=float)
            scored.segments = self.risk.segments_of(scored.scores, scored.closed)
        by_loan = pd.Series(scored.segments, index=book.loans["Loan_ID"].to_numpy())
        dpd = book.loans["Days_Past_Due"].to_numpy(dtype=float)
        policy = self.config.policy
        strategies = assign_strategies(policy, scored.scores, scored.segments, dpd)
        rules = explain_strategies(policy, scored.scores, scored.segments, dpd)
        strategies[scored.closed] = NO_ACTION
        rules[scored.closed] = CLOSED_RULE
        if (
            watchlist is None
            and self.watchlist is not None
            and book.payments is not None
            and len(book.payments)
        ):
            watchlist = self.watchlist.apply(
                book.payments,
                book.loans,
                segments=by_loan,
                min_probability=self.config.limits.alert_min_probability,
            )
        if watchlist is not None and len(watchlist):
            # One segment per loan: the risk stage's, whoever computed the watchlist.
            watchlist = watchlist.assign(Segment=segments_by_loan(watchlist["Loan_ID"], by_loan))
        recovery = None
        if self.effects is not None and book.collections is not None:
            recovery = run_recovery(
                book.loans,
                book.collections,
                book.payments,
                risk_score=pd.Series(scored.scores, index=book.loans["Loan_ID"].to_numpy()),
                segments=by_loan,
                effects=self.effects,
                **self.config.plan_options(),
            )
        accounts = build_accounts(
            book,
            scored,
            strategies,
            rules,
            self.config,
            watchlist=watchlist,
            recovery=recovery,
        )
        return BookResult(
            book=book,
            risk=scored,
            strategies=strategies,
            strategy_rules=rules,
            watchlist=watchlist,
            recovery=recovery,
            accounts=accounts,
        )

    def apply_account(
        self,
        loan: Mapping[str, Any],
        payments: pd.DataFrame | None = None,
        collections: pd.DataFrame | None = None,
    ) -> AccountResult:
        """Apply every stage to one account.

        Parameters
        ----------
        loan : mapping
            One row of the loan table (canonical column names).
        payments : DataFrame, optional
            The account's payment-panel rows.
        collections : DataFrame, optional
            The account's collection history.

        Returns
        -------
        AccountResult

        Raises
        ------
        DataFileError
            The loan row breaks the contract (the message names the column and value).
        """
        book = validate_book(
            pd.DataFrame([dict(loan)]),
            payments,
            collections,
            source=f"account {loan.get('Loan_ID')}",
        )
        if len(book.loans) != 1:
            reasons = book.rejects["loans"]["Reason"].tolist()
            raise DataFileError(
                book.source,
                f"the loan row breaks the contract: {reasons[0] if reasons else 'no row'}",
            )
        return self.apply_one(book)

    def apply_one(self, book: Book) -> AccountResult:
        """Apply every stage to the single account of a validated book (e.g.
        :meth:`Book.account`), skipping the contract check that :meth:`apply_account` does."""
        return self._account_applier().apply(book)

    def apply_trusted(
        self,
        loan: Mapping[str, Any],
        payments: Sequence[Sequence[Any]] = (),
        collections: Sequence[Sequence[Any]] = (),
    ) -> AccountResult:
        """Apply every stage to one account from rows the contract accepted before (e.g. read
        back from the service's database): the loan row (canonical names), its panel rows
        (:data:`~loanrecovery.contract.trusted.PANEL_ROW` tuples) and collection actions
        (:data:`~loanrecovery.contract.trusted.HISTORY_ROW` tuples). The answer of
        ``apply_one(Book.from_trusted([loan], payments or None, collections or None))``,
        without building the book."""
        return self._account_applier().apply_trusted(loan, payments, collections)

    def apply_trusted_many(
        self,
        loans: Sequence[Mapping[str, Any]],
        payments: Sequence[Sequence[Sequence[Any]]],
        collections: Sequence[Sequence[Sequence[Any]]],
    ) -> list[AccountResult]:
        """:meth:`apply_trusted` of many accounts (``payments[i]`` and ``collections[i]``
        are the rows of ``loans[i]``), in order, with the risk model and the policy applied
        to all of them at once (:func:`~loanrecovery.bundle.many.apply_trusted_many`)."""
        return apply_trusted_many(self._account_applier(), loans, payments, collections)

    def describe(self) -> dict[str, Any]:
        """Which stages the bundle holds."""
        return {
            "risk": True,
            "early_warning": self.watchlist is not None,
            "action_effects": self.effects is not None,
        }
