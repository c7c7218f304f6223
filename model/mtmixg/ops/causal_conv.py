"""Causal depthwise 1-D convolution followed by SiLU (the conv of the Mamba block)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .fused import INSTALL_HINT, fused_kernels
from .numba_pool import HAS_NUMBA


def causal_conv1d(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, fused: bool = False) -> torch.Tensor:
    """SiLU(causal depthwise conv of x): x (N, D, L), weight (D, 1, W), bias (D,) -> (N, D, L).

    Output position t sees inputs t-W+1 .. t. fused=True uses causal_conv1d_fn (CUDA only). On CPU
    with numba the compiled kernels of `numba_conv` (x read in place, any strides; imported on
    first call, see numba_pool); otherwise
    `shifted_sum_conv`. Not F.conv1d: its grouped backward (weight gradient) on CPU was 10-30x
    slower than all the rest of the block.
    """
    if fused:
        conv = fused_kernels().causal_conv1d
        if conv is None:
            raise RuntimeError(f"fused causal conv requested but causal_conv1d does not import ({INSTALL_HINT})")
        return conv(x.contiguous(), weight.squeeze(1), bias, activation="silu")
    if HAS_NUMBA and x.device.type == "cpu" and x.dtype == torch.float32:
        from .numba_conv import numba_causal_conv

        return F.silu(numba_causal_conv(x, weight, bias))
    return F.silu(shifted_sum_conv(x, weight, bias))


def shifted_sum_conv(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """The causal depthwise conv (no activation) in PyTorch ops, any device: shapes as causal_conv1d."""
    x = x.contiguous()
    width, length = weight.shape[-1], x.shape[-1]
    padded = F.pad(x, (width - 1, 0))
    taps = weight.squeeze(1).unsqueeze(-1)  # (D, W, 1)
    out = padded[..., :length] * taps[:, 0]
    for k in range(1, width):
        out = out + padded[..., k : k + length] * taps[:, k]
    return out if bias is None else out + bias[:, None]
