"""The dual-path gate (M3): fuse the attention and Mamba paths with learned sigmoid masks."""

from __future__ import annotations

import torch
from torch import nn


class DualPathGate(nn.Module):
    """sum over the two paths of proj(path) * sigmoid(mask(path)), all 1x1 convolutions.

    a, b: (N, in_channels, L) each -> (N, out_channels, L).
    """

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.proj = nn.ModuleList([nn.Conv1d(in_channels, out_channels, 1) for _ in range(2)])
        self.mask = nn.ModuleList([nn.Conv1d(in_channels, out_channels, 1) for _ in range(2)])

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """(N, in_channels, L) x 2 -> (N, out_channels, L)."""
        return sum(proj(p) * torch.sigmoid(mask(p)) for p, proj, mask in zip((a, b), self.proj, self.mask))
