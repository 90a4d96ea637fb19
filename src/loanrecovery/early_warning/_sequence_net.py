"""The PyTorch network and training loop of the sequence model.

Imported only by :mod:`loanrecovery.early_warning.sequence` once it has checked that the
``deep`` extra (PyTorch) is installed; nothing else in the product imports this module.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from loanrecovery.early_warning._sequence_data import N_EMPLOYMENT_TYPES, N_LOAN_TYPES

__all__ = ["GRUNet", "TrainSettings", "deterministic", "train", "predict_logits"]

logger = logging.getLogger(__name__)

_EMBED = 3


class GRUNet(nn.Module):
    """Static embedding/MLP -> initial state; one-directional GRU; one logit per horizon.

    Parameters
    ----------
    n_channels, n_static : int
        Input widths.
    hidden : int
        GRU state and MLP width.
    n_heads : int
        Number of horizons.
    """

    def __init__(self, n_channels: int, n_static: int, hidden: int, n_heads: int) -> None:
        super().__init__()
        self.emb_type = nn.Embedding(N_LOAN_TYPES, _EMBED)
        self.emb_employment = nn.Embedding(N_EMPLOYMENT_TYPES, _EMBED)
        self.static = nn.Sequential(nn.Linear(n_static + 2 * _EMBED, hidden), nn.ReLU())
        self.h0 = nn.Linear(hidden, hidden)
        self.gru = nn.GRU(n_channels, hidden, batch_first=True)
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
        return out, s

    def forward(
        self, seq: torch.Tensor, stat: torch.Tensor, type_code: torch.Tensor, emp: torch.Tensor
    ) -> torch.Tensor:
        """Logits of shape (batch, steps, heads); step ``t`` sees steps ``<= t`` only."""
        out, s = self.encode(seq, stat, type_code, emp)
        z = torch.cat([out, s.unsqueeze(1).expand(-1, seq.shape[1], -1)], dim=2)
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
        """Logits (batch, heads) of step ``last[i]`` of each sequence only (same values as
        :meth:`forward` there, without running the head on every step)."""
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
    """Seeded, deterministic CPU torch with ``n_threads`` threads; restores the settings."""
    threads = torch.get_num_threads()
    was_det = torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(n_threads)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(seed)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(was_det)


def _tensors(arrays: dict[str, np.ndarray], idx: np.ndarray) -> list[torch.Tensor]:
    return [
        torch.from_numpy(np.ascontiguousarray(arrays[k][idx]))
        for k in ("seq", "static", "type_code", "employment_code")
    ]


def _masked_loss(
    logits: torch.Tensor, y: torch.Tensor, mask: torch.Tensor, pos_weight: torch.Tensor
) -> torch.Tensor:
    loss = nn.functional.binary_cross_entropy_with_logits(logits, y, reduction="none")
    return (loss * mask).sum() / mask.sum().clamp(min=1.0)


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
    one = torch.ones(1)
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
            _masked_loss(logits, yt[t], fm[t], one).backward()
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
        loss = nn.functional.binary_cross_entropy_with_logits(logits, yt[t], reduction="none")
        total += float((loss * vm[t]).sum())
        count += float(vm[t].sum())
    return total / max(count, 1.0)


def _tensors_upto(arrays: dict[str, np.ndarray], idx: np.ndarray, steps: int) -> list[torch.Tensor]:
    seq = np.ascontiguousarray(arrays["seq"][idx, :steps])
    rest = [
        np.ascontiguousarray(arrays[k][idx]) for k in ("static", "type_code", "employment_code")
    ]
    return [torch.from_numpy(a) for a in (seq, *rest)]


def predict_logits(
    weights: dict[str, np.ndarray],
    arrays: dict[str, np.ndarray],
    hidden: int,
    n_heads: int,
    lengths: np.ndarray,
    *,
    last_only: bool = False,
    batch_size: int = 8192,
) -> np.ndarray:
    """Logits of the sequences, in large batches of loans of similar length.

    Loans are taken in order of length so that a batch runs the GRU over its longest
    loan's steps only (padding comes after a loan's last month and the GRU is causal, so
    trimming it changes nothing at the real steps). No gradient is kept
    (``torch.inference_mode``).

    Parameters
    ----------
    weights : dict of str to ndarray
        State dict of a :class:`GRUNet` as numpy arrays.
    arrays : dict
        ``seq`` (scaled), ``static`` (scaled), ``type_code``, ``employment_code``.
    hidden, n_heads : int
        Architecture of the network.
    lengths : ndarray of int, shape (n_loans,)
        Number of steps of each loan (>= 1).
    last_only : bool, default=False
        Give only each loan's last step.
    batch_size : int, default=8192
        Loans per forward pass.

    Returns
    -------
    ndarray
        Shape (n_loans, n_steps, n_heads), zero after a loan's last step; with
        ``last_only`` shape (n_loans, n_heads).
    """
    net = GRUNet(arrays["seq"].shape[2], arrays["static"].shape[1], hidden, n_heads)
    net.load_state_dict({k: torch.from_numpy(np.asarray(v)) for k, v in weights.items()})
    net.eval()
    n_loans, n_steps = arrays["seq"].shape[:2]
    shape = (n_loans, n_heads) if last_only else (n_loans, n_steps, n_heads)
    out = np.zeros(shape, dtype=np.float32)
    order = np.argsort(lengths, kind="stable")
    with torch.inference_mode():
        for lo in range(0, n_loans, batch_size):
            idx = order[lo : lo + batch_size]
            steps = int(lengths[idx].max())
            seq, stat, type_code, emp = _tensors_upto(arrays, idx, steps)
            if last_only:
                last = torch.from_numpy(lengths[idx].astype(np.int64) - 1)
                out[idx] = net.forward_last(seq, stat, type_code, emp, last).numpy()
            else:
                out[idx, :steps] = net(seq, stat, type_code, emp).numpy()
    return out
