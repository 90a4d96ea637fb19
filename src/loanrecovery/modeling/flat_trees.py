"""Many LightGBM boosters evaluated on one row in one native call, for one-account latency.

Applying a bundle to one delinquent account predicts its recovery under every action with
five cross-fitted 600-tree boosters and its cost with one booster per action and fold: about
ninety ``Booster.predict`` calls whose Python overhead alone exceeds a 10 ms budget.
:class:`FlatForest` flattens the trees of several boosters into arrays once (when a bundle is
prepared) and sums each booster's trees for one row in a single C call. With
``action_feature`` it also gives one booster's output for every value of one categorical
feature (the S-learner's action) in one walk per tree: the walk splits the set of values only
at the nodes that test that feature.

The C source is generic (one small function, no model in it) and is compiled once per
process with ``cc``/``gcc``; the trees live in numpy arrays. The decisions follow
LightGBM's ``Tree::NumericalDecision`` and ``Tree::CategoricalDecision`` and the leaves are
added in tree order in double precision, as LightGBM does, so the sums equal
``Booster.predict`` bit for bit (checked when the forest is built: any difference means the
forest is not used). Without a compiler (or with ``LOANRECOVERY_NO_COMPILE`` set) nothing is
compiled, :attr:`FlatForest.native` is False and callers use LightGBM; this is logged once
per process.

Nothing here changes after construction and the C calls only read the arrays and write a
buffer each call owns, so one forest serves many threads at once (ctypes releases the GIL).
"""

from __future__ import annotations

import ctypes
import logging
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["FlatForest", "native_available", "model_trees"]

logger = logging.getLogger(__name__)

_SOURCE = r"""
#include <math.h>
#define ZT 1e-35
typedef struct {
  const int* feat; const double* thr; const unsigned char* dt; const int* left;
  const int* right; const int* cbeg; const int* clen; const unsigned int* cbits;
  const double* leaf; const int* roots;
} forest;

static inline int go_left(const forest* f, int node, double v) {
  unsigned char d = f->dt[node];
  if (d & 1) {  /* categorical: LightGBM's CategoricalDecision */
    if (isnan(v)) return 0;
    int iv = (int)v;
    if (iv < 0) return 0;
    int i1 = iv / 32;
    if (i1 >= f->clen[node]) return 0;
    return (f->cbits[f->cbeg[node] + i1] >> (iv % 32)) & 1;
  }
  int missing = (d >> 2) & 3;  /* NumericalDecision */
  if (isnan(v) && missing != 2) v = 0.0;
  if ((missing == 1 && v >= -ZT && v <= ZT) || (missing == 2 && isnan(v))) return (d & 2) != 0;
  return v <= f->thr[node];
}

/* out[m] = sum of the trees [starts[m], starts[m + 1]) for the row x */
void lr_sums(const double* x, long n_models, const long* starts, const int* feat,
             const double* thr, const unsigned char* dt, const int* left, const int* right,
             const int* cbeg, const int* clen, const unsigned int* cbits, const double* leaf,
             const int* roots, double* out) {
  forest f = {feat, thr, dt, left, right, cbeg, clen, cbits, leaf, roots};
  for (long m = 0; m < n_models; ++m) {
    double s = 0.0;
    for (long t = starts[m]; t < starts[m + 1]; ++t) {
      int node = roots[t];
      while (node >= 0) node = go_left(&f, node, x[feat[node]]) ? left[node] : right[node];
      s += leaf[~node];
    }
    out[m] = s;
  }
}

/* out[r * n_models + m] = lr_sums of the row r of the n_rows x n_features matrix x */
void lr_sums_rows(const double* x, long n_rows, long n_features, long n_models,
                  const long* starts, const int* feat, const double* thr,
                  const unsigned char* dt, const int* left, const int* right, const int* cbeg,
                  const int* clen, const unsigned int* cbits, const double* leaf,
                  const int* roots, double* out) {
  for (long r = 0; r < n_rows; ++r)
    lr_sums(x + r * n_features, n_models, starts, feat, thr, dt, left, right, cbeg, clen,
            cbits, leaf, roots, out + r * n_models);
}

/* out[t] = the global leaf index the row x reaches in tree t, for every tree */
void lr_leaves(const double* x, long n_trees, const int* feat, const double* thr,
               const unsigned char* dt, const int* left, const int* right, const int* cbeg,
               const int* clen, const unsigned int* cbits, const double* leaf, const int* roots,
               long* out) {
  forest f = {feat, thr, dt, left, right, cbeg, clen, cbits, leaf, roots};
  for (long t = 0; t < n_trees; ++t) {
    int node = roots[t];
    while (node >= 0) node = go_left(&f, node, x[feat[node]]) ? left[node] : right[node];
    out[t] = ~node;
  }
}

static void walk(const forest* f, const double* x, int node, unsigned mask, int af,
                 int n_values, double* acc) {
  while (node >= 0) {
    if (f->feat[node] == af) {
      unsigned lm = 0;
      for (int a = 0; a < n_values; ++a)
        if (((mask >> a) & 1) && go_left(f, node, (double)a)) lm |= 1u << a;
      unsigned rm = mask & ~lm;
      if (lm && rm) {
        walk(f, x, f->left[node], lm, af, n_values, acc);
        node = f->right[node]; mask = rm;
      } else {
        node = lm ? f->left[node] : f->right[node];
      }
    } else {
      node = go_left(f, node, x[f->feat[node]]) ? f->left[node] : f->right[node];
    }
  }
  double v = f->leaf[~node];
  for (int a = 0; a < n_values; ++a) if ((mask >> a) & 1) acc[a] += v;
}

/* out[m * n_values + a] = sum of the trees of model m for x with x[af] = a */
void lr_sums_by_value(const double* x, long n_models, const long* starts, int af, int n_values,
                      const int* feat, const double* thr, const unsigned char* dt,
                      const int* left, const int* right, const int* cbeg, const int* clen,
                      const unsigned int* cbits, const double* leaf, const int* roots,
                      double* out) {
  forest f = {feat, thr, dt, left, right, cbeg, clen, cbits, leaf, roots};
  unsigned all = n_values >= 32 ? 0xffffffffu : ((1u << n_values) - 1u);
  for (long m = 0; m < n_models; ++m) {
    double* acc = out + m * n_values;
    for (int a = 0; a < n_values; ++a) acc[a] = 0.0;
    for (long t = starts[m]; t < starts[m + 1]; ++t)
      walk(&f, x, f.roots[t], all, af, n_values, acc);
  }
}
"""

