"""Model files: skops (never pickle), a model card, and refusal of anything untrusted.

A model file is a zip archive holding ``model.skops`` (the :class:`LoanScoringModel`
persisted with skops) and ``card.json`` (the model card: SHA-256 of ``model.skops``, data
fingerprint, features and their roles, metrics, library versions, date, and
``integrity_sha256``, the SHA-256 of the payload and the rest of the card together, so that
neither can change alone). Loading checks both hashes, then lists the types skops would have
to create and refuses any type outside :data:`TRUSTED_PREFIXES`, naming them, and finally
refuses a payload that is not a :class:`LoanScoringModel` (a plain dict, another tool's
scikit-learn model), whatever it contains.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import zipfile
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from types import ModuleType
from typing import Any

from loanrecovery.exceptions import ModelFileError
from loanrecovery.jsonable import to_jsonable
from loanrecovery.modeling.scoring import LoanScoringModel

__all__ = [
    "save_model",
    "load_model",
    "read_card",
    "file_fingerprint",
    "integrity_hash",
    "TRUSTED_PREFIXES",
    "skops_io",
]

logger = logging.getLogger(__name__)


def skops_io() -> ModuleType:
    """``skops.io``, imported when a model or bundle file is first written or read.

    Importing skops lists every scikit-learn type by importing every scikit-learn module
    (PyTorch too, when it is installed): seconds of CPU that a command which writes and reads
    no file (``run`` without ``--bundle``) should not pay at start-up.
    """
    return importlib.import_module("skops.io")


def format_message(name: str, found: object, expected: str, kind: str) -> str:
    """Why a ``kind`` file (``model`` or ``bundle``) of format ``found`` cannot be read.

    A file of an earlier format of ours says it was made by an older version and must be
    fitted again (formats change when what the file holds changes meaning, e.g. segments);
    anything else is an unknown format.
    """
    prefix = expected.rsplit("/", 1)[0] + "/"
    if isinstance(found, str) and found.startswith(prefix):
        try:
            older = int(found[len(prefix) :]) < int(expected[len(prefix) :])
        except ValueError:
            older = False
        if older:
            return (
                f"{name}: this {kind} file was made by an older version of loanrecovery "
                f"(format {found!r}; this version reads {expected!r}): fit it again with this "
                "version"
            )
    return f"{name}: unknown {kind} format {found!r}, expected {expected!r}"


_MODEL = "model.skops"
_CARD = "card.json"
FORMAT = "loanrecovery-model/3"
_INTEGRITY = "integrity_sha256"

#: Types a model file may create: our own modelling classes and library data structures.
TRUSTED_PREFIXES = (
    "loanrecovery.modeling.",
    "loanrecovery.segmentation.RiskSegmenter",
    "loanrecovery.strategy.StrategyPolicy",
    "loanrecovery.strategy.StrategyRule",
    "sklearn.",
    "numpy.",
    "scipy.sparse.",
    "builtins.slice",
)
_LIBRARIES = ("loanrecovery", "numpy", "pandas", "scikit-learn", "lightgbm", "optbinning", "skops")


def _versions() -> dict[str, str]:
    out = {}
    for name in _LIBRARIES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def file_fingerprint(path: str | Path) -> dict[str, Any]:
    """SHA-256 and size of a data file (of a Parquet folder: of its part files, names and
    bytes, in name order)."""
    digest = hashlib.sha256()
    size = 0
    files = sorted(Path(path).glob("*.parquet")) if Path(path).is_dir() else [Path(path)]
    for file in files:
        if len(files) > 1 or file != Path(path):
            digest.update(file.name.encode() + b"\0")
        with open(file, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
                size += len(block)
    return {"file": Path(path).name, "sha256": digest.hexdigest(), "bytes": size}


def integrity_hash(card: dict[str, Any], payload: bytes) -> str:
    """SHA-256 of the payload and the card (without its own ``integrity_sha256``)."""
    body = {k: v for k, v in card.items() if k != _INTEGRITY}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str, allow_nan=False)
    return hashlib.sha256(payload + b"\0" + text.encode("utf-8")).hexdigest()


def save_model(model: Any, path: str | Path, card: dict[str, Any]) -> dict[str, Any]:
    """Write ``model`` with skops and its card into ``path``; return the full card."""
    payload = skops_io().dumps(model)
    full = dict(card)
    full.update(
        {
            "format": FORMAT,
            "model_sha256": hashlib.sha256(payload).hexdigest(),
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "library_versions": _versions(),
            "serialisation": "skops",
        }
    )
    full = json.loads(json.dumps(to_jsonable(full)))  # as it will be read back
    full[_INTEGRITY] = integrity_hash(full, payload)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr(_CARD, json.dumps(full, indent=2, allow_nan=False))
        archive.writestr(_MODEL, payload)
    logger.info("model written to %s (%d bytes)", path, path.stat().st_size)
    return full


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _open(path: Path) -> tuple[dict[str, Any], bytes]:
    if not path.is_file():
        raise ModelFileError(f"{path}: model file not found")
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if not {_MODEL, _CARD} <= names:
                raise ModelFileError(
                    f"{path}: not a loanrecovery model file (expected {_CARD} and {_MODEL} "
                    f"inside, found {sorted(names)})"
                )
            card = json.loads(archive.read(_CARD), parse_constant=_no_constant)
            payload = archive.read(_MODEL)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError) as exc:
        raise ModelFileError(
            f"{path}: not a readable model file, truncated or damaged ({exc}); "
            "train it again with `loanrecovery train`"
        ) from None
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError
        raise ModelFileError(f"{path}: the model card is not valid JSON ({exc})") from None
    if not isinstance(card, dict):
        raise ModelFileError(f"{path}: the model card is not a JSON object; refusing to load it")
    return card, payload


def read_card(path: str | Path) -> dict[str, Any]:
    """The model card of a model file (without loading the model)."""
    return _open(Path(path))[0]


def _is_trusted(type_name: str) -> bool:
    return type_name.startswith(TRUSTED_PREFIXES)


def load_model(path: str | Path) -> tuple[Any, dict[str, Any]]:
    """Load a model file written by :func:`save_model`.

    Raises
    ------
    ModelFileError
        Missing, truncated or damaged file; the model does not match the hash in its card
        (tampered); or it would create types outside the allow-list (named in the message).
    """
    path = Path(path)
    card, payload = _open(path)
    if card.get("format") != FORMAT:
        raise ModelFileError(format_message(str(path), card.get("format"), FORMAT, "model"))
    digest = hashlib.sha256(payload).hexdigest()
    if digest != card.get("model_sha256"):
        raise ModelFileError(
            f"{path}: the model does not match the SHA-256 in its card "
            f"({digest[:12]}... found, {str(card.get('model_sha256'))[:12]}... expected): "
            "the file was modified after training; refusing to load it"
        )
    if card.get(_INTEGRITY) != integrity_hash(card, payload):
        raise ModelFileError(
            f"{path}: the model card does not match its integrity hash: the card (features, "
            "target, metrics) was modified after training; refusing to load it"
        )
    try:
        found = skops_io().get_untrusted_types(data=payload)
    except Exception as exc:  # skops raises many kinds on a damaged payload
        raise ModelFileError(f"{path}: the model payload cannot be read ({exc})") from None
    untrusted = sorted(t for t in found if not _is_trusted(t))
    if untrusted:
        raise ModelFileError(
            f"{path}: untrusted types found in the model file: {untrusted}; refusing to load it"
        )
    try:
        model = skops_io().loads(payload, trusted=found)
    except Exception as exc:  # a payload that passed the checks but fails to build
        raise ModelFileError(f"{path}: the model cannot be rebuilt ({exc})") from None
    if not isinstance(model, LoanScoringModel):
        raise ModelFileError(
            f"{path}: the payload is a {type(model).__module__}.{type(model).__qualname__}, not "
            "a loanrecovery scoring model; refusing to use it (train one with `loanrecovery "
            "train`)"
        )
    return model, card
