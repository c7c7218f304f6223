"""The sequence mixer placed between the stem and the CNN chain: MTMixEnc and its one-branch ablations."""

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


class PassThrough(nn.Module):
    """The missing branch of a one-branch ablation: (N, L, C/2), token ids ignored -> unchanged."""

    def forward(self, x: torch.Tensor, tokens: torch.Tensor | None = None) -> torch.Tensor:
        return x


class MixEncoder(nn.Module):
    """MTMixEnc: channels split in half, attention on the first, Mamba on the second; the two
    paths are concatenated (gate=None, M1+M2) or fused by a DualPathGate (M1+M2+M3).

    The one-branch ablations split the same way and replace the missing branch by PassThrough:
    M1+M21 (cnn_mamba) = PassThrough on the first half, Mamba on the second; M1+M22 (cnn_attention) =
    attention on the first half, PassThrough on the second. The unused half passes through unchanged,
    so each ablation is MTMixEnc with one branch removed, its branch as wide as in the full model.

    (N, C, L), optional token ids (N, L) for the attention path -> (N, C, L), or (N, C/2, L) with
    the gate.
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
