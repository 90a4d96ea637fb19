"""The package's layers, read from its source with ``ast`` (nothing here imports it).

* the module-level import graph of ``loanrecovery`` has no cycle;
* no function imports a ``loanrecovery`` module (the usual way to hide a cycle);
* ``report/`` never imports the pipeline, and no stage imports the command line;
* importing the package and every submodule sets no environment variable and selects no
  matplotlib backend (checked in a fresh interpreter).
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import loanrecovery

PACKAGE = "loanrecovery"
SRC = Path(loanrecovery.__file__).resolve().parent

#: Files allowed to import inside functions while they are being rewritten: an entry whose
#: file is clean fails the test below, so the list only shrinks. Empty: keep it so.
FUNCTION_IMPORT_ALLOWED: set[str] = set()

#: Entry points: importing them is running them (``python -m loanrecovery``), so they may
#: set process-wide state (``OMP_WAIT_POLICY``) before LightGBM loads.
ENTRY_POINTS = {f"{PACKAGE}.__main__"}


@dataclass
class Module:
    """One source file: its dotted name and the loanrecovery modules it imports."""

    name: str
    path: Path
    is_package: bool
    top_level: set[str] = field(default_factory=set)  # run when the module is imported
    type_only: set[str] = field(default_factory=set)  # under ``if TYPE_CHECKING:``
    third_party: set[str] = field(default_factory=set)  # top-level names, module level
    in_functions: list[tuple[int, str]] = field(default_factory=list)

    @property
    def relpath(self) -> str:
        return self.path.relative_to(SRC).as_posix()

    @property
    def all_imports(self) -> set[str]:
        return self.top_level | self.type_only | {name for _, name in self.in_functions}


def _module_name(path: Path) -> tuple[str, bool]:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _targets(node: ast.Import | ast.ImportFrom, module: Module, known: set[str]) -> set[str]:
    """The loanrecovery modules an import statement loads (with their parent packages)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        if node.level:
            package = module.name if module.is_package else module.name.rpartition(".")[0]
            base = package.split(".")
            base = base[: len(base) - (node.level - 1)]
            stem = ".".join([*base, node.module] if node.module else base)
        else:
            stem = node.module or ""
        names = [stem]
        names += [f"{stem}.{alias.name}" for alias in node.names if f"{stem}.{alias.name}" in known]
    found = set()
    for name in names:
        if name != PACKAGE and not name.startswith(PACKAGE + "."):
            continue
        parts = name.split(".")
        # Importing a.b.c runs a/__init__ and a/b/__init__ first.
        found.update(".".join(parts[:i]) for i in range(2, len(parts) + 1))
    # The packages the module sits in are loaded before it anyway.
    parents = module.name.split(".")
    ancestors = {".".join(parents[:i]) for i in range(1, len(parents) + 1)}
    return {name for name in found if name in known and name not in ancestors}


def _third_party(node: ast.Import | ast.ImportFrom) -> set[str]:
    if isinstance(node, ast.ImportFrom):
        names = [node.module or ""] if node.level == 0 else []
    else:
        names = [alias.name for alias in node.names]
    tops = {name.partition(".")[0] for name in names}
    return {t for t in tops if t and t != PACKAGE and t not in sys.stdlib_module_names}


def _scan(module: Module, known: set[str]) -> None:
    tree = ast.parse(module.path.read_text(encoding="utf-8"), filename=str(module.path))

    def visit(node: ast.AST, *, in_function: bool, type_only: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import | ast.ImportFrom):
                if not in_function and not type_only:
                    module.third_party.update(_third_party(child))
                for target in sorted(_targets(child, module, known)):
                    if in_function:
                        module.in_functions.append((child.lineno, target))
                    elif type_only:
                        module.type_only.add(target)
                    else:
                        module.top_level.add(target)
            elif isinstance(child, ast.If) and _is_type_checking(child.test):
                for stmt in child.body:
                    visit_one(stmt, in_function=in_function, type_only=True)
                for stmt in child.orelse:
                    visit_one(stmt, in_function=in_function, type_only=type_only)
            else:
                function = isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
                visit(child, in_function=in_function or function, type_only=type_only)

    def visit_one(stmt: ast.stmt, *, in_function: bool, type_only: bool) -> None:
        holder = ast.Module(body=[stmt], type_ignores=[])
        visit(holder, in_function=in_function, type_only=type_only)

    visit(tree, in_function=False, type_only=False)


