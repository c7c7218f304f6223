"""Causal depthwise 1-D convolution followed by SiLU (the conv of the Mamba block)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .fused import fused_causal_conv1d


def causal_conv1d(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, fused: bool = False) -> torch.Tensor:
    """SiLU(causal depthwise conv of x): x (N, D, L), weight (D, 1, W), bias (D,) -> (N, D, L).

    Output position t sees inputs t-W+1 .. t. fused=True uses causal_conv1d_fn (CUDA only).
    """
    if fused:
        if fused_causal_conv1d is None:
            raise RuntimeError("fused causal conv requested but causal_conv1d is not installed (pip install 'mtmixg[gpu]')")
        return fused_causal_conv1d(x, weight.squeeze(1), bias, activation="silu")
    width = weight.shape[-1]
    return F.silu(F.conv1d(F.pad(x, (width - 1, 0)), weight, bias, groups=x.shape[1]))
