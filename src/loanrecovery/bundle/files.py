"""Bundle files: skops (never pickle), a manifest, one integrity hash over both.

A bundle file is a zip archive holding ``manifest.json`` (format, versions, data hash,
as-of, metrics, the configuration's text) and ``bundle.skops`` (the fitted stages persisted
with skops). The manifest's ``bundle_id`` is the SHA-256 of the payload and of the manifest
itself, so neither can be changed without the load refusing the file. Loading lists the
types skops would create and refuses any type outside :data:`TRUSTED_PREFIXES`.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
import zipfile
from pathlib import Path
from typing import Any

from loanrecovery.bundle.core import Bundle
from loanrecovery.bundle.fit import FORMAT
from loanrecovery.config import Config
from loanrecovery.early_warning.sequence import DeepExtraMissingError, torch_available
from loanrecovery.early_warning.watchlist_model import WatchlistModel
from loanrecovery.exceptions import LoanRecoveryError, ModelFileError, PolicyError
from loanrecovery.modeling.model_file import format_message, skops_io
from loanrecovery.recovery.runner import EffectsFit
from loanrecovery.risk_model import BookRiskModel
from loanrecovery.versions import library_versions

__all__ = ["save_bundle", "load_bundle", "bundle_bytes", "read_manifest", "TRUSTED_PREFIXES"]

logger = logging.getLogger(__name__)

_PAYLOAD = "bundle.skops"
_MANIFEST = "manifest.json"
#: Types a bundle file may create: our fitted stages and library data structures.
TRUSTED_PREFIXES = (
    "loanrecovery.risk_model.BookRiskModel",
    "loanrecovery.features.LoanFeatures",
    "loanrecovery.segmentation.RiskSegmenter",
    "loanrecovery.modeling.",
    "loanrecovery.early_warning.watchlist_model.WatchlistModel",
    "loanrecovery.early_warning.sequence.SequenceClassifier",
    "loanrecovery.early_warning.horizon.HorizonClassifiers",
    "loanrecovery.early_warning.survival.SurvivalView",
    "loanrecovery.recovery.runner.EffectsFit",
    "loanrecovery.recovery.effects.ActionEffectEstimator",
    "sklearn.",
    "numpy.",
    "scipy.sparse.",
    "lightgbm.basic.Booster",
    "lightgbm.sklearn.LGBMClassifier",
    "lightgbm.sklearn.LGBMRegressor",
    "collections.OrderedDict",
    "builtins.slice",
)


def _digest(payload: bytes, manifest: dict[str, Any]) -> str:
    body = {k: v for k, v in manifest.items() if k != "bundle_id"}
    digest = hashlib.sha256(payload)
    digest.update(json.dumps(body, sort_keys=True, allow_nan=False).encode())
    return digest.hexdigest()


_EPOCH = (1980, 1, 1, 0, 0, 0)


def _zip(entries: list[tuple[str, bytes]], compression: int) -> bytes:
    """A zip archive of ``entries`` with fixed timestamps: the same content, the same bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in entries:
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            info.compress_type = compression
            archive.writestr(info, content)
    return buffer.getvalue()


def _stable(payload: bytes) -> bytes:
    """skops' archive made reproducible: arrays are stored under names taken from object ids,
    objects carry their ids (``__id__``, for shared references) and entries are stamped with
    the time of writing; number names and ids in order of first appearance in the schema and
    fix the timestamps, so the same fitted state always gives the same bytes."""
    with zipfile.ZipFile(io.BytesIO(payload)) as archive:
        files = {info.filename: archive.read(info) for info in archive.infolist()}
    schema = files.pop("schema.json").decode("utf-8")
    names: dict[str, str] = {}
    for match in re.finditer(r'"([^"/]+\.npy)"', schema):
        if match.group(1) in files and match.group(1) not in names:
            names[match.group(1)] = f"a{len(names)}.npy"
    schema = re.sub(r'"([^"/]+\.npy)"', lambda m: f'"{names.get(m.group(1), m.group(1))}"', schema)
    ids: dict[str, str] = {}
    schema = re.sub(
        r'"__id__": (\d+)',
        lambda m: f'"__id__": {ids.setdefault(m.group(1), str(len(ids)))}',
        schema,
    )
    entries = [("schema.json", schema.encode("utf-8"))]
    entries += [(names.get(name, name), content) for name, content in files.items()]
    return _zip(sorted(entries, key=lambda e: e[0] != "schema.json"), zipfile.ZIP_STORED)


def bundle_bytes(bundle: Bundle) -> bytes:
    """The bundle as the bytes of a bundle file (sets ``bundle.manifest['bundle_id']``)."""
    state = {
        "risk": bundle.risk,
        "watchlist": bundle.watchlist,
        "effects": None if bundle.effects is None else bundle.effects.for_prediction(),
    }
    payload = _stable(skops_io().dumps(state))
    manifest = {k: v for k, v in bundle.manifest.items() if k != "bundle_id"}
    manifest["config"] = bundle.config.to_dict()
    manifest["payload_sha256"] = hashlib.sha256(payload).hexdigest()
    manifest["bundle_id"] = _digest(payload, manifest)
    bundle.manifest = manifest
    text = json.dumps(manifest, indent=2, allow_nan=False).encode()
    return _zip([(_MANIFEST, text), (_PAYLOAD, payload)], zipfile.ZIP_DEFLATED)


