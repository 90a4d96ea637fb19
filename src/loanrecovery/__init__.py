"""loanrecovery: default risk, early warning and recovery strategies for collections teams."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("loanrecovery")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = ["__version__"]
