"""The published DeepCRE CNN (Peleke et al. 2024), the baseline."""

from __future__ import annotations

import torch
from torch import nn

from .cnn import SameConv1d, check_pools, flat_size
from .net import check_input

_WIDTHS = (64, 128, 64)
_POOL = 8
_DENSE = (128, 64)


class DeepCRE(nn.Module):
    """Conv(64,8)x2 -> MaxPool 8 -> Dropout, Conv(128,8)x2 -> ..., Conv(64,8)x2 -> ..., Flatten ->
    Dense 128 -> Dropout -> Dense 64 -> Dense n_outputs; ReLU activations, 'same' padding.

    Input (N, 4, seq_len) one-hot; output logits (N, n_outputs) (the sigmoid is in the loss).
    """

    def __init__(self, seq_len: int, n_outputs: int, kernel_size: int = 8, dropout: float = 0.25) -> None:
        super().__init__()
        check_pools(seq_len, [_POOL] * len(_WIDTHS))
        self.seq_len = seq_len
        layers: list[nn.Module] = []
        width = 4
        for out in _WIDTHS:
            layers += [
                SameConv1d(width, out, kernel_size), nn.ReLU(),
                SameConv1d(out, out, kernel_size), nn.ReLU(),
                nn.MaxPool1d(_POOL), nn.Dropout(dropout),
            ]  # fmt: skip
            width = out
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Linear(flat_size(self.features, 4, seq_len), _DENSE[0]), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(_DENSE[0], _DENSE[1]), nn.ReLU(),
            nn.Linear(_DENSE[1], n_outputs),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 4, seq_len) -> (N, n_outputs)."""
        check_input(x, self.seq_len)
        return self.head(self.features(x))

