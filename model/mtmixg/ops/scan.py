"""The CPU/GPU-agnostic selective scan: the compiled numba kernels on CPU when numba is installed,
else the chunked PyTorch scan (any device). Same arguments, parameters and results on every path.
The numba kernels are imported on the first CPU call, after the job has set its threads (numba_pool)."""

from __future__ import annotations

import torch

from .chunked_scan import chunked_selective_scan
from .numba_pool import HAS_NUMBA


def selective_scan(
    u: torch.Tensor,
    delta: torch.Tensor,
    A: torch.Tensor,
    B: torch.Tensor,
    C: torch.Tensor,
    D: torch.Tensor | None = None,
    z: torch.Tensor | None = None,
    delta_bias: torch.Tensor | None = None,
    delta_softplus: bool = False,
) -> torch.Tensor:
    """mamba_ssm's selective_scan_fn signature: u, delta (N, D, L); A (D, S); B, C (N, S, L);
    D (D,); z (N, D, L); delta_bias (D,) -> y (N, D, L) float32."""
    if HAS_NUMBA and u.device.type == "cpu":
        from .numba_scan import compiled_selective_scan as scan
    else:
        scan = chunked_selective_scan
    return scan(u, delta, A, B, C, D, z, delta_bias, delta_softplus)
