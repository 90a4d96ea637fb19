"""Attack the model-file door: generated archives, cards and hash-consistent foreign payloads."""

from __future__ import annotations

import hashlib
import io
import json
import math
import zipfile
from pathlib import Path

import numpy as np
import pytest
import skops.io as sio
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression

from loanrecovery.exceptions import ModelFileError
from loanrecovery.modeling.model_file import FORMAT, integrity_hash, load_model

from .conftest import invoke

#: Generated cases fed to each test (see the report of issue 17).
CASES = 40

_FAST = {
    "deadline": None,
    "max_examples": CASES,
    "phases": [Phase.explicit, Phase.reuse, Phase.generate],
    "suppress_health_check": [HealthCheck.function_scoped_fixture],
}

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=10,
)
payload_objects = st.one_of(
    json_values,
    st.builds(lambda n: np.arange(n), st.integers(0, 5)),
    st.just("sklearn"),
)


def _archive(card: object, payload: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("card.json", json.dumps(card))
        archive.writestr("model.skops", payload)
    return buffer.getvalue()


def _payload(obj: object) -> bytes:
    if isinstance(obj, str) and obj == "sklearn":
        model = LogisticRegression().fit(np.array([[0.0], [1.0], [2.0], [3.0]]), [0, 0, 1, 1])
        return sio.dumps(model)
    return sio.dumps(obj)


@settings(**_FAST)
@given(obj=payload_objects, extra=st.dictionaries(st.text(max_size=5), json_values, max_size=3))
def test_hash_consistent_foreign_payloads_are_refused(
    tmp_path: Path, obj: object, extra: dict
) -> None:
    payload = _payload(obj)
    card = {**extra, "format": FORMAT, "model_sha256": hashlib.sha256(payload).hexdigest()}
    card["integrity_sha256"] = integrity_hash(card, payload)
    path = tmp_path / "model.lrm"
    path.write_bytes(_archive(card, payload))
    with pytest.raises(ModelFileError):
        load_model(path)
    outcome = invoke(
        ["score", "--data", tmp_path / "x.csv", "--model", path, "--out", tmp_path / "s.csv"]
    )
    assert outcome.exit_code == 2
    assert outcome.stderr.count("\n") == 1


@settings(**_FAST)
@given(
    content=st.one_of(
        st.binary(max_size=300),
        st.builds(lambda c, p: _archive(c, p), json_values, st.binary(max_size=50)),
        st.builds(lambda p: _archive({"format": FORMAT, "x": math.inf}, p), st.binary(max_size=9)),
    )
)
def test_any_bytes_as_a_model_file_are_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "model.lrm"
    path.write_bytes(content)
    with pytest.raises(ModelFileError):
        load_model(path)
