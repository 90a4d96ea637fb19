"""``loanrecovery fit``: fit every stage on a book once and write the bundle file."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from loanrecovery.bundle import fit_with_report, save_bundle
from loanrecovery.checks import output_file
from loanrecovery.cli import _book_options as opts
from loanrecovery.cli._app import app, console, handle_errors, stage_status
from loanrecovery.cli.run import require_loans

__all__ = ["fit"]


@app.command("fit")
@handle_errors
def fit(
    bundle: Path = typer.Option(
        Path("out/fit/book.bundle"), "--bundle", help="Bundle file to write."
    ),
    data: opts.DataOption = None,
    mapping: opts.MappingOption = None,
    delimiter: opts.DelimiterOption = None,
    decimal: opts.DecimalOption = ".",
    payments: opts.PaymentsOption = None,
    collections: opts.CollectionsOption = None,
    config: opts.ConfigOption = None,
    policy: opts.PolicyOption = None,
    budget: opts.BudgetOption = None,
    capacity: opts.CapacityOption = None,
    alert_budget: opts.AlertBudgetOption = None,
    seed: opts.SeedOption = None,
    max_reject_share: opts.MaxRejectShareOption = None,
    accept_rejects: opts.AcceptRejectsOption = False,
    early_warning_model: opts.EarlyWarningModelOption = None,
) -> None:
    """Fit the risk model, segments, early warning and action effects once into a bundle."""
    start = time.perf_counter()
    output_file(bundle, "--bundle", [data, payments, collections])
    settings = opts.config_from_options(
        config,
        policy=policy,
        budget=budget,
        capacity=capacity,
        alert_budget=alert_budget,
        seed=seed,
        max_reject_share=max_reject_share,
        early_warning_model=early_warning_model,
    )
    with stage_status("reading data") as stage:
        book = opts.book_from_options(
            data,
            mapping=mapping,
            delimiter=delimiter,
            payments=payments,
            collections=collections,
            decimal=decimal,
        )
        require_loans(
            book,
            bundle.parent,
            max_share=settings.limits.max_reject_share,
            accept=accept_rejects,
        )
        fitted, report = fit_with_report(book, settings, progress=stage)
        stage("writing the bundle")
        save_bundle(fitted, bundle)
    auc = report.risk.risk.metrics.get("roc_auc")
    stages = ", ".join(name for name, on in fitted.describe().items() if on)
    console.print(
        f"fitted {stages} on {len(book.loans):,} loans "
        f"(risk model out-of-fold AUC {'–' if auc is None else f'{auc:.3f}'}) in "
        f"{time.perf_counter() - start:.1f} s"
    )
    if report.strategy_fallback:
        console.print(report.strategy_fallback, markup=False, highlight=False)
    if report.early_warning_error:
        console.print(f"early warning not fitted: {report.early_warning_error}")
    console.print(f"bundle written to {bundle} (id {fitted.bundle_id[:16]}...)")
