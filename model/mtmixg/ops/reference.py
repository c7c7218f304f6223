"""Sequential selective scan: the plain per-position recurrence, the reference for tests."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def step_sizes(delta: torch.Tensor, delta_bias: torch.Tensor | None, delta_softplus: bool) -> torch.Tensor:
    """The scan's step sizes in float32: delta (N, D, L) + delta_bias (D,), through softplus if asked."""
    delta = delta.float()
    if delta_bias is not None:
        delta = delta + delta_bias.float()[:, None]
    return F.softplus(delta) if delta_softplus else delta


def skip_and_gate(y: torch.Tensor, u: torch.Tensor, D: torch.Tensor | None, z: torch.Tensor | None) -> torch.Tensor:
    """y + D u, times SiLU(z) when z is given; all (N, D, L) (D: (D,))."""
    if D is not None:
        y = y + u.float() * D.float()[:, None]
    return y * F.silu(z.float()) if z is not None else y


def selective_scan_ref(
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
    """h_t = exp(delta_t A) h_{t-1} + delta_t u_t B_t;  y_t = C_t . h_t + D u_t;  y *= SiLU(z).

    u, delta (N, D, L); A (D, S); B, C (N, S, L); D (D,); z (N, D, L); delta_bias (D,).
    Returns y (N, D, L) in float32. One Python step per position: slow, for tests only.
    """
    u, A, B, C = (t.float() for t in (u, A, B, C))
    delta = step_sizes(delta, delta_bias, delta_softplus)
    decay = torch.exp(delta.unsqueeze(-1) * A[:, None, :])  # (N, D, L, S)
    drive = (delta * u).unsqueeze(-1) * B.transpose(1, 2).unsqueeze(1)  # (N, D, L, S)
    h = u.new_zeros(u.shape[0], u.shape[1], A.shape[1])
    ys = []  # unbind, not indexing: indexing's backward would allocate a full-size gradient per step
    for decay_t, drive_t, c_t in zip(decay.unbind(2), drive.unbind(2), C.unbind(-1)):
        h = decay_t * h + drive_t
        ys.append((h * c_t[:, None, :]).sum(-1))
    y = torch.stack(ys, dim=-1)
    return skip_and_gate(y, u, D, z)
