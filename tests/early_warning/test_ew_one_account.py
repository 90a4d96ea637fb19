"""Many accounts at once (``AccountWarning.features_many`` / ``probabilities_many``) give each
account's own answer (``features`` / ``probabilities``) bit for bit: on every account of two
books, with months missing, rows out of order, no panel, 90+ days past due, and panels the
contract would not accept."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loanrecovery.delinquency import DEFAULT_DPD
from loanrecovery.early_warning.features import build_features
from loanrecovery.early_warning.horizon import HorizonClassifiers
from loanrecovery.early_warning.last_rows import MAX_WIDTH
from loanrecovery.early_warning.one_account import AccountWarning
from loanrecovery.early_warning.targets import make_targets
from loanrecovery.early_warning.watchlist_model import FEATURES, PD_HORIZONS, WatchlistModel
from loanrecovery.modeling import flat_trees

Book = tuple[pd.DataFrame, pd.DataFrame]
_PANEL = ("Month", "Amount_Due", "Amount_Paid", "Days_Past_Due", "Outstanding_Balance")


@pytest.fixture(scope="module")
def watchlist(small_book: Book) -> WatchlistModel:
    """Small chained horizon models (3, 6 and 12 months) fitted on the small book."""
    loans, payments = small_book
    feats = build_features(payments, loans)
    targets = make_targets(payments, PD_HORIZONS)
    rows = targets["Performing"].to_numpy(dtype=bool)
    model = HorizonClassifiers(
        horizons=PD_HORIZONS, n_estimators=40, min_child_samples=50, n_jobs=1, random_state=3
    ).fit(feats.loc[rows, list(FEATURES)], targets.loc[rows])
    assert sorted(model.models_) == list(PD_HORIZONS)
    return WatchlistModel(model, None, 0.1)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def warning(watchlist: WatchlistModel) -> AccountWarning:
    out = AccountWarning(watchlist)
    assert flat_trees.native_available()  # the trees summed natively, many rows at once
    return out


def _accounts(loans: pd.DataFrame, payments: pd.DataFrame, seed: int) -> tuple[list, list]:
    """Every account of a book as loan rows and panel arrays, about a third with months
    dropped (sometimes the latest), some with their rows shuffled, some with no panel."""
    rng = np.random.default_rng(seed)
    by_loan = {k: g for k, g in payments.groupby("Loan_ID", sort=False)}
    rows, panels = [], []
    for loan in loans.to_dict("records"):
        found = by_loan.get(loan["Loan_ID"])
        panel = None if found is None else {c: found[c].to_numpy() for c in _PANEL}
        if panel is not None and rng.random() < 0.35 and len(panel["Month"]) > 2:
            keep = rng.random(len(panel["Month"])) > 0.35
            keep[0] = True
            panel = {c: v[keep] for c, v in panel.items()}
        if panel is not None and rng.random() < 0.1:
            order = rng.permutation(len(panel["Month"]))
            panel = {c: v[order] for c, v in panel.items()}
        if rng.random() < 0.03:
            panel = None if rng.random() < 0.5 else {c: np.zeros(0) for c in _PANEL}
        rows.append(loan)
        panels.append(panel)
    return rows, panels


def _assert_same(warning: AccountWarning, rows: list, panels: list) -> list:
    which, matrix = warning.features_many(rows, panels)
    given = [i for i, p in enumerate(panels) if p is not None and len(p["Month"])]
    alone = [(i, warning.features(rows[i], panels[i])) for i in given]
    alone = [(i, f) for i, f in alone if f is not None]
    assert which.tolist() == [i for i, _ in alone]
    assert matrix.shape == (len(alone), len(FEATURES))
    if alone:  # bit for bit, NaN and the sign of zero included
        expected = np.array([f for _, f in alone])
        assert (matrix.view(np.int64) == expected.view(np.int64)).all()
    got = warning.probabilities_many(rows, panels)
    assert got == [warning.probabilities(r, p) for r, p in zip(rows, panels, strict=True)]
    return got


def test_many_accounts_of_two_books_get_each_accounts_own_answer(
    warning: AccountWarning, small_book: Book, book_factory: Callable[..., Book]
) -> None:
    other_loans, other_payments = book_factory(n_loans=300, n_months=40, seed=11)
    other_loans = other_loans.drop(columns="Origination_Month")  # months on book by row
    rows, panels = _accounts(*small_book, seed=0)
    more_rows, more_panels = _accounts(other_loans, other_payments, seed=1)
    got = _assert_same(warning, rows + more_rows, panels + more_panels)
    listed = [g for g in got if g is not None]
    assert len(listed) > 500 and set(listed[0]) == set(PD_HORIZONS)
    defaulted = [
        i
        for i, p in enumerate(panels + more_panels)
        if p is not None and (p["Days_Past_Due"] >= DEFAULT_DPD).any()
    ]
    assert defaulted and all(got[i] is None for i in defaulted)
    assert any(p is None for p in panels) and any(
        p is not None and not len(p["Month"]) for p in panels
    )


def test_panels_the_contract_would_refuse_are_answered_alone(
    warning: AccountWarning, small_book: Book
) -> None:
    """A month twice, a missing amount, a panel longer than the matrices hold, a float
    month: the same answers as one account at a time."""
    rows, panels = _accounts(*small_book, seed=2)
    rows, panels = rows[:40], list(panels[:40])
    full = [i for i, p in enumerate(panels) if p is not None and len(p["Month"]) > 3]
    twice = dict(panels[full[0]])
    twice = {c: np.r_[v, v[-1:]] for c, v in twice.items()}
    missing = {c: v.astype(np.float64).copy() for c, v in panels[full[1]].items()}
    missing["Amount_Paid"][1] = np.nan
    long = {c: v.copy() for c, v in panels[full[2]].items()}
    long["Month"] = long["Month"] + np.r_[0, np.full(len(long["Month"]) - 1, MAX_WIDTH)]
    floats = {c: v.astype(np.float64) for c, v in panels[full[3]].items()}
    for k, panel in zip(full[:4], (twice, missing, long, floats), strict=True):
        panels[k] = panel
    _assert_same(warning, rows, panels)


@st.composite
def _panels(draw: st.DrawFn) -> list[dict[str, np.ndarray] | None]:
    """A few accounts: any set of months (gaps, none at all), amounts with zeros and
    partial payments, days past due up to and over 90."""
    out: list[dict[str, np.ndarray] | None] = []
    for _ in range(draw(st.integers(1, 6))):
        months = sorted(draw(st.sets(st.integers(0, 40), max_size=30)))
        n = len(months)
        amounts = st.sampled_from([0.0, 0.01, 50.0, 99.99, 100.0, 250.5, 1e6])
        due = draw(st.lists(amounts, min_size=n, max_size=n))
        paid = draw(st.lists(amounts, min_size=n, max_size=n))
        dpd = draw(st.lists(st.sampled_from([0, 15, 30, 60, 89, 90, 120]), min_size=n, max_size=n))
        balance = draw(st.lists(st.floats(0, 1e6), min_size=n, max_size=n))
        out.append(
            None
            if draw(st.booleans()) and not n
            else {
                "Month": np.array(months, dtype=np.int64),
                "Amount_Due": np.array(due),
                "Amount_Paid": np.array(paid),
                "Days_Past_Due": np.array(dpd, dtype=np.float64),
                "Outstanding_Balance": np.array(balance),
            }
        )
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(panels=_panels(), first=st.integers(0, 500))
def test_any_panels_get_each_accounts_own_answer(
    warning: AccountWarning, small_book: Book, panels: list, first: int
) -> None:
    loans = small_book[0].to_dict("records")
    _assert_same(warning, loans[first : first + len(panels)], panels)


def test_one_panel_per_loan(warning: AccountWarning, small_book: Book) -> None:
    loans = small_book[0].to_dict("records")[:2]
    with pytest.raises(ValueError, match="one panel per loan"):
        warning.probabilities_many(loans, [None])
    assert warning.probabilities_many([], []) == []


def test_without_a_compiler_many_accounts_go_through_lightgbm_with_the_same_answers(
    watchlist: WatchlistModel, small_book: Book, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOANRECOVERY_NO_COMPILE", "1")
    monkeypatch.setattr(flat_trees, "_STATE", {})
    slow = AccountWarning(watchlist)
    rows, panels = _accounts(*small_book, seed=4)
    got = _assert_same(slow, rows[:150], panels[:150])
    assert any(g is not None for g in got)
