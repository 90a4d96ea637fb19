"""Fit once, save, load (from a path and from bytes), apply many: same answers, no mutation,
tampering and foreign payloads refused."""

from __future__ import annotations

import hashlib
import io
import json
import threading
import zipfile

import numpy as np
import pandas as pd
import pytest
import skops.io as sio

from loanrecovery.bundle import bundle_bytes, load_bundle, read_manifest, save_bundle
from loanrecovery.exceptions import ModelFileError


def _same(a, b) -> None:
    np.testing.assert_allclose(a.risk.scores, b.risk.scores, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(a.risk.segments, b.risk.segments)
    np.testing.assert_array_equal(a.strategies, b.strategies)
    pd.testing.assert_frame_equal(a.risk.reasons, b.risk.reasons)
    pd.testing.assert_frame_equal(a.watchlist, b.watchlist)
    pd.testing.assert_frame_equal(a.plan, b.plan)


def test_round_trip_through_a_file_and_bytes_gives_the_same_answers(fitted, sim_book, tmp_path):
    bundle, _ = fitted
    path = save_bundle(bundle, tmp_path / "book.bundle")
    from_path = load_bundle(path)
    from_bytes = load_bundle(path.read_bytes())
    expected = bundle.apply(sim_book)
    _same(expected, from_path.apply(sim_book))
    _same(expected, from_bytes.apply(sim_book))
    assert from_path.bundle_id == from_bytes.bundle_id == bundle.bundle_id
    assert len(bundle.bundle_id) == 64


def test_manifest_records_versions_data_hash_as_of_metrics_and_config(fitted, sim_book):
    bundle, report = fitted
    manifest = read_manifest(bundle_bytes(bundle))
    assert manifest["data"]["sha256"] == sim_book.fingerprint()
    assert manifest["data"]["as_of"] == sim_book.as_of == 18
    assert manifest["versions"]["loanrecovery"]
    assert manifest["metrics"]["risk"]["roc_auc"] == report.risk.risk.metrics["roc_auc"]
    assert manifest["config"]["policy"]["text"] == bundle.config.policy.text
    assert manifest["stages"] == {"risk": True, "early_warning": True, "action_effects": True}


def test_applying_never_changes_the_bundle_and_threads_agree(fitted, sim_book):
    bundle = load_bundle(bundle_bytes(fitted[0]))
    before = hashlib.sha256(bundle_bytes(bundle)).hexdigest()
    results: dict[int, object] = {}

    def work(k: int) -> None:
        results[k] = bundle.apply(sim_book)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    _same(results[0], results[1])
    assert hashlib.sha256(bundle_bytes(bundle)).hexdigest() == before


def _rewrite(data: bytes, manifest=None, payload=None) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        old_manifest = json.loads(archive.read("manifest.json"))
        old_payload = archive.read("bundle.skops")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("manifest.json", json.dumps(manifest or old_manifest))
        archive.writestr("bundle.skops", payload if payload is not None else old_payload)
    return out.getvalue()


def test_a_tampered_manifest_or_payload_is_refused(fitted):
    data = bundle_bytes(fitted[0])
    manifest = read_manifest(data)
    manifest["data"]["as_of"] = 99
    with pytest.raises(ModelFileError, match="modified after fitting"):
        load_bundle(_rewrite(data, manifest=manifest))
    with pytest.raises(ModelFileError, match="modified after fitting"):
        load_bundle(_rewrite(data, payload=sio.dumps({"risk": None})))


def test_a_foreign_payload_with_a_matching_hash_is_refused(fitted):
    from loanrecovery.bundle.files import _digest

    data = bundle_bytes(fitted[0])
    manifest = read_manifest(data)
    for payload in (sio.dumps({"a": 1}), sio.dumps([1, 2, 3])):
        manifest["bundle_id"] = _digest(payload, manifest)
        with pytest.raises(ModelFileError, match="not a loanrecovery bundle"):
            load_bundle(_rewrite(data, manifest=manifest, payload=payload))


def test_another_package_version_is_named(fitted):
    from loanrecovery.bundle.files import _digest

    data = bundle_bytes(fitted[0])
    manifest = read_manifest(data)
    manifest["versions"]["loanrecovery"] = "0.0.1"
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        payload = archive.read("bundle.skops")
    manifest["bundle_id"] = _digest(payload, manifest)
    with pytest.raises(ModelFileError, match="fitted with loanrecovery 0.0.1"):
        load_bundle(_rewrite(data, manifest=manifest))


def test_a_bundle_of_an_older_format_says_so(fitted):
    data = bundle_bytes(fitted[0])
    manifest = read_manifest(data)
    manifest["format"] = "loanrecovery-bundle/1"
    with pytest.raises(ModelFileError, match="made by an older version of loanrecovery"):
        load_bundle(_rewrite(data, manifest=manifest))
    manifest["format"] = "something-else/7"
    with pytest.raises(ModelFileError, match="unknown bundle format"):
        load_bundle(_rewrite(data, manifest=manifest))


@pytest.mark.parametrize("content", [b"", b"not a zip", b"PK\x03\x04 broken"])
def test_damaged_files_are_refused_with_one_message(content, tmp_path):
    path = tmp_path / "x.bundle"
    path.write_bytes(content)
    with pytest.raises(ModelFileError, match="x.bundle"):
        load_bundle(path)
    with pytest.raises(ModelFileError, match="not found"):
        load_bundle(tmp_path / "missing.bundle")
