"""Selective scan compiled for CPU with numba: the whole scan, forward and backward, as two kernels.

Why numba rather than a C++ extension: a torch C++ extension built at install time needs torch in
pip's isolated build environment (a second ~1 GB torch download, matching the installed one only by
luck) or `--no-build-isolation`, which breaks the README's plain `pip install`; numba is a wheel on
PyPI and conda-forge, compiles at first call and caches the machine code on disk (cache=True).

Everything element-wise around the recurrence is fused into the kernels: the step sizes
softplus(delta + delta_bias), the decays exp(dt A) (computed per position in registers by a
vectorisable exp, never stored for the batch), the skip D u and the gate y * SiLU(z), with their
derivatives in the backward. Outside them only the (N, L, S) layout of B and C is made; u, delta,
z, the output and the gradients may be any strided (N, D, L) views (the Mamba block's are channels
last, so its projections need no transposing copies).

Kernels work on one (batch, channel) row at a time, in parallel over batch x channels (prange), with
the inner loops over d_state contiguous (B, C laid out (N, L, S)) so LLVM vectorises them. The
forward keeps no states. The backward recomputes one row's step sizes, decays and states into
per-task (L, S) buffers, then runs the adjoint recurrence backwards through them: memory is
O(N D L), never L x S x D for the batch. Products of decays <= 1 only, no division or logarithm:
finite for any step size. Of fastmath only `reassoc` is on, in the kernels (it lets LLVM vectorise
the sums over d_state); the exp is a separate function without it. Threads: numba's follow
torch.get_num_threads(), and its pool is sized on first import (numba_pool): import this module
only where a kernel is about to run.
"""

from __future__ import annotations

import numpy as np
import torch

from .numba_pool import HAS_NUMBA, size_pool

