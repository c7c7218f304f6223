"""Chunked selective scan in pure PyTorch with a recomputing custom backward.

The recurrence h_t = a_t h_{t-1} + x_t is solved in chunks of T positions: one Python loop over
the T positions of every chunk at once, then one loop over the chunks carrying each chunk's final
state into the next, scaled by products of decays a <= 1 (cumulative products, never divisions or
logarithms, so no overflow for any step size). About 2 sqrt(L) Python steps instead of L.

The autograd Function keeps only its (N, D, L)-sized inputs and recomputes the (L, N, D, S) states
in the backward, one block of (batch, channel) rows at a time, so memory stays O(N D L) + one block.
"""

from __future__ import annotations

import functools
import math

import torch
import torch.nn.functional as F

from .reference import skip_and_gate, step_sizes

BLOCK_ELEMENTS = 1 << 20
"""States (L * n * D * S) per block of (batch, channel) rows held at once (4 MB tensors). Smaller
blocks mean more, smaller operations (Python and dispatch overhead: 2^18 was ~1.5x slower on 2
threads); larger ones are memory-bandwidth bound (2^21 was ~2x slower). bench/bench_model.py."""
CUDA_MEMORY_SHARE = 80
"""On CUDA a block's (L * n * D * S) float32 tensor takes 1/CUDA_MEMORY_SHARE of the GPU's memory
(1 GiB of 80 GiB: the backward holds ~6 such tensors, under 8%). Every block costs ~2 sqrt(L) small
kernels; the CPU size made full-size mtmixg at batch 64 (L 3,020) 256 blocks, ~28,000 kernel
launches per forward; 2^28 states (80 GiB) make it one block, ~110 launches."""


def block_elements(device: torch.device) -> int:
    """States per block on device: BLOCK_ELEMENTS on CPU, a share of the GPU's memory on CUDA."""
    if device.type != "cuda":
        return BLOCK_ELEMENTS
    return cuda_block_elements(torch.cuda.get_device_properties(device).total_memory)


