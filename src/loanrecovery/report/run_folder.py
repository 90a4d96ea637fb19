"""An output folder that holds one run's files, and the run record (``run.json``) that says so.

Every command that writes an output folder opens it with :class:`RunFolder`:

* a folder holding an earlier run's ``run.json`` is cleaned first: the files that run wrote
  (and only those) are removed, and their names returned so that the command can say which;
* a folder holding files that no run record lists is refused (nothing is overwritten or
  mixed): choose another ``--out`` or empty it;
* at the end (or when the command stops on an error) ``run.json`` records the command, the
  time, the inputs with their SHA-256, the configuration, the package version and the files
  written.

Each command's default folder is ``out/<command>`` (:func:`default_out`).

Typical use::

    with RunFolder(out, "apply", inputs={"data": data}) as folder:
        folder.add("scored", write_scores(...))
        folder.config = config.to_dict()
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from loanrecovery import __version__
from loanrecovery.exceptions import OptionError
from loanrecovery.jsonable import to_jsonable

__all__ = ["RUN_FILE", "RunFolder", "default_out", "file_sha256", "read_run_record"]

logger = logging.getLogger(__name__)

#: The run record's file name inside an output folder.
RUN_FILE = "run.json"
_CHUNK = 1 << 20
_SHOWN = 5


def default_out(command: str) -> Path:
    """The default output folder of ``command``: ``out/<command>``."""
    return Path("out") / command


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_run_record(folder: Path) -> dict[str, Any] | None:
    """The ``run.json`` of ``folder``, or None when there is none (or it is not readable)."""
    path = folder / RUN_FILE
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def _describe_input(path: Path | str | None) -> dict[str, Any] | None:
    if path is None:
        return None
    path = Path(path)
    if path.is_file():
        return {"path": str(path), "sha256": file_sha256(path), "bytes": path.stat().st_size}
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.name != RUN_FILE)
        return {
            "path": str(path),
            "files": {p.name: file_sha256(p) for p in files},
        }
    return {"path": str(path), "sha256": None}


class RunFolder:
    """One command's output folder (see the module docstring).

    Parameters
    ----------
    out : Path
        The folder (created when missing).
    command : str
        The command writing it (``run``, ``apply``, ...).
    inputs : mapping of str to path, optional
        The inputs, recorded with their SHA-256 (None values are left out; a name given
        without a path, e.g. the built-in book, is recorded by its description).
    option : str, default="--out"
        The option naming the folder, for messages.

    Attributes
    ----------
    removed : list of Path
        Files of the earlier run removed when the folder was opened.
    files : dict of str to Path
        Files written by this run (:meth:`add`).
    config : dict or None
        The configuration to record.
    details : dict
        Anything else to record (counts, the bundle id, ...).

    Raises
    ------
    OptionError
        ``out`` is a file, or holds files no run record lists.
    """

    def __init__(
        self,
        out: Path,
        command: str,
        *,
        inputs: Mapping[str, Path | str | None] | None = None,
        option: str = "--out",
    ) -> None:
        self.out = Path(out)
        self.command = command
        self.option = option
        self.inputs = {k: v for k, v in (inputs or {}).items() if v is not None}
        self.files: dict[str, Path] = {}
        self.config: dict[str, Any] | None = None
        self.details: dict[str, Any] = {}
        self.started = datetime.now(UTC)
        self.removed = self._clean()
        self.out.mkdir(parents=True, exist_ok=True)

    def _clean(self) -> list[Path]:
        if self.out.exists() and not self.out.is_dir():
            raise OptionError(self.option, f"{self.out} exists and is not a directory")
        if not self.out.exists():
            return []
        record = read_run_record(self.out) or {}
        known = {str(name) for name in dict(record.get("files", {})).values()}
        present = sorted(p for p in self.out.iterdir() if p.is_file() and p.name != RUN_FILE)
        foreign = [p for p in present if p.name not in known]
        if foreign:
            shown = ", ".join(p.name for p in foreign[:_SHOWN])
            more = f" and {len(foreign) - _SHOWN} more" if len(foreign) > _SHOWN else ""
            raise OptionError(
                self.option,
                f"{self.out} holds files that no earlier run recorded ({shown}{more}); "
                "refusing to mix them with this run's files: choose another folder or empty it",
            )
        for path in present:
            path.unlink()
        if present:
            logger.info("removed %d files of the earlier run in %s", len(present), self.out)
        return present

    def add(self, name: str, path: Path) -> Path:
        """Record a file this run wrote (it must lie directly in the folder to be cleaned
        next time; a file elsewhere is recorded by its path)."""
        self.files[name] = Path(path)
        return Path(path)

    def add_all(self, paths: Mapping[str, Path]) -> dict[str, Path]:
        """Record several files (:meth:`add`)."""
        for name, path in paths.items():
            self.add(name, path)
        return dict(paths)

    def record(self, status: str = "done") -> Path:
        """Write ``run.json``: command, time, inputs with hashes, configuration, version,
        files written and ``status``."""
        files = {}
        for name, path in self.files.items():
            inside = path.parent.resolve() == self.out.resolve()
            files[name] = path.name if inside else str(path)
        record = {
            "command": self.command,
            "status": status,
            "started": self.started.isoformat(timespec="seconds"),
            "finished": datetime.now(UTC).isoformat(timespec="seconds"),
            "package_version": __version__,
            "inputs": {name: _describe_input(path) for name, path in self.inputs.items()},
            "configuration": self.config,
            "files": files,
            "removed_from_earlier_run": [p.name for p in self.removed],
            **self.details,
        }
        path = self.out / RUN_FILE
        path.write_text(
            json.dumps(to_jsonable(record), indent=2, allow_nan=False) + "\n", encoding="utf-8"
        )
        return path

    def __enter__(self) -> RunFolder:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.record()
        else:
            self.record(status=f"stopped: {exc_type.__name__}")
