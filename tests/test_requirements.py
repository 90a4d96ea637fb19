"""requirements.txt is generated from pyproject.toml, not hand-kept."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_requirements_file_is_up_to_date():
    spec = importlib.util.spec_from_file_location(
        "make_requirements", ROOT / "scripts" / "make_requirements.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (ROOT / "requirements.txt").read_text(encoding="utf-8") == module.render(), (
        "requirements.txt is stale: run `make requirements`"
    )