@functools.cache
def cuda_block_elements(total_memory: int) -> int:
    """States per block on a GPU of total_memory bytes (float32, CUDA_MEMORY_SHARE), at least BLOCK_ELEMENTS."""
    return max(BLOCK_ELEMENTS, total_memory // (4 * CUDA_MEMORY_SHARE))


def chunked_linear_scan(a: torch.Tensor, x: torch.Tensor, chunk: int, reverse: bool = False) -> torch.Tensor:
    """Solve a first-order linear recurrence along dim 0, in place in x, and return x.

    a, x: (L, *rest) with L a multiple of chunk and 0 <= a <= 1.
    Forward:  h_t = a_t h_{t-1} + x_t   (h_{-1} = 0).
    Reverse:  h_t = a_{t+1} h_{t+1} + x_t   (h_L = 0), the adjoint of the forward recurrence.
    """
    n_chunks = x.shape[0] // chunk
    ac = a.view(n_chunks, chunk, *a.shape[1:])
    xc = x.view(n_chunks, chunk, *x.shape[1:])
    # views made once (unbind) rather than by indexing in the loops: fewer dispatcher calls
    a_pos, x_pos = ac.unbind(1), xc.unbind(1)  # position t of every chunk: (n_chunks, *rest)
    x_chunk = xc.unbind(0)  # chunk c: (chunk, *rest)
    if not reverse:
        for t in range(1, chunk):
            x_pos[t].addcmul_(a_pos[t], x_pos[t - 1])
        if n_chunks > 1:
            decay_to = torch.cumprod(ac, dim=1).unbind(0)  # prod of a over chunk positions 0..t
            for c in range(1, n_chunks):
                x_chunk[c].addcmul_(decay_to[c], x_chunk[c - 1][-1])
        return x
    for t in range(chunk - 2, -1, -1):
        x_pos[t].addcmul_(a_pos[t + 1], x_pos[t + 1])
    if n_chunks > 1:
        # prod of a over chunk positions t+1..T-1: a reversed cumulative product, shifted by one
        decay_from = torch.ones_like(ac)
        decay_from[:, :-1] = torch.cumprod(ac[:, 1:].flip(1), dim=1).flip(1)
        decay_from = decay_from.unbind(0)
        for c in range(n_chunks - 2, -1, -1):
            x_chunk[c].addcmul_(decay_from[c], ac[c + 1, 0] * x_chunk[c + 1][0])
    return x


def _states(
    u: torch.Tensor, delta: torch.Tensor, A: torch.Tensor, B: torch.Tensor, chunk: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """States h and decays exp(delta A), both (L, n, D, S), of u, delta (n, D, L), B (n, S, L)."""
    delta_t = delta.permute(2, 0, 1)
    decay = torch.exp(delta_t.unsqueeze(-1) * A)
    h = (delta_t * u.permute(2, 0, 1)).unsqueeze(-1) * B.permute(2, 0, 1).unsqueeze(2)
    return chunked_linear_scan(decay, h, chunk), decay


def _blocks(n: int, d: int, per_row: int, elements: int) -> list[tuple[slice, slice]]:
    """(batch, channel) slices covering n x d rows of per_row states each, ~elements states per block."""
    rows = max(1, elements // max(per_row, 1))
    if rows >= d:
        step = rows // d
        return [(slice(i, min(i + step, n)), slice(0, d)) for i in range(0, n, step)]
    return [(slice(i, i + 1), slice(j, min(j + rows, d))) for i in range(n) for j in range(0, d, rows)]


class _ChunkedScan(torch.autograd.Function):
    """y = C . h with h_t = exp(delta_t A) h_{t-1} + delta_t u_t B_t (no D, no gate; float32)."""

    @staticmethod
    def forward(ctx, u, delta, A, B, C, chunk, elements):  # noqa: ANN001, ANN205 (autograd signature)
        ctx.save_for_backward(u, delta, A, B, C)
        ctx.chunk, ctx.elements = chunk, elements
        y = u.new_empty(u.shape)
        for b, d in _blocks(u.shape[0], u.shape[1], A.shape[1] * u.shape[2], elements):
            h, _ = _states(u[b, d], delta[b, d], A[d], B[b], chunk)
            y[b, d] = torch.einsum("lnds,lns->ndl", h, C[b].permute(2, 0, 1))
        return y

    @staticmethod
    def backward(ctx, grad_y):  # noqa: ANN001, ANN205
        with torch.autocast(grad_y.device.type, enabled=False):  # float32, as the forward
            return _ChunkedScan._backward(ctx, grad_y)

    @staticmethod
    def _backward(ctx, grad_y):  # noqa: ANN001, ANN205
        u, delta, A, B, C = ctx.saved_tensors
        chunk = ctx.chunk
        grad_y = grad_y.float()
        du, ddelta = torch.empty_like(u), torch.empty_like(delta)
        dA, dB, dC = torch.zeros_like(A), torch.zeros_like(B), torch.zeros_like(C)
        for b, d in _blocks(u.shape[0], u.shape[1], A.shape[1] * u.shape[2], ctx.elements):
            g = grad_y[b, d].permute(2, 0, 1)  # (L, n, D)
            delta_t, u_t = delta[b, d].permute(2, 0, 1), u[b, d].permute(2, 0, 1)
            h, decay = _states(u[b, d], delta[b, d], A[d], B[b], chunk)
            dC[b] += torch.einsum("lnds,lnd->nsl", h, g)
            lam = g.unsqueeze(-1) * C[b].permute(2, 0, 1).unsqueeze(2)  # dL/dh_t, (L, n, D, S)
            chunked_linear_scan(decay, lam, chunk, reverse=True)
            m = lam[1:] * decay[1:]
            m.mul_(h[:-1])  # dL/d(decay_t) * decay_t, t >= 1
            del h, decay
            lam_b = torch.einsum("lnds,lns->lnd", lam, B[b].permute(2, 0, 1))
            du[b, d] = (delta_t * lam_b).permute(1, 2, 0)
            dd = u_t * lam_b
            dd[1:] += torch.einsum("lnds,ds->lnd", m, A[d])
            ddelta[b, d] = dd.permute(1, 2, 0)
            dA[d] += torch.einsum("lnds,lnd->ds", m, delta_t[1:])
            dB[b] += torch.einsum("lnds,lnd->nsl", lam, delta_t * u_t)
        return du, ddelta, dA, dB, dC, None, None


def chunked_selective_scan(
    u: torch.Tensor,
    delta: torch.Tensor,
    A: torch.Tensor,
    B: torch.Tensor,
    C: torch.Tensor,
    D: torch.Tensor | None = None,
    z: torch.Tensor | None = None,
    delta_bias: torch.Tensor | None = None,
    delta_softplus: bool = False,
    chunk: int | None = None,
    elements: int | None = None,
) -> torch.Tensor:
    """The chunked pure-PyTorch selective scan (any device), same arguments and result as mamba_ssm's
    selective_scan_fn; `mtmixg.ops.scan.selective_scan` picks it where numba is missing or off CPU.

    u, delta (N, D, L); A (D, S) (negative); B, C (N, S, L); D (D,); z (N, D, L); delta_bias (D,).
    Returns y (N, D, L) in float32: y_t = C_t . h_t + D u_t, times SiLU(z_t) when z is given.
    chunk: positions per chunk, default ceil(sqrt(L)); elements: states per block, default
    block_elements(u.device). Always computed in float32: autocast is off inside (its backward is
    float32 too, and a bf16 forward would not match it).
    """
    with torch.autocast(u.device.type, enabled=False):
        u, A, B, C = (t.float() for t in (u, A, B, C))
        delta = step_sizes(delta, delta_bias, delta_softplus)
        length = u.shape[-1]
        chunk = chunk or max(1, math.isqrt(length - 1) + 1)
        elements = elements or block_elements(u.device)
        pad = -length % chunk  # padded positions: delta 0 -> decay 1 and no input; outputs dropped
        padded = [F.pad(t, (0, pad)).contiguous() for t in (u, delta, B, C)]
        y = _ChunkedScan.apply(padded[0], padded[1], A.contiguous(), padded[2], padded[3], chunk, elements)
        return skip_and_gate(y[..., :length], u, D, z)
