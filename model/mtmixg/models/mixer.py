"""The sequence mixer placed between the stem and the CNN chain: MTMixEnc and its one-branch ablations."""

from __future__ import annotations

import torch
from torch import nn

from .gate import DualPathGate


class MambaBranch(nn.Module):
    """x + Mamba(LayerNorm(x)): (N, L, dim) -> (N, L, dim)."""

    def __init__(self, dim: int, mamba: nn.Module) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.mamba = mamba

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.mamba(self.norm(x))


class MixEncoder(nn.Module):
    """MTMixEnc: channels split in half, attention on the first, Mamba on the second; the two
    paths are concatenated (gate=None, M1+M2) or fused by a DualPathGate (M1+M2+M3).

    The one-branch ablations split the same way and replace the missing branch by nn.Identity:
    M1+M21 (cnn_mamba) = Identity on the first half, Mamba on the second; M1+M22 (cnn_attention) =
    attention on the first half, Identity on the second. The unused half passes through unchanged,
    so each ablation is MTMixEnc with one branch removed, its branch as wide as in the full model.

    (N, C, L) -> (N, C, L), or (N, C/2, L) with the gate.
    """

    def __init__(self, attention: nn.Module, mamba: nn.Module, gate: DualPathGate | None) -> None:
        super().__init__()
        self.attention = attention
        self.mamba = mamba
        self.gate = gate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, m = x.transpose(1, 2).chunk(2, dim=-1)  # (N, L, C/2) each
        a = self.attention(a).transpose(1, 2)
        m = self.mamba(m).transpose(1, 2)
        return torch.cat([a, m], dim=1) if self.gate is None else self.gate(a, m)
