"""MTMixGNet: stem -> sequence mixer -> residual CNN chain -> FC head."""

from __future__ import annotations

import torch
from torch import nn

from .attention import token_ids


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

    The mixer is nn.Identity for the plain CNN architecture (M1). When the stem is position-wise
    (kernel-1 convolution) and the input exactly one-hot / all-zero, the mixer also gets the token
    ids (N, L), which lets attention use its exact token table.
    codon_mask is nn.Identity unless the model masks codons (ModelConfig.mask_codons).
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
        x = self.codon_mask(x)
        features = self.stem(x)
        if isinstance(self.mixer, nn.Identity):
            return self.head(self.cnn(features))
        return self.head(self.cnn(self.mixer(features, self._tokens(x))))

    def _tokens(self, x: torch.Tensor) -> torch.Tensor | None:
        """Token ids (N, L) when the stem output at a position depends on that position's token only."""
        stem = self.stem
        pointwise = isinstance(stem, nn.Conv1d) and stem.kernel_size == (1,) and stem.stride == (1,)
        return token_ids(x) if pointwise and stem.padding in ((0,), "valid") else None
