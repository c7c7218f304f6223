"""MTMixGNet: stem -> sequence mixer -> residual CNN chain -> FC head."""

from __future__ import annotations

import torch
from torch import nn


def check_input(x: torch.Tensor, seq_len: int) -> None:
    """Raise ValueError unless x is a (N, 4, seq_len) batch."""
    if x.ndim != 3 or x.shape[1] != 4 or x.shape[2] != seq_len:
        raise ValueError(
            f"model expects one-hot input of shape (N, 4, {seq_len}), got {tuple(x.shape)}; "
            "the window length must match the model's seq_len"
        )


class MTMixGNet(nn.Module):
    """(N, 4, seq_len) -> codon_mask -> stem (N, C, L) -> mixer (N, C or C/2, L) -> cnn (N, C', L')
    -> head (N, n_outputs).

    The mixer is nn.Identity for the plain CNN variant (M1); codon_mask is nn.Identity unless the
    model masks codons (ModelConfig.mask_codons).
    """

    def __init__(
        self,
        seq_len: int,
        stem: nn.Module,
        mixer: nn.Module,
        cnn: nn.Module,
        head: nn.Module,
        codon_mask: nn.Module | None = None,
    ) -> None:
        super().__init__()
        self.seq_len = seq_len
        self.codon_mask = nn.Identity() if codon_mask is None else codon_mask
        self.stem = stem
        self.mixer = mixer
        self.cnn = cnn
        self.head = head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 4, seq_len) float one-hot -> logits (N, n_outputs)."""
        check_input(x, self.seq_len)
        return self.head(self.cnn(self.mixer(self.stem(self.codon_mask(x)))))
