"""Causal depthwise 1-D convolution compiled for CPU with numba: forward and backward kernels.

One (batch, channel) row per task, in parallel (prange). x may be any strided (N, D, L) view (the
transposed in_proj output is read in place, no contiguous copy). The weight and bias gradients are
written per row and summed by the caller, so tasks never write to the same memory.
"""

from __future__ import annotations

import numpy as np
import torch

from .numba_scan import HAS_NUMBA, _threads

if HAS_NUMBA:
    import numba
    from numba import njit, prange

    @njit(parallel=True, cache=True)
    def _conv_forward(x, weight, bias, out):  # noqa: ANN001, ANN202 (numba arrays)
        """out[n, d, t] = bias[d] + sum_k weight[d, k] x[n, d, t - W + 1 + k] (zero before t = 0).

        x, out (N, D, L); weight (D, W); bias (D,); float32.
        """
        n_batch, d_inner, length = x.shape
        width = weight.shape[1]
        for row in prange(n_batch * d_inner):
            n, d = row // d_inner, row % d_inner
            w = weight[d]
            for t in range(length):
                acc = bias[d]
                for k in range(max(0, width - 1 - t), width):
                    acc += w[k] * x[n, d, t - width + 1 + k]
                out[n, d, t] = acc

    @njit(parallel=True, cache=True)
    def _conv_backward(x, weight, grad, dx, dw_rows, db_rows):  # noqa: ANN001, ANN202
        """Gradients of sum(grad * out): dx (N, D, L), dw_rows (N, D, W), db_rows (N, D) per row."""
        n_batch, d_inner, length = x.shape
        width = weight.shape[1]
        for row in prange(n_batch * d_inner):
            n, d = row // d_inner, row % d_inner
            w = weight[d]
            dw = np.zeros(width, dtype=np.float64)
            db = 0.0
            for j in range(length):
                g = grad[n, d, j]
                db += g
                acc = np.float32(0.0)
                for k in range(width):  # out[j + W - 1 - k] saw x[j] through weight k
                    t = j + width - 1 - k
                    if t < length:
                        acc += w[k] * grad[n, d, t]
                    if j - width + 1 + k >= 0:
                        dw[k] += g * x[n, d, j - width + 1 + k]
                dx[n, d, j] = acc
            for k in range(width):
                dw_rows[n, d, k] = dw[k]
            db_rows[n, d] = db


class _NumbaConv(torch.autograd.Function):
    """Causal depthwise conv (no activation): x (N, D, L), weight (D, W), bias (D,) -> (N, D, L)."""

    @staticmethod
    def forward(ctx, x, weight, bias):  # noqa: ANN001, ANN205 (autograd signature)
        ctx.save_for_backward(x, weight)
        out = x.new_empty(x.shape)
        numba.set_num_threads(_threads())
        _conv_forward(x.numpy(), weight.numpy(), bias.numpy(), out.numpy())
        return out

    @staticmethod
    def backward(ctx, grad):  # noqa: ANN001, ANN205
        x, weight = ctx.saved_tensors
        grad = grad.contiguous()
        dx = torch.empty_like(grad)
        dw_rows, db_rows = x.new_empty(*x.shape[:2], weight.shape[1]), x.new_empty(x.shape[:2])
        numba.set_num_threads(_threads())
        _conv_backward(x.numpy(), weight.numpy(), grad.numpy(), dx.numpy(), dw_rows.numpy(), db_rows.numpy())
        return dx, dw_rows.sum(0), db_rows.sum(0)


def numba_causal_conv(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """Causal depthwise conv on CPU: x (N, D, L) float32 (any strides), weight (D, 1, W), bias (D,) -> (N, D, L)."""
    if not HAS_NUMBA:
        raise RuntimeError("the compiled causal conv needs numba (pip install numba)")
    bias = x.new_zeros(x.shape[1]) if bias is None else bias.float().contiguous()
    return _NumbaConv.apply(x.float(), weight.squeeze(1).float().contiguous(), bias)
