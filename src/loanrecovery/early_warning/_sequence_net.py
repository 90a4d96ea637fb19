"""The PyTorch network and training loop of the sequence model.

Imported only by :mod:`loanrecovery.early_warning.sequence` once it has checked that the
``deep`` extra (PyTorch) is installed; nothing else in the product imports this module.
Importing it changes no torch setting: the number of threads, the deterministic mode and
the seed are set only inside :func:`deterministic` (training) and :func:`threads`
(scoring), under one lock, and restored on the way out.

The network gives one *hazard logit* ``h_k`` per horizon (in increasing order) and the
probabilities are chained, so that a longer horizon never has a lower probability by
construction (no clipping)::

    P_1 = sigmoid(h_1),   P_k = 1 - (1 - P_(k-1)) * (1 - sigmoid(h_k))

i.e. ``-log(1 - P_k) = S_k = softplus(h_1) + ... + softplus(h_k)``, a cumulative hazard.
Each ``P_k`` is trained on the targets of its own horizon (default within ``k`` months).
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from loanrecovery.early_warning._sequence_data import N_EMPLOYMENT_TYPES, N_LOAN_TYPES

__all__ = [
    "GRUNet",
    "TrainSettings",
    "cached_net",
    "cumulative_hazard",
    "deterministic",
    "predict_hazard_logits",
    "threads",
    "train",
]

logger = logging.getLogger(__name__)

_EMBED = 3
#: Smallest cumulative hazard (keeps ``log P`` finite: P >= about 1e-7).
_MIN_HAZARD = 1e-7
#: Guards torch's process-wide settings (threads, deterministic mode, seed) and the cache.
_SETTINGS_LOCK = threading.RLock()
#: Built networks of fitted estimators: estimator -> (its weights dict, key, network).
#: Weak keys, so that a network goes with its estimator; the estimator is never modified.
_NETS: weakref.WeakKeyDictionary[object, tuple[object, tuple[int, ...], GRUNet]] = (
    weakref.WeakKeyDictionary()
)


class GRUNet(nn.Module):
    """Static embedding/MLP -> initial state; one-directional GRU; one hazard logit per horizon.

    Parameters
    ----------
    n_channels, n_static : int
        Input widths.
    hidden : int
        GRU state and MLP width.
    n_heads : int
        Number of horizons.
    time_major : bool, default=False
        Sequences come as (steps, batch, channels) instead of (batch, steps, channels):
        the GRU's input projection then runs on contiguous memory (faster scoring; the
        same weights and the same results).
    """

    def __init__(
        self, n_channels: int, n_static: int, hidden: int, n_heads: int, time_major: bool = False
    ) -> None:
        super().__init__()
        self.time_major = time_major
        self.n_heads = n_heads
        self.emb_type = nn.Embedding(N_LOAN_TYPES, _EMBED)
        self.emb_employment = nn.Embedding(N_EMPLOYMENT_TYPES, _EMBED)
        self.static = nn.Sequential(nn.Linear(n_static + 2 * _EMBED, hidden), nn.ReLU())
        self.h0 = nn.Linear(hidden, hidden)
        self.gru = nn.GRU(n_channels, hidden, batch_first=not time_major)
        self.head = nn.Sequential(
            nn.Linear(2 * hidden, hidden), nn.ReLU(), nn.Linear(hidden, n_heads)
        )

    def encode(
        self, seq: torch.Tensor, stat: torch.Tensor, type_code: torch.Tensor, emp: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """GRU outputs (batch, steps, hidden) and the static encoding (batch, hidden)."""
        s = torch.cat([stat, self.emb_type(type_code), self.emb_employment(emp)], dim=1)
        s = self.static(s)
        h0 = torch.tanh(self.h0(s)).unsqueeze(0)
        out, _ = self.gru(seq, h0)
        return (out.transpose(0, 1) if self.time_major else out), s

    def forward(
        self, seq: torch.Tensor, stat: torch.Tensor, type_code: torch.Tensor, emp: torch.Tensor
    ) -> torch.Tensor:
        """Hazard logits of shape (batch, steps, heads); step ``t`` sees steps ``<= t`` only."""
        out, s = self.encode(seq, stat, type_code, emp)
        z = torch.cat([out, s.unsqueeze(1).expand(-1, out.shape[1], -1)], dim=2)
        logits: torch.Tensor = self.head(z)
        return logits

    def forward_last(
        self,
        seq: torch.Tensor,
        stat: torch.Tensor,
        type_code: torch.Tensor,
        emp: torch.Tensor,
        last: torch.Tensor,
    ) -> torch.Tensor:
        """Hazard logits (batch, heads) of step ``last[i]`` of each sequence only (same
        values as :meth:`forward` there, without running the head on every step)."""
        out, s = self.encode(seq, stat, type_code, emp)
        picked = out[torch.arange(out.shape[0]), last]
        logits: torch.Tensor = self.head(torch.cat([picked, s], dim=1))
        return logits


@dataclass(frozen=True)
class TrainSettings:
    """Training settings (see :class:`~loanrecovery.early_warning.sequence.SequenceClassifier`)."""

    hidden: int
    max_epochs: int
    patience: int
    batch_size: int
    learning_rate: float
    seed: int


@contextmanager
def deterministic(n_threads: int, seed: int) -> Iterator[None]:
    """Seeded, deterministic CPU torch with ``n_threads`` threads (training); restores the
    settings and the global random state afterwards."""
    with _SETTINGS_LOCK, torch.random.fork_rng(devices=[]):
        before = torch.get_num_threads()
        was_det = torch.are_deterministic_algorithms_enabled()
        torch.set_num_threads(n_threads)
        torch.use_deterministic_algorithms(True)
        torch.manual_seed(seed)
        try:
            yield
        finally:
            torch.set_num_threads(before)
            torch.use_deterministic_algorithms(was_det)


@contextmanager
def threads(n_threads: int) -> Iterator[None]:
    """``n_threads`` torch threads while scoring (set only when different; restored).

    Scoring draws no random number and every operation it runs is deterministic on the
    CPU, so neither the seed nor the deterministic mode is touched.
    """
    with _SETTINGS_LOCK:
        before = torch.get_num_threads()
        if before != n_threads:
            torch.set_num_threads(n_threads)
        try:
            yield
        finally:
            if torch.get_num_threads() != before:
                torch.set_num_threads(before)


def cached_net(
    owner: object, weights: dict[str, np.ndarray], shape: tuple[int, int, int, int]
) -> GRUNet:
    """The evaluation-mode :class:`GRUNet` of ``owner``'s ``weights``, built once.

    Parameters
    ----------
    owner : object
        The fitted estimator (weakly referenced; never modified, so that a loaded bundle's
        state stays as saved).
    weights : dict of str to ndarray
        Its state dict as numpy arrays (copied into the network).
    shape : tuple of int
        ``(n_channels, n_static, hidden, n_heads)``.

    Returns
    -------
    GRUNet
        Rebuilt only when ``owner`` was refitted (another ``weights`` object) or is new.
    """
    with _SETTINGS_LOCK:
        hit = _NETS.get(owner)
        if hit is not None and hit[0] is weights and hit[1] == shape:
            return hit[2]
        with torch.random.fork_rng(devices=[]):  # its initial weights draw random numbers
            net = GRUNet(*shape, time_major=True)
        net.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in weights.items()})
        net.eval()
        net.requires_grad_(False)
        _NETS[owner] = (weights, shape, net)
        return net


def _tensors(arrays: dict[str, np.ndarray], idx: np.ndarray) -> list[torch.Tensor]:
    return [
        torch.from_numpy(np.ascontiguousarray(arrays[k][idx]))
        for k in ("seq", "static", "type_code", "employment_code")
    ]


def cumulative_hazard(hazard_logits: torch.Tensor) -> torch.Tensor:
    """``S_k = softplus(h_1) + ... + softplus(h_k)`` over the last axis: ``P_k = 1 - exp(-S_k)``."""
    return torch.cumsum(nn.functional.softplus(hazard_logits), dim=-1).clamp(min=_MIN_HAZARD)


def _cell_losses(hazard_logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Log-loss of the chained probabilities ``P_k`` against the targets of horizon ``k``.

    ``-log P_k = -log(1 - exp(-S_k))`` and ``-log(1 - P_k) = S_k``, computed from ``S_k``
    (no probability is formed, so nothing is clipped).
    """
    s = cumulative_hazard(hazard_logits)
    return y * -torch.log(-torch.expm1(-s)) + (1.0 - y) * s


