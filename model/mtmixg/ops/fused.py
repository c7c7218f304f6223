"""mamba_ssm / causal_conv1d fused CUDA kernels, when installed (the `gpu` extra); None otherwise."""

from __future__ import annotations

import torch

try:  # mamba_ssm imports its CUDA extension eagerly: any failure means "not available"
    from mamba_ssm.ops.selective_scan_interface import selective_scan_fn as fused_selective_scan
except (ImportError, OSError, RuntimeError):
    fused_selective_scan = None

try:
    from causal_conv1d import causal_conv1d_fn as fused_causal_conv1d
except (ImportError, OSError, RuntimeError):
    fused_causal_conv1d = None

HAS_FUSED_SCAN: bool = fused_selective_scan is not None
HAS_FUSED_CONV: bool = fused_causal_conv1d is not None


def fused_available(x: torch.Tensor) -> bool:
    """True when both fused kernels are importable and x lives on a CUDA device."""
    return HAS_FUSED_SCAN and HAS_FUSED_CONV and x.is_cuda


def kernel_path(model: torch.nn.Module, device: str | torch.device) -> str:
    """Which Mamba kernels `model` runs on `device`: 'fused' (mamba_ssm / causal_conv1d CUDA
    kernels), 'numba' (the compiled CPU kernels, ops.numba_scan / numba_conv), 'pure' (the chunked
    PyTorch scan and convolution) or 'none' (no Mamba block)."""
    from .numba_scan import HAS_NUMBA

    probe = torch.empty(0, device=device)
    blocks = [m for m in model.modules() if hasattr(m, "_use_fused")]
    if not blocks:
        return "none"
    if all(m._use_fused(probe) for m in blocks):
        return "fused"
    return "numba" if HAS_NUMBA and probe.device.type == "cpu" else "pure"
