"""Multi-head self-attention branch (pre-norm, residual): memory-efficient SDPA, or an exact token
table when every position's input row is one of a few token rows."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

N_TOKENS = 5
"""Token ids of a one-hot DNA input: 0-3 = A, C, G, T (the hot channel), 4 = an all-zero column."""


def token_ids(x: torch.Tensor) -> torch.Tensor | None:
    """(N, 4, L) model input -> (N, L) token ids (see N_TOKENS), or None unless every column is
    exactly one-hot or all zero and x needs no gradient (an input gradient must see every position)."""
    if x.requires_grad or x.shape[1] != N_TOKENS - 1:
        return None
    if not (((x == 0) | (x == 1)).all() and (x.sum(1) <= 1).all()):
        return None
    hot = x.amax(1) > 0
    return torch.where(hot, x.argmax(1), torch.full_like(hot, N_TOKENS - 1, dtype=torch.long))


class SelfAttention(nn.Module):
    """x + out_proj(MHSA(LayerNorm(x))): (N, L, dim) -> (N, L, dim).

    Uses F.scaled_dot_product_attention, so no L x L matrix is materialised. When `tokens` (N, L)
    is given, the caller vouches that x[n, l] depends only on tokens[n, l] (a position-wise stem of
    a one-hot input); the attention is then computed exactly on the <= 5 distinct rows per sequence
    (see `token_table_attention`). Same parameters either way.
    """

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        if heads < 1 or dim % heads:
            raise ValueError(f"attention heads ({heads}) must divide the attention branch's channels ({dim})")
        self.heads = heads
        self.norm = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out_proj = nn.Linear(dim, dim)

    def _attend(self, x: torch.Tensor, counts: torch.Tensor | None = None) -> torch.Tensor:
        """out_proj(MHSA(LayerNorm(x))) for x (N, M, dim); counts (N, M): how many positions each
        row stands for (softmax weights scaled by them, rows with count 0 ignored)."""
        n, rows, dim = x.shape
        qkv = self.qkv(self.norm(x)).view(n, rows, 3, self.heads, dim // self.heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)  # each (N, heads, M, head_dim)
        if counts is None:
            attended = F.scaled_dot_product_attention(q, k, v)
        else:
            # at least float32 under autocast: a count such as 3020 does not survive bf16
            wide = torch.promote_types(q.dtype, torch.float32)
            logits = q.to(wide) @ k.to(wide).transpose(-1, -2) / math.sqrt(q.shape[-1])  # (N, heads, M, M)
            log_counts = counts.to(wide).log()[:, None, None, :]  # log 0 = -inf: weight 0
            attended = (torch.softmax(logits + log_counts, dim=-1) @ v.to(wide)).to(v.dtype)
        return self.out_proj(attended.transpose(1, 2).reshape(n, rows, dim))

    def forward(self, x: torch.Tensor, tokens: torch.Tensor | None = None) -> torch.Tensor:
        """(N, L, dim), optional token ids (N, L) -> (N, L, dim)."""
        if tokens is None:
            return x + self._attend(x)
        return x + token_table_attention(self._attend, x, tokens)


def token_table_attention(attend, x: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:  # noqa: ANN001
    """Exact attention of x (N, L, dim) whose rows are determined by tokens (N, L).

    Softmax over L keys of <= 5 distinct values is a softmax over the distinct keys, each weighted
    by its count n_t: out(s) = sum_t n_t exp(q_s.k_t/sqrt(d)) v_t / sum_t n_t exp(q_s.k_t/sqrt(d)).
    The table rows are x at each token's first position; gradients reach x (and so the stem's
    parameters) only there, which gives the same parameter gradients as SDPA, not the same input
    gradients (callers pass tokens only when the input needs none). attend: (N, M, dim), counts
    (N, M) -> (N, M, dim).
    """
    is_token = tokens.unsqueeze(-1) == torch.arange(N_TOKENS, device=tokens.device)  # (N, L, 5)
    counts = is_token.sum(1)  # (N, 5)
    first = is_token.int().argmax(1)  # (N, 5): first position of each token (0 when absent)
    rows = x.gather(1, first.unsqueeze(-1).expand(-1, -1, x.shape[-1]))  # (N, 5, dim)
    table = attend(rows, counts)  # (N, 5, dim)
    return table.gather(1, tokens.unsqueeze(-1).expand(-1, -1, x.shape[-1]))
