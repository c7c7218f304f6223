"""Selective scan compiled for CPU with numba: forward and backward as parallel kernels.

Why numba rather than a C++ extension: a torch C++ extension built at install time needs torch in
pip's isolated build environment (a second ~1 GB torch download, matching the installed one only by
luck) or `--no-build-isolation`, which breaks the README's plain `pip install`; numba is a wheel on
PyPI and conda-forge, compiles at first call and caches the machine code on disk (cache=True).

Kernels work on one (batch, channel) row at a time, in parallel over batch x channels (prange), with
the inner loops over d_state contiguous (B, C laid out (N, L, S)) so LLVM vectorises them. The
forward keeps no states. The decays exp(delta A) are computed by torch's vectorised exp for one
block of sequences at a time (BLOCK_ELEMENTS), never for the whole batch. The backward recomputes
them and one row's states into a per-task (L, S) buffer, then runs the adjoint recurrence
backwards through it: memory is O(N D L) plus one block, never L x S x D for the batch.
Products of decays <= 1 only, no division or logarithm: finite for any step size. Of fastmath only
`reassoc` is on: it lets LLVM vectorise the sums over d_state (backward 2x faster); no approximate
functions, no NaN/Inf assumptions. Threads: numba's follow torch.get_num_threads().
"""

from __future__ import annotations

import numpy as np
import torch

from .reference import skip_and_gate, step_sizes

try:
    import numba
    from numba import njit, prange
except ImportError:  # the chunked PyTorch scan is used instead
    numba = None

HAS_NUMBA: bool = numba is not None


if HAS_NUMBA:

    @njit(parallel=True, cache=True, fastmath={"reassoc"})
    def _forward_kernel(u, delta, decay, B, C, y):  # noqa: ANN001, ANN202 (numba arrays)
        """y[n, d, t] = C[n, t] . h_t with h_t = decay[n, d, t] * h_{t-1} + delta u B[n, t].

        u, delta, y (N, D, L); decay (N, D, L, S); B, C (N, L, S); all float32, C-contiguous.
        """
        n_batch, d_inner, length = u.shape
        d_state = B.shape[2]
        for row in prange(n_batch * d_inner):
            n, d = row // d_inner, row % d_inner
            h = np.zeros(d_state, dtype=np.float32)
            for t in range(length):
                drive = delta[n, d, t] * u[n, d, t]
                a, b, c = decay[n, d, t], B[n, t], C[n, t]
                for s in range(d_state):
                    h[s] = a[s] * h[s] + drive * b[s]
                acc = np.float32(0.0)
                for s in range(d_state):
                    acc += c[s] * h[s]
                y[n, d, t] = acc

    @njit(parallel=True, cache=True, fastmath={"reassoc"})
    def _backward_kernel(  # noqa: ANN202
        u, delta, decay, A, B, C, grad_y, groups, du_out, ddelta_out, dA_rows, dB_parts, dC_parts  # noqa: ANN001
    ):
        """Gradients of sum(grad_y * y) for the forward kernel's y (decay = exp(delta A)).

        Task (n, g) handles the channels d = g, g + groups, ... of sequence n: it recomputes a
        row's states into its (L, S) buffer, then runs the adjoint recurrence backwards. It zeroes
        and fills its own slices dB_parts[g, n], dC_parts[g, n] (L, S) (the caller sums over g),
        so tasks never write to the same memory; dA_rows (N, D, S) likewise, summed over n.
        """
        n_batch, d_inner, length = u.shape
        d_state = B.shape[2]
        for task in prange(n_batch * groups):
            n, g = task // groups, task % groups
            states = np.empty((length + 1, d_state), dtype=np.float32)  # states[t + 1] = h_t
            lam = np.empty(d_state, dtype=np.float32)
            m = np.empty(d_state, dtype=np.float32)
            dA_acc = np.empty(d_state, dtype=np.float64)
            dB, dC = dB_parts[g, n], dC_parts[g, n]
            dB[:] = 0.0
            dC[:] = 0.0
            for d in range(g, d_inner, groups):
                states[0] = 0.0
                for t in range(length):
                    drive = delta[n, d, t] * u[n, d, t]
                    a, b, h_prev, h = decay[n, d, t], B[n, t], states[t], states[t + 1]
                    for s in range(d_state):
                        h[s] = a[s] * h_prev[s] + drive * b[s]
                lam[:] = 0.0  # holds decay_{t+1} * dL/dh_{t+1} at the top of each step
                dA_acc[:] = 0.0
                for t in range(length - 1, -1, -1):
                    gy, dt, ut = grad_y[n, d, t], delta[n, d, t], u[n, d, t]
                    a, b, c, h_prev, h = decay[n, d, t], B[n, t], C[n, t], states[t], states[t + 1]
                    drive = dt * ut
                    dC_t, dB_t = dC[t], dB[t]
                    for s in range(d_state):
                        lam[s] = gy * c[s] + lam[s]  # dL/dh_t
                        dC_t[s] += gy * h[s]
                        dB_t[s] += lam[s] * drive
                    lam_b = np.float32(0.0)
                    for s in range(d_state):
                        lam_b += lam[s] * b[s]
                    for s in range(d_state):
                        lam[s] = a[s] * lam[s]
                        m[s] = lam[s] * h_prev[s]  # dL/d(decay_t) * decay_t
                    dd = np.float32(0.0)
                    for s in range(d_state):
                        dd += m[s] * A[d, s]
                        dA_acc[s] += m[s] * dt
                    du_out[n, d, t] = dt * lam_b
                    ddelta_out[n, d, t] = ut * lam_b + dd
                for s in range(d_state):
                    dA_rows[n, d, s] = dA_acc[s]


