"""The dual-path gate (M3): fuse the attention and Mamba paths with learned sigmoid masks."""

from __future__ import annotations

import torch
from torch import nn


class DualPathGate(nn.Module):
    """F = sum over the two paths of Project(path) * sigmoid(Mask(path)), all 1x1 convolutions.

    a, b: (N, channels, L) each -> F (N, channels, L). As in the paper (§2.5, F in R^{L x C/2}),
    the output keeps the width of one path (C/2 of the stem's C): Project reduces the two paths
    to one, it does not widen them.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.proj = nn.ModuleList([nn.Conv1d(channels, channels, 1) for _ in range(2)])
        self.mask = nn.ModuleList([nn.Conv1d(channels, channels, 1) for _ in range(2)])
        self.sigmoid = nn.Sigmoid()

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """(N, channels, L) x 2 -> (N, channels, L)."""
        return sum(proj(p) * self.sigmoid(mask(p)) for p, proj, mask in zip((a, b), self.proj, self.mask))
