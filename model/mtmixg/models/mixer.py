"""Sequence mixers placed between the stem and the CNN chain: one branch, or MTMixEnc (two)."""

from __future__ import annotations

import torch
from torch import nn

from .gate import DualPathGate


class MambaBranch(nn.Module):
    """x + Mamba(LayerNorm(x)): (N, L, dim) -> (N, L, dim). Token ids (see attention.token_ids)
    are accepted and unused."""

    def __init__(self, dim: int, mamba: nn.Module) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.mamba = mamba

    def forward(self, x: torch.Tensor, tokens: torch.Tensor | None = None) -> torch.Tensor:
        return x + self.mamba(self.norm(x))


class SingleBranch(nn.Module):
    """One token branch on all channels: (N, C, L), optional token ids (N, L) -> (N, C, L)."""

    def __init__(self, branch: nn.Module) -> None:
        super().__init__()
        self.branch = branch

    def forward(self, x: torch.Tensor, tokens: torch.Tensor | None = None) -> torch.Tensor:
        return self.branch(x.transpose(1, 2), tokens).transpose(1, 2)


class MixEncoder(nn.Module):
    """MTMixEnc: channels split in half, attention on the first, Mamba on the second; the two
    paths are concatenated (gate=None, M1+M2) or fused by a DualPathGate (M1+M2+M3).

    (N, C, L), optional token ids (N, L) for the attention path -> (N, C, L).
    """

    def __init__(self, attention: nn.Module, mamba: nn.Module, gate: DualPathGate | None) -> None:
        super().__init__()
        self.attention = attention
        self.mamba = mamba
        self.gate = gate

    def forward(self, x: torch.Tensor, tokens: torch.Tensor | None = None) -> torch.Tensor:
        a, m = x.transpose(1, 2).chunk(2, dim=-1)  # (N, L, C/2) each
        a = self.attention(a, tokens).transpose(1, 2)
        m = self.mamba(m).transpose(1, 2)
        return torch.cat([a, m], dim=1) if self.gate is None else self.gate(a, m)