def _modules() -> dict[str, Module]:
    modules = {}
    for path in sorted(SRC.rglob("*.py")):
        name, is_package = _module_name(path)
        modules[name] = Module(name=name, path=path, is_package=is_package)
    for module in modules.values():
        _scan(module, set(modules))
    return modules


MODULES = _modules()


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as ``[a, b, ..., a]``, or ``None``."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)) is not None:
                return cycle
        state[node] = 2
        path.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)) is not None:
            return cycle
    return None


def test_the_scan_sees_the_package():
    # A guard against a scanner that finds nothing and so passes everything below.
    assert len(MODULES) > 50
    assert "loanrecovery.cli._app" in MODULES["loanrecovery.cli"].top_level
    assert "loanrecovery.modeling.champion" in MODULES["loanrecovery.modeling"].top_level
    # `from loanrecovery.contract import validate_loans` loads the package, not a module.
    assert "loanrecovery.contract" in MODULES["loanrecovery.pipeline"].top_level


def test_find_cycle_names_the_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _find_cycle(graph) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b"}, "b": set()}) is None


def test_module_level_imports_have_no_cycle():
    graph = {name: module.top_level for name, module in MODULES.items()}
    cycle = _find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_no_function_imports_a_loanrecovery_module():
    offenders = [
        f"{module.relpath}:{line} imports {target}"
        for module in MODULES.values()
        if module.relpath not in FUNCTION_IMPORT_ALLOWED
        for line, target in module.in_functions
    ]
    assert not offenders, "imports inside functions (move them to the top of the module):\n" + (
        "\n".join(offenders)
    )


def test_function_import_allow_list_only_shrinks():
    by_path = {module.relpath: module for module in MODULES.values()}
    stale = sorted(
        path
        for path in FUNCTION_IMPORT_ALLOWED
        if path not in by_path or not by_path[path].in_functions
    )
    assert not stale, f"no function-level import left in {stale}: remove from the allow-list"


def test_report_never_imports_the_pipeline():
    offenders = sorted(
        f"{module.relpath} imports {target}"
        for module in MODULES.values()
        if module.name.startswith(f"{PACKAGE}.report")
        for target in module.all_imports
        if target == f"{PACKAGE}.pipeline"
    )
    assert not offenders, offenders


def test_no_stage_imports_the_command_line():
    doors = (f"{PACKAGE}.cli", f"{PACKAGE}.__main__")
    offenders = sorted(
        f"{module.relpath} imports {target}"
        for module in MODULES.values()
        if not module.name.startswith(doors)
        for target in module.all_imports
        if target.startswith(doors)
    )
    assert not offenders, offenders


_IMPORT_EVERYTHING = """
import importlib, json, os, sys
names, dependencies = json.loads(sys.argv[1]), json.loads(sys.argv[2])
# What the dependencies do when imported (scikit-learn sets KMP_* variables) is theirs.
for name in dependencies:
    importlib.import_module(name)
before = dict(os.environ)
for name in names:
    importlib.import_module(name)
after = dict(os.environ)
changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
backend = None
if "matplotlib" in sys.modules:
    import matplotlib
    value = dict.__getitem__(matplotlib.rcParams, "backend")
    if value is not matplotlib.rcsetup._auto_backend_sentinel:
        backend = value
print(json.dumps({"changed": changed, "backend": backend,
                  "pyplot": "matplotlib.pyplot" in sys.modules,
                  "imported": [n for n in names if n in sys.modules]}))
"""


def test_importing_every_module_changes_no_process_state():
    names = sorted(name for name in MODULES if name not in ENTRY_POINTS)
    dependencies = sorted({top for name in names for top in MODULES[name].third_party})
    assert {"lightgbm", "matplotlib", "sklearn"} <= set(dependencies)
    env = {k: v for k, v in os.environ.items() if k not in {"MPLBACKEND", "OMP_WAIT_POLICY"}}
    done = subprocess.run(
        [sys.executable, "-c", _IMPORT_EVERYTHING, json.dumps(names), json.dumps(dependencies)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=True,
    )
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["imported"] == names
    assert report["changed"] == [], f"environment changed by importing: {report['changed']}"
    assert report["backend"] is None, f"matplotlib backend selected: {report['backend']}"
    assert not report["pyplot"], "matplotlib.pyplot imported (global figure state)"
