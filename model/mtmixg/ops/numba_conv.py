"""Causal depthwise 1-D convolution compiled for CPU with numba: forward and backward kernels.

One block of positions of one sequence per task, in parallel (prange), channels innermost. x may be any strided (N, D, L) view (the
transposed in_proj output is read in place, no contiguous copy) and the output has x's layout. The weight and bias gradients are
written per task and summed by the caller, so tasks never write to the same memory.
"""

from __future__ import annotations

import numpy as np
import torch

from .numba_pool import HAS_NUMBA
from .numba_scan import _threads, like

POSITIONS_PER_TASK = 256
"""Positions of one sequence per parallel task of the conv kernels."""

if HAS_NUMBA:
    import numba
    from numba import njit, prange

    @njit(parallel=True, cache=True)
    def _conv_forward(x, weight, bias, out):  # noqa: ANN001, ANN202 (numba arrays)
        """out[n, d, t] = bias[d] + sum_k weight[d, k] x[n, d, t - W + 1 + k] (zero before t = 0).

        x, out (N, D, L), any strides; weight (D, W); bias (D,); float32. Task: one block of
        positions of one sequence; innermost loop over channels (unit stride when channels last).
        """
        n_batch, d_inner, length = x.shape
        width = weight.shape[1]
        n_blocks = -(-length // POSITIONS_PER_TASK)
        for task in prange(n_batch * n_blocks):
            n, block = task // n_blocks, task % n_blocks
            for t in range(block * POSITIONS_PER_TASK, min(length, (block + 1) * POSITIONS_PER_TASK)):
                for d in range(d_inner):
                    out[n, d, t] = bias[d]
                for k in range(max(0, width - 1 - t), width):
                    src = t - width + 1 + k
                    for d in range(d_inner):
                        out[n, d, t] += weight[d, k] * x[n, d, src]

    @njit(parallel=True, cache=True)
    def _conv_backward(x, weight, grad, dx, dw_parts, db_parts):  # noqa: ANN001, ANN202
        """Gradients of sum(grad * out): dx (N, D, L); per task, dw_parts[task] (D, W) and
        db_parts[task] (D,) (summed by the caller). Tasks as in the forward."""
        n_batch, d_inner, length = x.shape
        width = weight.shape[1]
        n_blocks = -(-length // POSITIONS_PER_TASK)
        for task in prange(n_batch * n_blocks):
            n, block = task // n_blocks, task % n_blocks
            dw = np.zeros((width, d_inner), dtype=np.float64)
            db = np.zeros(d_inner, dtype=np.float64)
            for t in range(block * POSITIONS_PER_TASK, min(length, (block + 1) * POSITIONS_PER_TASK)):
                for d in range(d_inner):
                    db[d] += grad[n, d, t]
                    dx[n, d, t] = 0.0
                for k in range(width):
                    src = t - width + 1 + k  # out[t] saw x[src] through weight k
                    if src >= 0:
                        for d in range(d_inner):
                            dw[k, d] += grad[n, d, t] * x[n, d, src]
                    dst = t + width - 1 - k  # x[t] reached out[dst] through weight k
                    if dst < length:
                        for d in range(d_inner):
                            dx[n, d, t] += weight[d, k] * grad[n, d, dst]
            for d in range(d_inner):
                db_parts[task, d] = db[d]
                for k in range(width):
                    dw_parts[task, d, k] = dw[k, d]


class _NumbaConv(torch.autograd.Function):
    """Causal depthwise conv (no activation): x (N, D, L), weight (D, W), bias (D,) -> (N, D, L),
    laid out as x (channels last for the Mamba block's transposed in_proj output)."""

    @staticmethod
    def forward(ctx, x, weight, bias):  # noqa: ANN001, ANN205 (autograd signature)
        ctx.save_for_backward(x, weight)
        out = like(x)
        numba.set_num_threads(_threads())
        _conv_forward(x.numpy(), weight.numpy(), bias.numpy(), out.numpy())
        return out

    @staticmethod
    def backward(ctx, grad):  # noqa: ANN001, ANN205
        x, weight = ctx.saved_tensors
        dx = like(x)
        tasks = x.shape[0] * -(-x.shape[2] // POSITIONS_PER_TASK)
        dw_parts, db_parts = x.new_empty(tasks, *weight.shape), x.new_empty(tasks, x.shape[1])
        numba.set_num_threads(_threads())
        _conv_backward(x.numpy(), weight.numpy(), grad.numpy(), dx.numpy(), dw_parts.numpy(), db_parts.numpy())
        return dx, dw_parts.sum(0), db_parts.sum(0)


def numba_causal_conv(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """Causal depthwise conv on CPU: x (N, D, L) float32 (any strides), weight (D, 1, W), bias (D,) -> (N, D, L)."""
    if not HAS_NUMBA:
        raise RuntimeError("the compiled causal conv needs numba (pip install numba)")
    bias = x.new_zeros(x.shape[1]) if bias is None else bias.float().contiguous()
    return _NumbaConv.apply(x.float(), weight.squeeze(1).float().contiguous(), bias)