if HAS_NUMBA:
    size_pool()
    import numba
    from llvmlite import ir
    from numba import njit, prange, types
    from numba.extending import intrinsic

    _LOG2E, _LN2_HI, _LN2_LO = np.float32(1.44269504088896341), np.float32(0.693359375), np.float32(-2.12194440e-4)
    _EXP_LO, _EXP_HI = np.float32(-87.33), np.float32(88.3)
    _P0, _P1, _P2 = np.float32(1.9875691500e-4), np.float32(1.3981999507e-3), np.float32(8.3334519073e-3)
    _P3, _P4, _P5 = np.float32(4.1665795894e-2), np.float32(1.6666665459e-1), np.float32(5.0000001201e-1)
    _ONE, _HALF, _ZERO, _TWENTY = np.float32(1.0), np.float32(0.5), np.float32(0.0), np.float32(20.0)
    _TWO, _Q3, _Q5, _Q7 = np.float32(2.0), np.float32(1 / 3), np.float32(1 / 5), np.float32(1 / 7)
    _Q9, _Q11, _Q13, _Q15 = np.float32(1 / 9), np.float32(1 / 11), np.float32(1 / 13), np.float32(1 / 15)

    @intrinsic
    def _float32_from_bits(typingctx, bits):  # noqa: ANN001, ANN202, ARG001 (numba intrinsic)
        """Reinterpret an integer's low 32 bits as a float32 (a truncation and a bitcast in LLVM)."""
        if not isinstance(bits, types.Integer):
            return None

        def codegen(context, builder, signature, args):  # noqa: ANN001, ANN202, ARG001
            value = args[0]
            if bits.bitwidth > 32:
                value = builder.trunc(value, ir.IntType(32))
            return builder.bitcast(value, ir.FloatType())

        return types.float32(bits), codegen

    @njit(cache=True)
    def _exp(x):  # noqa: ANN001, ANN202
        """exp of a float32 as float32 (Cephes expf: 2^k times a degree-7 polynomial, ~1 ulp) in
        plain arithmetic, so loops calling it vectorise. Inputs clamped to [-87.33, 88.3]: results
        below ~1e-38 come out as ~1e-38 instead of 0."""
        x = min(max(x, _EXP_LO), _EXP_HI)
        k = np.floor(x * _LOG2E + _HALF)
        r = x - k * _LN2_HI
        r = r - k * _LN2_LO
        p = ((((_P0 * r + _P1) * r + _P2) * r + _P3) * r + _P4) * r + _P5
        p = p * r * r + r + _ONE
        return p * _float32_from_bits((np.int32(k) + np.int32(127)) << np.int32(23))

    @njit(cache=True)
    def _softplus(x):  # noqa: ANN001, ANN202
        """softplus(x) and its slope sigmoid(x) of a float32 in branch-free arithmetic (loops over
        it vectorise): max(x, 0) + log1p(w), w = exp(-|x|), log1p(w) = 2 atanh(w / (2 + w)) by its
        odd series (w / (2 + w) <= 1/3: 8 terms). Above 20 the log1p term is below x's last bit, so
        this equals torch's softplus (x itself there)."""
        w = _exp(-abs(x))
        r = w / (_TWO + w)
        r2 = r * r
        series = _ONE + r2 * (_Q3 + r2 * (_Q5 + r2 * (_Q7 + r2 * (_Q9 + r2 * (_Q11 + r2 * (_Q13 + r2 * _Q15))))))
        inv = _ONE / (_ONE + w)
        return max(x, _ZERO) + _TWO * r * series, (w if x < _ZERO else _ONE) * inv

    @njit(cache=True)
    def _step_sizes(delta, bias, softplus, steps, slopes):  # noqa: ANN001, ANN202
        """One row: steps[t] = softplus(delta[t] + bias) (or delta[t] + bias), slopes[t] its derivative."""
        for t in range(steps.size):
            steps[t] = delta[t] + bias
        if softplus:
            for t in range(steps.size):
                steps[t], slopes[t] = _softplus(steps[t])
        else:
            slopes[:] = _ONE

    @njit(cache=True)
    def _sigmoid(x):  # noqa: ANN001, ANN202
        """1 / (1 + exp(-x)) for a float32, with the kernels' exp."""
        return _ONE / (_ONE + _exp(-x))

    @njit(parallel=True, cache=True, fastmath={"reassoc"})
    def _forward_kernel(u, delta, bias, softplus, A, B, C, Dskip, z, gate, y):  # noqa: ANN001, ANN202
        """y[n, d, t] = (C[n, t] . h_t + D[d] u) * SiLU(z) (gate only if gate), h_t = exp(dt A[d]) h_{t-1}
        + dt u B[n, t], dt = softplus(delta + bias[d]) (softplus only if softplus).

        u, delta, z, y (N, D, L), any strides; bias, Dskip (D,); A (D, S); B, C (N, L, S)
        C-contiguous; all float32.
        """
        n_batch, d_inner, length = u.shape
        d_state = B.shape[2]
        for row in prange(n_batch * d_inner):
            n, d = row // d_inner, row % d_inner
            h = np.zeros(d_state, dtype=np.float32)
            steps, slopes = np.empty(length, dtype=np.float32), np.empty(length, dtype=np.float32)
            _step_sizes(delta[n, d], bias[d], softplus, steps, slopes)
            a_row = A[d]
            for t in range(length):
                dt = steps[t]
                ut = u[n, d, t]
                drive = dt * ut
                b, c = B[n, t], C[n, t]
                acc = _ZERO
                for s in range(d_state):
                    h[s] = _exp(dt * a_row[s]) * h[s] + drive * b[s]
                    acc += c[s] * h[s]
                out = acc + Dskip[d] * ut
                if gate:
                    zt = z[n, d, t]
                    out = out * zt * _sigmoid(zt)
                y[n, d, t] = out

    @njit(parallel=True, cache=True, fastmath={"reassoc"})
    def _backward_kernel(  # noqa: ANN202
        u, delta, bias, softplus, A, B, C, Dskip, z, gate, grad_y, groups,  # noqa: ANN001
        du_out, ddelta_out, dz_out, dA_rows, dD_rows, dbias_rows, dB_parts, dC_parts,  # noqa: ANN001
    ):
        """Gradients of sum(grad_y * y) for the forward kernel's y, with respect to every input.

        Task (n, g) handles the channels d = g, g + groups, ... of sequence n: it recomputes a
        row's step sizes, decays and states into its buffers, then runs the adjoint recurrence
        backwards. It zeroes and fills its own slices dB_parts[g, n], dC_parts[g, n] (L, S) (the
        caller sums over g), so tasks never write to the same memory; dA_rows (N, D, S), dD_rows
        and dbias_rows (N, D) likewise, summed over n by the caller.
        """
        n_batch, d_inner, length = u.shape
        d_state = B.shape[2]
        for task in prange(n_batch * groups):
            n, g = task // groups, task % groups
            states = np.empty((length + 1, d_state), dtype=np.float32)  # states[t + 1] = h_t
            decay = np.empty((length, d_state), dtype=np.float32)
            steps = np.empty(length, dtype=np.float32)
            slopes = np.empty(length, dtype=np.float32)  # d step / d delta
            lam = np.empty(d_state, dtype=np.float32)
            dA_acc = np.empty(d_state, dtype=np.float64)
            dB, dC = dB_parts[g, n], dC_parts[g, n]
            dB[:] = 0.0
            dC[:] = 0.0
            for d in range(g, d_inner, groups):
                a_row, skip = A[d], Dskip[d]
                states[0] = 0.0
                _step_sizes(delta[n, d], bias[d], softplus, steps, slopes)
                for t in range(length):
                    dt = steps[t]
                    drive = dt * u[n, d, t]
                    a, b, h_prev, h = decay[t], B[n, t], states[t], states[t + 1]
                    for s in range(d_state):
                        a[s] = _exp(dt * a_row[s])
                        h[s] = a[s] * h_prev[s] + drive * b[s]
                lam[:] = 0.0  # holds decay_{t+1} * dL/dh_{t+1} at the top of each step
                dA_acc[:] = 0.0
                dD_acc, dbias_acc = 0.0, 0.0
                for t in range(length - 1, -1, -1):
                    gy, dt, ut = grad_y[n, d, t], steps[t], u[n, d, t]
                    a, b, c, h_prev, h = decay[t], B[n, t], C[n, t], states[t], states[t + 1]
                    g_out = gy
                    if gate:  # gy: dL/dy before the gate
                        zt = z[n, d, t]
                        sig = _sigmoid(zt)
                        gy = gy * zt * sig
                    dD_acc += gy * ut
                    drive = dt * ut
                    dC_t, dB_t = dC[t], dB[t]
                    ch, lam_b, dd = _ZERO, _ZERO, _ZERO
                    for s in range(d_state):  # one pass, three sums: vectorised over d_state
                        ch += c[s] * h[s]
                        lam_s = gy * c[s] + lam[s]  # dL/dh_t
                        dC_t[s] += gy * h[s]
                        dB_t[s] += lam_s * drive
                        lam_b += lam_s * b[s]
                        lam_s = a[s] * lam_s
                        lam[s] = lam_s
                        m_s = lam_s * h_prev[s]  # dL/d(decay_t) * decay_t
                        dd += m_s * a_row[s]
                        dA_acc[s] += m_s * dt
                    if gate:
                        dz_out[n, d, t] = g_out * (ch + skip * ut) * sig * (_ONE + zt * (_ONE - sig))
                    du_out[n, d, t] = dt * lam_b + gy * skip
                    g_delta = (ut * lam_b + dd) * slopes[t]
                    ddelta_out[n, d, t] = g_delta
                    dbias_acc += g_delta
                for s in range(d_state):
                    dA_rows[n, d, s] = dA_acc[s]
                dD_rows[n, d] = dD_acc
                dbias_rows[n, d] = dbias_acc