def save_bundle(bundle: Bundle, path: str | Path) -> Path:
    """Write ``bundle`` to ``path`` (a new file; its folder is created)."""
    path = Path(path)
    if path.is_dir():
        raise ModelFileError(f"{path}: is a folder; give a file name for the bundle")
    data = bundle_bytes(bundle)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    tmp.write_bytes(data)
    tmp.replace(path)
    logger.info("bundle written to %s (%d bytes)", path, len(data))
    return path


def _open(data: bytes, name: str) -> tuple[dict[str, Any], bytes]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if not {_MANIFEST, _PAYLOAD} <= names:
                raise ModelFileError(
                    f"{name}: not a loanrecovery bundle (expected {_MANIFEST} and {_PAYLOAD} "
                    f"inside, found {sorted(names)[:10]})"
                )
            manifest = json.loads(archive.read(_MANIFEST))
            payload = archive.read(_PAYLOAD)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError) as exc:
        if isinstance(exc, ModelFileError):
            raise
        raise ModelFileError(
            f"{name}: not a readable bundle, truncated or damaged ({exc}); "
            "fit it again with `loanrecovery fit`"
        ) from None
    if not isinstance(manifest, dict):
        raise ModelFileError(f"{name}: the manifest is not a JSON object")
    return manifest, payload


def read_manifest(source: str | Path | bytes) -> dict[str, Any]:
    """The manifest of a bundle file, without loading the fitted stages."""
    data, name = _read(source)
    return _open(data, name)[0]


def _read(source: str | Path | bytes) -> tuple[bytes, str]:
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source), "bundle (bytes)"
    path = Path(source)
    if not path.is_file():
        raise ModelFileError(f"{path}: bundle file not found")
    return path.read_bytes(), str(path)


def _check_versions(manifest: dict[str, Any], name: str) -> None:
    stored = manifest.get("versions", {})
    current = library_versions()
    if stored.get("loanrecovery") != current["loanrecovery"]:
        raise ModelFileError(
            f"{name}: fitted with loanrecovery {stored.get('loanrecovery')}, this is "
            f"{current['loanrecovery']}; fit the bundle again with this version"
        )
    changed = {k: (v, current.get(k)) for k, v in stored.items() if current.get(k) != v}
    if changed:
        logger.warning("%s: library versions differ from fitting time: %s", name, changed)


def _state(payload: bytes, name: str) -> dict[str, Any]:
    try:
        found = skops_io().get_untrusted_types(data=payload)
    except Exception as exc:  # skops raises many kinds on a damaged payload
        raise ModelFileError(f"{name}: the bundle payload cannot be read ({exc})") from None
    untrusted = sorted(t for t in found if not t.startswith(TRUSTED_PREFIXES))
    if untrusted:
        raise ModelFileError(
            f"{name}: untrusted types found in the bundle: {untrusted}; refusing to load it"
        )
    try:
        state = skops_io().loads(payload, trusted=found)
    except Exception as exc:  # a payload that passed the checks but fails to build
        raise ModelFileError(f"{name}: the bundle cannot be rebuilt ({exc})") from None
    expected = {"risk": BookRiskModel, "watchlist": WatchlistModel, "effects": EffectsFit}
    if not isinstance(state, dict) or set(state) != set(expected):
        raise ModelFileError(f"{name}: the payload is not a loanrecovery bundle")
    for key, kind in expected.items():
        if not isinstance(state[key], kind) and not (key != "risk" and state[key] is None):
            raise ModelFileError(
                f"{name}: the payload's {key!r} is a {type(state[key]).__name__}, "
                f"expected {kind.__name__}"
            )
    return state


def load_bundle(source: str | Path | bytes) -> Bundle:
    """Load a bundle from a file path or from its bytes.

    Raises
    ------
    ModelFileError
        Missing, truncated or damaged file; the manifest or payload does not match the
        bundle's hash (tampered); unknown format or package version; untrusted types; a
        payload that is not a bundle.
    DeepExtraMissingError
        The bundle's early-warning model is the sequence model or the blend and PyTorch
        (the ``deep`` extra) is not installed; the message says how to install it.
    """
    data, name = _read(source)
    manifest, payload = _open(data, name)
    if manifest.get("format") != FORMAT:
        raise ModelFileError(format_message(name, manifest.get("format"), FORMAT, "bundle"))
    if _digest(payload, manifest) != manifest.get("bundle_id"):
        raise ModelFileError(
            f"{name}: the bundle does not match its bundle_id (SHA-256 of manifest and "
            "payload): it was modified after fitting; refusing to load it"
        )
    _check_versions(manifest, name)
    state = _state(payload, name)
    watchlist = state["watchlist"]
    if watchlist is not None and watchlist.kind != "gbm" and not torch_available():
        raise DeepExtraMissingError(
            f"{name}: the bundle's early-warning model is the {watchlist.kind} model, which "
            "needs PyTorch, not installed here"
        )
    try:
        config = Config.from_dict(manifest["config"])
    except (KeyError, TypeError, PolicyError, LoanRecoveryError) as exc:
        raise ModelFileError(f"{name}: the stored configuration is invalid ({exc})") from None
    return Bundle(
        risk=state["risk"],
        config=config,
        manifest=manifest,
        watchlist=state["watchlist"],
        effects=state["effects"],
    )