_P = ctypes.c_void_p
#: The node and leaf arrays, in the order the C functions take them (then the roots).
_FIELDS = ("feat", "thr", "dt", "left", "right", "cbeg", "clen", "cbits", "leaf")
_TYPES: tuple[type, ...] = (np.int32, np.float64, np.uint8, np.int32, np.int32, np.int32)
_TYPES += (np.int32, np.uint32, np.float64)
_LOCK = threading.Lock()
_STATE: dict[str, Any] = {}


def _compile() -> Any:
    """The compiled library, built once per process; None without a compiler."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None or os.environ.get("LOANRECOVERY_NO_COMPILE"):
        logger.warning(
            "no C compiler (or LOANRECOVERY_NO_COMPILE): one-account effects are predicted "
            "with LightGBM, about ten times slower"
        )
        return None
    workdir = tempfile.mkdtemp(prefix="loanrecovery-flat-")
    try:
        source = os.path.join(workdir, "flat.c")
        with open(source, "w", encoding="ascii") as handle:
            handle.write(_SOURCE)
        target = os.path.join(workdir, "flat.so")
        done = subprocess.run(
            [compiler, "-O2", "-fPIC", "-shared", "-o", target, source, "-lm"],
            capture_output=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            logger.warning("C compilation failed, effects use LightGBM: %s", done.stderr[-300:])
            return None
        library = ctypes.CDLL(target)
    except (OSError, subprocess.TimeoutExpired) as exc:
        logger.warning("C compilation failed, effects use LightGBM: %s", exc)
        return None
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    library.lr_sums.restype = None
    library.lr_sums.argtypes = [_P, ctypes.c_long, *[_P] * 12]
    library.lr_sums_rows.restype = None
    library.lr_sums_rows.argtypes = [_P, ctypes.c_long, ctypes.c_long, ctypes.c_long]
    library.lr_sums_rows.argtypes += [_P] * 12
    library.lr_leaves.restype = None
    library.lr_leaves.argtypes = [_P, ctypes.c_long, *[_P] * 11]
    library.lr_sums_by_value.restype = None
    library.lr_sums_by_value.argtypes = [_P, ctypes.c_long, _P, ctypes.c_int, ctypes.c_int]
    library.lr_sums_by_value.argtypes += [_P] * 11
    return library


def _library() -> Any:
    with _LOCK:
        if "library" not in _STATE:
            _STATE["library"] = _compile()
        return _STATE["library"]


def native_available() -> bool:
    """Whether the flat forests run natively in this process (compiles on first call)."""
    return _library() is not None


def model_trees(model_text: str) -> tuple[dict[str, str], list[dict[str, list[str]]]]:
    """A LightGBM text model's header (``key -> value``; a flag line such as
    ``average_output`` maps to ``""``) and its trees (``key -> values``), as written by
    ``Booster.model_to_string``; callers check what they support."""
    head, _, body = model_text.partition("\nTree=")
    header = {k: v for k, _, v in (line.partition("=") for line in head.splitlines() if line)}
    trees = []
    for block in ("Tree=" + body).split("\nTree="):
        block = block.split("end of trees", 1)[0]
        fields = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
        if "leaf_value" in fields:
            trees.append({k: v.split() for k, v in fields.items()})
    return header, trees


def _tree_blocks(model_text: str) -> list[dict[str, list[str]]]:
    """The trees of a LightGBM text model as ``key -> values``."""
    header, trees = model_trees(model_text)
    if header.get("num_tree_per_iteration", "1") != "1" or "average_output" in header:
        raise ValueError("only single-output boosted models are flattened")
    if any(tree.get("is_linear", ["0"]) != ["0"] for tree in trees):
        raise ValueError("linear trees are not flattened")
    return trees


class FlatForest:
    """The trees of several LightGBM boosters in flat arrays, summed per booster natively.

    Parameters
    ----------
    boosters : sequence of lightgbm.Booster
        Single-output boosters (regression or binary raw scores).
    probe : ndarray of shape (n_rows, n_features), optional
        Rows on which the sums are checked against ``Booster.predict(raw_score=True)`` at
        construction; a difference means :attr:`native` is False.

    Attributes
    ----------
    native : bool
        Whether :meth:`sums` and :meth:`sums_by_value` can be used (else use LightGBM).
    """

    def __init__(self, boosters: Sequence[Any], probe: np.ndarray | None = None) -> None:
        self.n_models = len(boosters)
        self._library = _library()
        self.native = self._library is not None
        if not self.native:
            return
        parts: dict[str, list[np.ndarray]] = {k: [] for k in _FIELDS}
        n_nodes = n_leaves = n_bits = 0
        roots: list[int] = []
        starts = [0]
        for booster in boosters:
            for tree in _tree_blocks(booster.model_to_string()):
                values = np.asarray(tree["leaf_value"], dtype=np.float64)
                if int(tree["num_leaves"][0]) <= 1:
                    roots.append(~n_leaves)
                    parts["leaf"].append(values[:1])
                    n_leaves += 1
                    continue
                roots.append(n_nodes)
                kind = np.asarray(tree["decision_type"], dtype=np.int64)
                thr = np.asarray(tree["threshold"], dtype=np.float64)
                bounds = np.asarray(tree.get("cat_boundaries", ["0"]), dtype=np.int64)
                bits = np.asarray(tree.get("cat_threshold", []), dtype=np.int64)
                cat = (kind & 1).astype(bool)
                index = np.where(cat, thr, 0).astype(np.int64)
                parts["cbeg"].append(np.where(cat, n_bits + bounds[index], 0))
                parts["clen"].append(
                    np.where(cat, bounds[np.minimum(index + 1, len(bounds) - 1)] - bounds[index], 0)
                )
                parts["cbits"].append(bits)
                parts["feat"].append(np.asarray(tree["split_feature"], dtype=np.int64))
                parts["thr"].append(thr)
                parts["dt"].append(kind)
                for side in ("left", "right"):
                    child = np.asarray(tree[f"{side}_child"], dtype=np.int64)
                    parts[side].append(np.where(child >= 0, n_nodes + child, ~(n_leaves + ~child)))
                parts["leaf"].append(values)
                n_nodes += len(kind)
                n_leaves += len(values)
                n_bits += len(bits)
            starts.append(len(roots))
        types = dict(zip(_FIELDS, _TYPES, strict=True))
        arrays: dict[str, np.ndarray] = {
            k: np.concatenate([*v, np.zeros(1 if k == "cbits" else 0)]).astype(types[k])
            for k, v in parts.items()
        }
        self._arrays = (*(arrays[k] for k in _FIELDS), np.asarray(roots, dtype=np.int32))
        for array in self._arrays:
            array.setflags(write=False)
        self._starts = np.asarray(starts, dtype=np.int64)
        self._pointers = [a.ctypes.data for a in self._arrays]
        if probe is not None and len(probe):
            self._check(boosters, np.asarray(probe, dtype=np.float64))

    def _check(self, boosters: Sequence[Any], probe: np.ndarray) -> None:
        expected = np.column_stack([b.predict(probe, raw_score=True) for b in boosters])
        got = np.vstack([self.sums(row) for row in probe])
        if not np.array_equal(got, expected):
            gap = float(np.nanmax(np.abs(got - expected)))
            logger.warning("flattened trees differ from LightGBM by %g: not used", gap)
            self.native = False

    def sums(self, row: np.ndarray) -> np.ndarray:
        """Each booster's raw output for one row (float64, one value per booster); rows of a
        matrix: :meth:`sums_many`."""
        x = np.ascontiguousarray(row, dtype=np.float64)
        if x.ndim != 1:
            raise ValueError(f"expected one row, got an array of shape {x.shape}")
        out = np.empty(self.n_models, dtype=np.float64)
        self._library.lr_sums(
            x.ctypes.data,
            self.n_models,
            self._starts.ctypes.data,
            *self._pointers,
            out.ctypes.data,
        )
        return out

    def sums_many(self, rows: np.ndarray) -> np.ndarray:
        """:meth:`sums` of each row of a matrix in one call: shape ``(n_rows, n_boosters)``."""
        x = np.ascontiguousarray(rows, dtype=np.float64)
        if x.ndim != 2:
            raise ValueError(f"expected a matrix of rows, got an array of shape {x.shape}")
        out = np.empty((len(x), self.n_models), dtype=np.float64)
        self._library.lr_sums_rows(
            x.ctypes.data,
            x.shape[0],
            x.shape[1],
            self.n_models,
            self._starts.ctypes.data,
            *self._pointers,
            out.ctypes.data,
        )
        return out

    def leaves(self, row: np.ndarray) -> np.ndarray:
        """The leaf the row reaches in every tree of every booster, numbered from 0 over
        all the leaves in tree order (one leaf for a single-leaf tree), as int64."""
        x = np.ascontiguousarray(row, dtype=np.float64)
        out = np.empty(len(self._starts) and int(self._starts[-1]), dtype=np.int64)
        self._library.lr_leaves(x.ctypes.data, len(out), *self._pointers, out.ctypes.data)
        return out

    def sums_by_value(self, row: np.ndarray, feature: int, n_values: int) -> np.ndarray:
        """Each booster's raw output for ``row`` with ``row[feature]`` set to 0, 1, ...,
        ``n_values - 1`` in turn: shape ``(n_boosters, n_values)``."""
        if not 0 < n_values <= 32:
            raise ValueError(f"n_values must be between 1 and 32, got {n_values}")
        x = np.ascontiguousarray(row, dtype=np.float64)
        out = np.empty((self.n_models, n_values), dtype=np.float64)
        self._library.lr_sums_by_value(
            x.ctypes.data,
            self.n_models,
            self._starts.ctypes.data,
            feature,
            n_values,
            *self._pointers,
            out.ctypes.data,
        )
        return out
