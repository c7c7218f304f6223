"""The DeepPlantCRE baseline (Wu et al. 2025, arXiv 2505.09883): a Transformer encoder on the one-hot
input, then cascaded residual CNN blocks and a dense head, the authors' outline. The layer sizes are
ours (DeepCRE's where it has them), listed in README "How this differs from the paper"."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .cnn import SameConv1d, flat_size
from .deepcre import SameMaxPool1d
from .net import check_input

D_MODEL = 4
"""Transformer width: the one-hot channels themselves (no embedding layer)."""
HEADS = 1
FFN_WIDTH = 4 * D_MODEL
"""Feed-forward width: 4 x d_model, the ratio of the original Transformer."""
WIDTHS = (64, 128, 64)
"""Filters of the three residual CNN blocks (DeepCRE's three stages)."""
POOL = 8
DENSE = (128, 64)


class EncoderLayer(nn.Module):
    """One post-norm Transformer encoder layer on (N, L, d): x = LN(x + Drop(MHSA(x))), then
    x = LN(x + Drop(FFN(x))), FFN = Linear(d, f) -> ReLU -> Linear(f, d). Attention through
    F.scaled_dot_product_attention (no L x L matrix is kept); no positional encoding."""

    def __init__(self, dim: int, heads: int, ffn: int, dropout: float) -> None:
        super().__init__()
        if dim % heads:
            raise ValueError(f"attention heads ({heads}) must divide the Transformer width ({dim})")
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out_proj = nn.Linear(dim, dim)
        self.drop1 = nn.Dropout(dropout)
        self.norm1 = nn.LayerNorm(dim)
        self.ffn = nn.Sequential(nn.Linear(dim, ffn), nn.ReLU(), nn.Linear(ffn, dim))
        self.drop2 = nn.Dropout(dropout)
        self.norm2 = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, L, d) -> (N, L, d)."""
        n, length, dim = x.shape
        q, k, v = self.qkv(x).view(n, length, 3, self.heads, dim // self.heads).permute(2, 0, 3, 1, 4)
        attended = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(n, length, dim)
        x = self.norm1(x + self.drop1(self.out_proj(attended)))
        return self.norm2(x + self.drop2(self.ffn(x)))


class ResidualStage(nn.Module):
    """ReLU(Conv(ReLU(Conv(x))) + skip(x)) -> MaxPool (Keras 'same') -> Dropout: (N, C_in, L) ->
    (N, C_out, ceil(L / pool)); skip is a 1x1 convolution (the channel count changes in every stage)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, pool: int, length: int,
                 dropout: float) -> None:  # fmt: skip
        super().__init__()
        self.conv1 = SameConv1d(in_channels, out_channels, kernel_size)
        self.act1 = nn.ReLU()
        self.conv2 = SameConv1d(out_channels, out_channels, kernel_size)
        self.skip = nn.Conv1d(in_channels, out_channels, 1)
        self.act2 = nn.ReLU()
        self.pool = SameMaxPool1d(pool, length)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C_in, L) -> (N, C_out, ceil(L / pool))."""
        z = self.act2(self.conv2(self.act1(self.conv1(x))) + self.skip(x))
        return self.dropout(self.pool(z))


class DeepPlantCRE(nn.Module):
    """(N, 4, seq_len) one-hot -> codon_mask -> Transformer encoder layer (d 4, 1 head, FFN 16) ->
    3 residual stages (64, 128, 64 filters, kernel 8, pool 8) -> Flatten -> Dense 128 -> Dropout ->
    Dense 64 -> Dense n_outputs (logits); ReLU activations. At 3,020 bases: 3020 -> 378 -> 48 -> 6,
    384 flattened features, 404,981 parameters (tests/test_deepplantcre.py derives the count).
    """

    def __init__(
        self, seq_len: int, n_outputs: int, kernel_size: int = 8, dropout: float = 0.25, codon_mask: nn.Module | None = None
    ) -> None:
        super().__init__()
        self.seq_len = seq_len
        self.codon_mask = nn.Identity() if codon_mask is None else codon_mask
        self.encoder = EncoderLayer(D_MODEL, HEADS, FFN_WIDTH, dropout)
        stages: list[nn.Module] = []
        width, length = D_MODEL, seq_len
        for out in WIDTHS:
            stages.append(ResidualStage(width, out, kernel_size, POOL, length, dropout))
            width, length = out, -(-length // POOL)
        self.features = nn.Sequential(*stages)
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Linear(flat_size(self.features, D_MODEL, seq_len), DENSE[0]), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(DENSE[0], DENSE[1]), nn.ReLU(),
            nn.Linear(DENSE[1], n_outputs),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 4, seq_len) -> (N, n_outputs)."""
        check_input(x, self.seq_len)
        tokens = self.encoder(self.codon_mask(x).transpose(1, 2))  # (N, L, 4)
        return self.head(self.features(tokens.transpose(1, 2)))
