"""Model files: skops round trip, tampered, truncated and untrusted files refused."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io as sio

from loanrecovery.exceptions import ModelFileError
from loanrecovery.modeling import load_model, prepare_table, save_model, train_scoring_model
from loanrecovery.modeling.model_file import integrity_hash

TARGET = "TARGET_LABEL_BAD=1"


class Intruder:
    """A type no model file should create."""

    def __init__(self) -> None:
        self.payload = "anything"


@pytest.fixture(scope="module")
def model_path(tmp_path_factory: pytest.TempPathFactory, loan_table: pd.DataFrame) -> Path:
    prepared = prepare_table(loan_table, target=TARGET)
    model = train_scoring_model(
        prepared, input_columns=list(loan_table.columns), id_columns=["Loan_ID"], folds=3, n_jobs=1
    )
    path = tmp_path_factory.mktemp("models") / "model.lrm"
    save_model(model, path, {"note": "test"})
    return path


def test_round_trip_scores_identically(model_path: Path, loan_table: pd.DataFrame) -> None:
    model, card = load_model(model_path)
    again, _ = load_model(model_path)
    first = model.score(loan_table.head(200))
    second = again.score(loan_table.head(200))
    pd.testing.assert_frame_equal(first.table, second.table)
    assert card["serialisation"] == "skops"
    assert {"model_sha256", "library_versions", "created"} <= set(card)
    assert set(first.table.columns) >= {"Loan_ID", "pd", "score_band", "segment", "strategy"}
    assert first.table["pd"].between(0, 1).all()


def _rewrite(
    path: Path, target: Path, *, card: dict | None = None, payload: bytes | None = None
) -> None:  # type: ignore[type-arg]
    with zipfile.ZipFile(path) as archive:
        old_card = json.loads(archive.read("card.json"))
        old_payload = archive.read("model.skops")
    with zipfile.ZipFile(target, "w") as archive:
        archive.writestr("card.json", json.dumps(card if card is not None else old_card))
        archive.writestr("model.skops", payload if payload is not None else old_payload)


def test_tampered_model_is_refused(model_path: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(model_path) as archive:
        card = json.loads(archive.read("card.json"))
    card["model_sha256"] = "0" * 64
    tampered = tmp_path / "tampered.lrm"
    _rewrite(model_path, tampered, card=card)
    with pytest.raises(ModelFileError, match="SHA-256"):
        load_model(tampered)


def test_truncated_model_is_refused(model_path: Path, tmp_path: Path) -> None:
    truncated = tmp_path / "truncated.lrm"
    truncated.write_bytes(model_path.read_bytes()[: model_path.stat().st_size // 2])
    with pytest.raises(ModelFileError, match="truncated or damaged"):
        load_model(truncated)


def test_untrusted_type_is_refused_and_named(model_path: Path, tmp_path: Path) -> None:
    payload = sio.dumps({"model": Intruder(), "weights": np.arange(3)})
    with zipfile.ZipFile(model_path) as archive:
        card = json.loads(archive.read("card.json"))
    card["model_sha256"] = hashlib.sha256(payload).hexdigest()
    card["integrity_sha256"] = integrity_hash(card, payload)
    evil = tmp_path / "evil.lrm"
    _rewrite(model_path, evil, card=card, payload=payload)
    with pytest.raises(ModelFileError, match="untrusted types.*Intruder"):
        load_model(evil)


def test_missing_and_unseen_columns_are_named(model_path: Path, loan_table: pd.DataFrame) -> None:
    from loanrecovery.exceptions import DataFileError, DataQualityWarning

    model, _ = load_model(model_path)
    with pytest.raises(DataFileError, match="Utilisation"):
        model.score(loan_table.drop(columns=["Utilisation"]))
    extra = loan_table.head(50).assign(Brand_New=1.0)
    with pytest.warns(DataQualityWarning, match="Brand_New"):
        result = model.score(extra)
    assert result.unseen_columns == ["Brand_New"]


def test_drift_is_reported_per_feature(model_path: Path, loan_table: pd.DataFrame) -> None:
    model, _ = load_model(model_path)
    same = model.score(loan_table)
    shifted_table = loan_table.assign(Days_Past_Due=loan_table["Days_Past_Due"] + 120)
    shifted = model.score(shifted_table)
    psi_same = same.drift.set_index("feature")["psi"]
    psi_shifted = shifted.drift.set_index("feature")["psi"]
    assert psi_same["Days_Past_Due"] < 0.1
    assert psi_shifted["Days_Past_Due"] > 0.25
    assert shifted.drift.set_index("feature").loc["Days_Past_Due", "band"] == "significant shift"
    assert shifted.overall_psi > same.overall_psi


def test_tampered_card_is_refused(model_path: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(model_path) as archive:
        card = json.loads(archive.read("card.json"))
    card["target"] = {"column": "something else"}
    tampered = tmp_path / "card.lrm"
    _rewrite(model_path, tampered, card=card)
    with pytest.raises(ModelFileError, match="integrity"):
        load_model(tampered)


@pytest.mark.parametrize("payload", [{"a": 1}, "text", [1, 2]])
def test_payload_not_ours_is_refused(model_path: Path, tmp_path: Path, payload: object) -> None:
    data = sio.dumps(payload)
    with zipfile.ZipFile(model_path) as archive:
        card = json.loads(archive.read("card.json"))
    card["model_sha256"] = hashlib.sha256(data).hexdigest()
    card["integrity_sha256"] = integrity_hash(card, data)
    other = tmp_path / "other.lrm"
    _rewrite(model_path, other, card=card, payload=data)
    with pytest.raises(ModelFileError, match="not a loanrecovery scoring model"):
        load_model(other)


def test_model_of_an_older_format_says_so(model_path: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(model_path) as archive:
        card = json.loads(archive.read("card.json"))
    card["format"] = "loanrecovery-model/2"
    older = tmp_path / "older.lrm"
    _rewrite(model_path, older, card=card)
    with pytest.raises(ModelFileError, match="made by an older version of loanrecovery"):
        load_model(older)


def test_segments_are_bands_of_the_pd(model_path: Path, loan_table: pd.DataFrame) -> None:
    model, _ = load_model(model_path)
    scored = model.score(loan_table).table
    open_rows = scored["segment"].astype(str) != "Closed"
    names = list(model.segmenter.names_)
    rank = scored.loc[open_rows, "segment"].astype(str).map(names.index).to_numpy()
    order = np.argsort(scored.loc[open_rows, "pd"].to_numpy(), kind="stable")
    assert (np.diff(rank[order]) >= 0).all()
    assert set(scored.loc[open_rows, "segment"].astype(str)) <= set(names)