def _masked_loss(hazard_logits: torch.Tensor, y: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return (_cell_losses(hazard_logits, y) * mask).sum() / mask.sum().clamp(min=1.0)


def train(
    arrays: dict[str, np.ndarray],
    y: np.ndarray,
    fit_mask: np.ndarray,
    val_mask: np.ndarray,
    settings: TrainSettings,
) -> tuple[dict[str, np.ndarray], int, list[float]]:
    """Fit a :class:`GRUNet` with Adam; early stopping on the validation cells.

    Parameters
    ----------
    arrays : dict
        ``seq`` (scaled), ``static`` (scaled), ``type_code``, ``employment_code``.
    y : ndarray, shape (n_loans, n_steps, n_heads)
        Targets (0/1; anything where both masks are 0 is ignored).
    fit_mask, val_mask : ndarray, same shape as ``y``
        1.0 where a target is used for fitting / for validation.
    settings : TrainSettings

    Returns
    -------
    weights : dict of str to ndarray
        The best epoch's state dict as numpy arrays.
    best_epoch : int
        1-based epoch with the lowest validation loss.
    history : list of float
        Validation loss per epoch.
    """
    n_loans, _, n_heads = y.shape
    net = GRUNet(arrays["seq"].shape[2], arrays["static"].shape[1], settings.hidden, n_heads)
    opt = torch.optim.Adam(net.parameters(), lr=settings.learning_rate)
    rng = np.random.default_rng(settings.seed)
    fit_loans = np.flatnonzero(fit_mask.reshape(n_loans, -1).any(axis=1))
    val_loans = np.flatnonzero(val_mask.reshape(n_loans, -1).any(axis=1))
    yt = torch.from_numpy(y.astype(np.float32))
    fm = torch.from_numpy(fit_mask.astype(np.float32))
    vm = torch.from_numpy(val_mask.astype(np.float32))
    best = (np.inf, 0, _state(net))
    history: list[float] = []
    for epoch in range(1, settings.max_epochs + 1):
        net.train()
        order = rng.permutation(fit_loans)
        for lo in range(0, len(order), settings.batch_size):
            idx = np.sort(order[lo : lo + settings.batch_size])
            opt.zero_grad()
            logits = net(*_tensors(arrays, idx))
            t = torch.from_numpy(idx)
            _masked_loss(logits, yt[t], fm[t]).backward()
            nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
        val = _validation_loss(net, arrays, yt, vm, val_loans, settings.batch_size)
        history.append(val)
        logger.info("sequence model: epoch %d, validation log-loss %.5f", epoch, val)
        if val < best[0] - 1e-5:
            best = (val, epoch, _state(net))
        elif epoch - best[1] >= settings.patience:
            break
    return best[2], best[1], history


def _state(net: nn.Module) -> dict[str, np.ndarray]:
    return {k: v.detach().cpu().numpy().copy() for k, v in net.state_dict().items()}


@torch.no_grad()
def _validation_loss(
    net: GRUNet,
    arrays: dict[str, np.ndarray],
    yt: torch.Tensor,
    vm: torch.Tensor,
    loans: np.ndarray,
    batch_size: int,
) -> float:
    if len(loans) == 0:
        return float("nan")
    net.eval()
    total, count = 0.0, 0.0
    for lo in range(0, len(loans), batch_size):
        idx = loans[lo : lo + batch_size]
        t = torch.from_numpy(idx)
        logits = net(*_tensors(arrays, idx))
        loss = _cell_losses(logits, yt[t])
        total += float((loss * vm[t]).sum())
        count += float(vm[t].sum())
    return total / max(count, 1.0)


def predict_hazard_logits(
    net: GRUNet,
    arrays: dict[str, np.ndarray],
    lengths: np.ndarray,
    *,
    last_only: bool = False,
    batch_size: int = 2048,
) -> np.ndarray:
    """Hazard logits of the sequences, in batches of loans of similar length.

    Loans are taken in order of length so that a batch runs the GRU over its longest
    loan's steps only (padding comes after a loan's last month and the GRU is causal, so
    trimming it changes nothing at the real steps). Batches of a few thousand loans keep
    the GRU's working set in the CPU caches. No gradient is kept (``torch.inference_mode``).

    Parameters
    ----------
    net : GRUNet
        The network (evaluation mode, time-major; see :func:`cached_net`).
    arrays : dict
        ``seq`` (scaled, float32), ``static`` (scaled, float32), ``type_code``,
        ``employment_code`` (int64).
    lengths : ndarray of int, shape (n_loans,)
        Number of steps of each loan (>= 1).
    last_only : bool, default=False
        Give only each loan's last step.
    batch_size : int, default=2048
        Loans per forward pass.

    Returns
    -------
    ndarray of float32
        Shape (n_loans, n_steps, n_heads), zero after a loan's last step; with
        ``last_only`` shape (n_loans, n_heads).
    """
    n_loans, n_steps = arrays["seq"].shape[:2]
    n_heads = net.n_heads
    shape = (n_loans, n_heads) if last_only else (n_loans, n_steps, n_heads)
    out = np.zeros(shape, dtype=np.float32)
    order = np.argsort(lengths, kind="stable")
    with torch.inference_mode():
        for lo in range(0, n_loans, batch_size):
            idx = order[lo : lo + batch_size]
            steps = int(lengths[idx].max())
            batch = arrays["seq"][idx, :steps]  # a copy (fancy index), made time-major:
            seq = torch.from_numpy(np.ascontiguousarray(batch.transpose(1, 0, 2)))
            stat, type_code, emp = (
                torch.from_numpy(np.ascontiguousarray(arrays[k][idx]))
                for k in ("static", "type_code", "employment_code")
            )
            if last_only:
                last = torch.from_numpy(lengths[idx].astype(np.int64) - 1)
                out[idx] = net.forward_last(seq, stat, type_code, emp, last).numpy()
            else:
                out[idx, :steps] = net(seq, stat, type_code, emp).numpy()
    return out
