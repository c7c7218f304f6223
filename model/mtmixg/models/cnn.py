"""The residual CNN chain (M1): 'same' convolutions, residual sum, batch norm, pooling."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn



class SameConv1d(nn.Conv1d):
    """Conv1d with 'same' output length for any kernel size, (N, C_in, L) -> (N, C_out, L).

    Even kernels are padded asymmetrically ((k - 1) // 2 left, k // 2 right), as Keras does,
    with an explicit F.pad (PyTorch's padding="same" warns for even kernels).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, bias: bool = True) -> None:
        super().__init__(in_channels, out_channels, kernel_size, bias=bias)
        self._pad = ((kernel_size - 1) // 2, kernel_size // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(F.pad(x, self._pad))


class ResidualBlock(nn.Module):
    """The paper's residual block (§2.6), three 'same' convolutions, the skip around the first two:

        Z1 = ReLU(Conv1(H));  Z2 = ReLU(Conv2(Z1)) + skip(H);  Z3 = BN(ReLU(Conv3(Z2)))
        H_out = Dropout(MaxPool(Z3))

    (N, C_in, L) -> (N, C_out, L // pool). skip is the identity when C_in == C_out; where the
    channel count changes (the first block of a chain) it is a 1x1 convolution projecting C_in
    to C_out, the usual choice the paper leaves open.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, pool: int, dropout: float) -> None:
        super().__init__()
        self.conv1 = SameConv1d(in_channels, out_channels, kernel_size)
        self.act1 = nn.ReLU()
        self.conv2 = SameConv1d(out_channels, out_channels, kernel_size)
        self.act2 = nn.ReLU()
        self.skip = nn.Identity() if in_channels == out_channels else nn.Conv1d(in_channels, out_channels, 1)
        self.conv3 = SameConv1d(out_channels, out_channels, kernel_size)
        self.act3 = nn.ReLU()
        self.bn = nn.BatchNorm1d(out_channels)
        self.pool = nn.MaxPool1d(pool)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C_in, L) -> (N, C_out, L // pool)."""
        z1 = self.act1(self.conv1(x))
        z2 = self.act2(self.conv2(z1)) + self.skip(x)
        z3 = self.bn(self.act3(self.conv3(z2)))
        return self.dropout(self.pool(z3))


class ResidualCNN(nn.Sequential):
    """A chain of ResidualBlocks, one per pool size: (N, C_in, L) -> (N, channels, L // prod(pools))."""

    def __init__(self, in_channels: int, channels: int, kernel_size: int, pools: list[int], dropout: float) -> None:
        blocks = [
            ResidualBlock(in_channels if i == 0 else channels, channels, kernel_size, pool, dropout)
            for i, pool in enumerate(pools)
        ]
        super().__init__(*blocks)


def flat_size(trunk: nn.Module, in_channels: int, seq_len: int) -> int:
    """Number of features trunk produces per sequence, found by a trial forward pass in eval mode."""
    was_training = trunk.training
    trunk.eval()
    with torch.no_grad():
        out = trunk(torch.zeros(1, in_channels, seq_len))
    trunk.train(was_training)
    return out[0].numel()
