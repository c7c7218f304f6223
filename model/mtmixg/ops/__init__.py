"""Kernels of the Mamba block: the selective scan and the causal depthwise convolution.

`selective_scan` runs the numba-compiled scan (`numba_scan.compiled_selective_scan`, imported on
first use: see numba_pool) on CPU when numba is installed, else `chunked_selective_scan`, a
chunked pure-PyTorch scan (any device) with a memory-lean custom backward; `selective_scan_ref`
is their sequential reference (tests only).
Functions only are gathered here (classes: import them from their module, e.g.
mtmixg.ops.fused.FusedKernelsError). `fused` wraps mamba_ssm's `selective_scan_fn` and causal_conv1d's `causal_conv1d_fn`, imported
on first use on CUDA (never on package import) and used only on CUDA tensors. All scans share mamba_ssm's signature: u, delta (N, D, L), A (D, S),
B, C (N, S, L), D (D,), z (N, D, L) -> y (N, D, L).
"""

from .causal_conv import causal_conv1d
from .fused import check_kernel_path, fused_available, fused_kernels, kernel_path
from .reference import selective_scan_ref
from .chunked_scan import chunked_linear_scan
from .numba_pool import HAS_NUMBA
from .scan import chunked_selective_scan, selective_scan

__all__ = [
    "HAS_NUMBA",
    "causal_conv1d",
    "check_kernel_path",
    "chunked_linear_scan",
    "chunked_selective_scan",
    "fused_available",
    "fused_kernels",
    "kernel_path",
    "selective_scan",
    "selective_scan_ref",
]
