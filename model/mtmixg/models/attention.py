"""Multi-head self-attention branch (pre-norm, residual) on memory-efficient SDPA."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class SelfAttention(nn.Module):
    """x + out_proj(MHSA(LayerNorm(x))): (N, L, dim) -> (N, L, dim).

    Uses F.scaled_dot_product_attention, so no L x L matrix is materialised.
    """

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        if heads < 1 or dim % heads:
            raise ValueError(f"attention heads ({heads}) must divide the attention branch's channels ({dim})")
        self.heads = heads
        self.norm = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out_proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, L, dim) -> (N, L, dim)."""
        n, length, dim = x.shape
        qkv = self.qkv(self.norm(x)).view(n, length, 3, self.heads, dim // self.heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)  # each (N, heads, L, head_dim)
        attended = F.scaled_dot_product_attention(q, k, v)
        return x + self.out_proj(attended.transpose(1, 2).reshape(n, length, dim))
