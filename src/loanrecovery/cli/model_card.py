"""``loanrecovery model-card``: what a model file holds, without loading the model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from loanrecovery.cli._app import app, console, handle_errors
from loanrecovery.modeling.model_file import read_card

__all__ = ["model_card"]


def card_lines(card: dict[str, Any]) -> list[str]:
    """The card in words, most useful first."""
    metrics = card.get("metrics", {})
    target = card.get("target", {})
    data = card.get("data", {})
    lines = [
        f"champion: {card.get('champion', '?')} (calibration {card.get('calibration', '?')})",
    ]
    if "auc" in metrics:
        lines.append(
            f"out-of-fold AUC {metrics['auc']:.4f}, Brier {metrics.get('brier', float('nan')):.4f}"
            f" ({metrics.get('validation', 'validation not recorded')})"
        )
    if target:
        lines.append(
            f"target: {target.get('column')} = {target.get('positive')} is bad; "
            f"{target.get('rows_used', 0):,} rows used, "
            f"{100 * float(target.get('positive_rate', 0)):.1f}% bad"
        )
    if data:
        lines.append(
            f"trained on: {data.get('file', '?')} ({data.get('rows', 0):,} rows, "
            f"sha256 {str(data.get('sha256', '?'))[:16]}...)"
        )
    features = card.get("features", {})
    lines.append(f"features ({len(features)}): {', '.join(features)}")
    excluded = card.get("excluded_columns", {})
    if excluded:
        shown = "; ".join(f"{k} ({v})" for k, v in excluded.items())
        lines.append(f"left out: {shown}")
    for name, auc in (card.get("candidates_auc") or {}).items():
        lines.append(f"candidate {name}: out-of-fold AUC {auc:.4f}")
    lines.append(
        f"file: format {card.get('format')}, created {card.get('created')}, "
        f"model sha256 {str(card.get('model_sha256', '?'))[:16]}..."
    )
    versions = card.get("library_versions", {})
    if versions:
        lines.append("libraries: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    return lines


@app.command("model-card")
@handle_errors
def model_card(
    model: Path = typer.Argument(..., help="Model file written by `train`."),
    as_json: bool = typer.Option(False, "--json", help="Print the whole card as JSON."),
) -> None:
    """Print a model file's card: champion, metrics, target, features, versions."""
    card = read_card(model)
    if as_json:
        console.print_json(json.dumps(card, default=str))
        return
    for line in card_lines(card):
        console.print(line, markup=False, highlight=False, soft_wrap=True)