def _threads() -> int:
    """numba's threads follow torch's (torch.set_num_threads), capped at numba's pool size."""
    return max(1, min(torch.get_num_threads(), numba.config.NUMBA_NUM_THREADS))


BLOCK_ELEMENTS = 1 << 22
"""Decays exp(delta A) (n * D * L * S floats) computed at once by torch (vectorised exp) for a
block of whole sequences, at least one: 16 MB, one sequence at D 64, S 16, L 3,020."""


def _sequence_blocks(u: torch.Tensor, d_state: int) -> list[slice]:
    step = max(1, BLOCK_ELEMENTS // (u.shape[1] * u.shape[2] * d_state))
    return [slice(i, min(i + step, u.shape[0])) for i in range(0, u.shape[0], step)]


def _decay(delta: torch.Tensor, A: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
    """exp(delta A): delta (n, D, L), A (D, S) -> (n, D, L, S) contiguous, written into out (a
    buffer reused across blocks: a fresh 16 MB tensor per block costs more in page faults than the exp)."""
    shape = (*delta.shape, A.shape[1])
    out = delta.new_empty(shape) if out is None or out.numel() < delta.numel() * A.shape[1] else out
    out = out.view(-1)[: delta.numel() * A.shape[1]].view(shape)
    torch.mul(delta.unsqueeze(-1), A[:, None, :], out=out)
    return out.exp_()


class _NumbaScan(torch.autograd.Function):
    """y = C . h with h_t = exp(delta_t A) h_{t-1} + delta_t u_t B_t (no D, no gate; float32, CPU).

    u, delta (N, D, L); A (D, S); B, C (N, L, S) -> y (N, D, L).
    """

    @staticmethod
    def forward(ctx, u, delta, A, B, C):  # noqa: ANN001, ANN205 (autograd signature)
        ctx.save_for_backward(u, delta, A, B, C)
        y = torch.empty_like(u)
        numba.set_num_threads(_threads())
        decay = None
        for b in _sequence_blocks(u, A.shape[1]):
            decay = _decay(delta[b], A, decay)
            _forward_kernel(u[b].numpy(), delta[b].numpy(), decay.numpy(), B[b].numpy(), C[b].numpy(), y[b].numpy())
        return y

    @staticmethod
    def backward(ctx, grad_y):  # noqa: ANN001, ANN205
        u, delta, A, B, C = ctx.saved_tensors
        grad_y = grad_y.float().contiguous()
        d_inner = u.shape[1]
        threads = _threads()
        du, ddelta = torch.empty_like(u), torch.empty_like(delta)
        dA_rows = u.new_empty(u.shape[0], d_inner, A.shape[1])
        dB, dC = torch.empty_like(B), torch.empty_like(C)
        numba.set_num_threads(threads)
        blocks = _sequence_blocks(u, A.shape[1])
        step = blocks[0].stop
        groups = max(1, min(d_inner, -(-2 * threads // step)))  # >= 2 tasks per thread
        parts = [u.new_empty(groups, step, *B.shape[1:]) for _ in range(2)]  # zeroed by the kernel
        decay = None
        for b in blocks:
            decay = _decay(delta[b], A, decay)
            dB_parts, dC_parts = (p[:, : b.stop - b.start] for p in parts)
            _backward_kernel(
                u[b].numpy(), delta[b].numpy(), decay.numpy(), A.numpy(), B[b].numpy(),
                C[b].numpy(), grad_y[b].numpy(), groups, du[b].numpy(), ddelta[b].numpy(),
                dA_rows[b].numpy(), dB_parts.numpy(), dC_parts.numpy(),
            )  # fmt: skip
            torch.sum(dB_parts, 0, out=dB[b])
            torch.sum(dC_parts, 0, out=dC[b])
        return du, ddelta, dA_rows.sum(0), dB, dC


def numba_scan(u: torch.Tensor, delta: torch.Tensor, A: torch.Tensor, B: torch.Tensor, C: torch.Tensor) -> torch.Tensor:
    """The compiled scan without skip and gate: u, delta (N, D, L) (delta already the step sizes),
    A (D, S), B, C (N, S, L), float32 CPU tensors -> y (N, D, L)."""
    if not HAS_NUMBA:
        raise RuntimeError("the compiled scan needs numba (pip install numba)")
    Bt, Ct = (t.transpose(1, 2).contiguous() for t in (B, C))  # (N, L, S): d_state contiguous
    return _NumbaScan.apply(u.contiguous(), delta.contiguous(), A.contiguous(), Bt, Ct)


def compiled_selective_scan(
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
    """Selective scan on CPU with the numba kernels; arguments and result as mamba_ssm's
    selective_scan_fn: u, delta (N, D, L); A (D, S); B, C (N, S, L); D (D,); z (N, D, L);
    delta_bias (D,) -> y (N, D, L) float32."""
    u, A, B, C = (t.float() for t in (u, A, B, C))
    y = numba_scan(u, step_sizes(delta, delta_bias, delta_softplus), A, B, C)
    return skip_and_gate(y, u, D, z)