def like(t: torch.Tensor) -> torch.Tensor:
    """An empty (N, D, L) float32 tensor laid out as t: channels last ((N, L, D) memory) when t's
    channels are its unit stride, so the next projection reads it (or autograd sends its gradient)
    without a copy; else contiguous. The kernels read and write any strides."""
    if t.stride(1) == 1 and t.stride(2) != 1:
        return t.new_empty(t.shape[0], t.shape[2], t.shape[1], dtype=torch.float32).transpose(1, 2)
    return t.new_empty(t.shape, dtype=torch.float32)


def _threads() -> int:
    """numba's threads follow torch's (torch.set_num_threads), capped at numba's pool size."""
    return max(1, min(torch.get_num_threads(), numba.config.NUMBA_NUM_THREADS))


class _NumbaScan(torch.autograd.Function):
    """The whole selective scan (step sizes, skip and gate included; float32, CPU).

    u, delta, z (N, D, L); delta_bias, D (D,); A (D, S); B, C (N, L, S) -> y (N, D, L).
    `gate` False: z is ignored (and gets no gradient).
    """

    @staticmethod
    def forward(ctx, u, delta, delta_bias, softplus, A, B, C, D, z, gate):  # noqa: ANN001, ANN205
        ctx.save_for_backward(u, delta, delta_bias, A, B, C, D, z)
        ctx.softplus, ctx.gate = softplus, gate
        y = like(u)
        numba.set_num_threads(_threads())
        _forward_kernel(
            u.numpy(), delta.numpy(), delta_bias.numpy(), softplus, A.numpy(), B.numpy(), C.numpy(),
            D.numpy(), z.numpy(), gate, y.numpy(),
        )  # fmt: skip
        return y

    @staticmethod
    def backward(ctx, grad_y):  # noqa: ANN001, ANN205
        u, delta, delta_bias, A, B, C, D, z = ctx.saved_tensors
        grad_y = grad_y.float()
        n_batch, d_inner = u.shape[:2]
        threads = _threads()
        du, ddelta, dz = like(u), like(delta), like(z)
        dA_rows = u.new_empty(n_batch, d_inner, A.shape[1])
        dD_rows, dbias_rows = u.new_empty(n_batch, d_inner), u.new_empty(n_batch, d_inner)
        groups = max(1, min(d_inner, -(-2 * threads // n_batch)))  # >= 2 tasks per thread
        dB_parts, dC_parts = (u.new_empty(groups, *B.shape) for _ in range(2))  # zeroed by the kernel
        numba.set_num_threads(threads)
        _backward_kernel(
            u.numpy(), delta.numpy(), delta_bias.numpy(), ctx.softplus, A.numpy(), B.numpy(), C.numpy(),
            D.numpy(), z.numpy(), ctx.gate, grad_y.numpy(), groups, du.numpy(), ddelta.numpy(), dz.numpy(),
            dA_rows.numpy(), dD_rows.numpy(), dbias_rows.numpy(), dB_parts.numpy(), dC_parts.numpy(),
        )  # fmt: skip
        dB = dB_parts[0] if groups == 1 else dB_parts.sum(0)
        dC = dC_parts[0] if groups == 1 else dC_parts.sum(0)
        dz = dz if ctx.gate else None
        return du, ddelta, dbias_rows.sum(0), None, dA_rows.sum(0), dB, dC, dD_rows.sum(0), dz, None


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
    delta_bias (D,) -> y (N, D, L) float32, channels last in memory when u is (see `like`). Step
    sizes, skip D u and gate y * SiLU(z) are computed inside the kernels; absent D / delta_bias
    enter as zeros."""
    if not HAS_NUMBA:
        raise RuntimeError("the compiled scan needs numba (pip install numba)")
    u, delta, A = u.float(), delta.float(), A.float().contiguous()  # u, delta: any strides
    Bt, Ct = (t.float().transpose(1, 2).contiguous() for t in (B, C))  # (N, L, S): d_state contiguous
    zeros = u.new_zeros(u.shape[1])
    D = zeros if D is None else D.float().contiguous()
    delta_bias = zeros if delta_bias is None else delta_bias.float().contiguous()
    gate = z is not None
    z = z.float() if gate else u  # u: a placeholder the kernels never read
    return _NumbaScan.apply(u, delta, delta_bias, bool(delta_softplus), A, Bt, Ct, D, z, gate)


if HAS_NUMBA:

    @njit(cache=True)
    def _elementwise_all(x):  # noqa: ANN001, ANN202
        """_exp, and _softplus's softplus and slope, of every element of a float32 array (tests)."""
        out = np.empty((3, x.size), dtype=np.float32)
        for i in range(x.size):
            out[0, i] = _exp(x[i])
            out[1, i], out[2, i] = _softplus(x[i])
        return out
