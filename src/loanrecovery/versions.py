"""Versions of the package and the libraries its fitted models depend on."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

__all__ = ["library_versions", "LIBRARIES"]

#: Libraries whose versions are recorded with every model file and bundle.
LIBRARIES = (
    "loanrecovery",
    "numpy",
    "pandas",
    "scikit-learn",
    "lightgbm",
    "optbinning",
    "lifelines",
    "skops",
)


def library_versions() -> dict[str, str]:
    """Installed version of each of :data:`LIBRARIES` (``"not installed"`` if absent)."""
    out = {}
    for name in LIBRARIES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out
