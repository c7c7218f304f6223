"""The published DeepCRE CNN (Peleke et al. 2024, Keras), the baseline."""

from __future__ import annotations

import torch
from torch import nn

from .cnn import SameConv1d, flat_size
from .net import check_input

_WIDTHS = (64, 128, 64)
_POOL = 8
_DENSE = (128, 64)


class SameMaxPool1d(nn.Sequential):
    """Keras MaxPooling1D(pool, padding='same') for inputs of `length`: (N, C, length) ->
    (N, C, ceil(length / pool)).

    Keras pads pool * ceil(length / pool) - length positions, the smaller half on the left, and
    ignores them. Here they are zero (ConstantPad1d, then MaxPool1d): the input comes after a ReLU
    (>= 0) and every window holds at least one real position, so a zero never wins over a real
    value and the result equals Keras'. Plain modules, so attribution hooks (DeepLIFT) see them.
    """

    def __init__(self, pool: int, length: int) -> None:
        total = -length % pool
        super().__init__(nn.ConstantPad1d((total // 2, total - total // 2), 0.0), nn.MaxPool1d(pool))


class DeepCRE(nn.Module):
    """Conv(64,8)x2 -> MaxPool 8 -> Dropout, Conv(128,8)x2 -> ..., Conv(64,8)x2 -> ..., Flatten ->
    Dense 128 -> Dropout -> Dense 64 -> Dense n_outputs; ReLU activations, 'same' padding of the
    convolutions and the pools (3020 -> 378 -> 48 -> 6: 384 features, 387,841 parameters);
    Glorot-uniform weights and zero biases, Keras' defaults.

    Input (N, 4, seq_len) one-hot; output logits (N, n_outputs) (the sigmoid is in the loss).
    codon_mask: applied to the input first (DeepCRE masks the start and stop codons).
    """

    def __init__(
        self, seq_len: int, n_outputs: int, kernel_size: int = 8, dropout: float = 0.25, codon_mask: nn.Module | None = None
    ) -> None:
        super().__init__()
        self.seq_len = seq_len
        self.codon_mask = nn.Identity() if codon_mask is None else codon_mask
        layers: list[nn.Module] = []
        width, length = 4, seq_len
        for out in _WIDTHS:
            layers += [
                SameConv1d(width, out, kernel_size), nn.ReLU(),
                SameConv1d(out, out, kernel_size), nn.ReLU(),
                SameMaxPool1d(_POOL, length), nn.Dropout(dropout),
            ]  # fmt: skip
            width, length = out, -(-length // _POOL)
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Linear(flat_size(self.features, 4, seq_len), _DENSE[0]), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(_DENSE[0], _DENSE[1]), nn.ReLU(),
            nn.Linear(_DENSE[1], n_outputs),
        )  # fmt: skip
        for module in self.modules():
            if isinstance(module, (nn.Conv1d, nn.Linear)):
                nn.init.xavier_uniform_(module.weight)  # Keras glorot_uniform: fans include the kernel width
                nn.init.zeros_(module.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 4, seq_len) -> (N, n_outputs)."""
        check_input(x, self.seq_len)
        return self.head(self.features(self.codon_mask(x)))
