"""The Mamba block (selective state-space model), parameter-compatible with mamba_ssm's `Mamba`."""

from __future__ import annotations

import math

import torch
from torch import nn

from ..ops import causal_conv1d, fused_kernels, selective_scan

BACKENDS: tuple[str, ...] = ("auto", "pure", "fused")
"""auto: fused kernels on CUDA when installed, else pure; pure: always the PyTorch scan; fused: require the kernels."""


class Mamba(nn.Module):
    """in_proj -> causal depthwise conv + SiLU -> selective SSM (input-dependent dt, B, C) -> gate
    by SiLU(z) -> out_proj.  (N, L, d_model) -> (N, L, d_model).

    Parameter names and shapes equal mamba_ssm's `Mamba` (A_log, D, in_proj, conv1d, x_proj,
    dt_proj, out_proj), so one state_dict loads on either backend (and in mambapy's MambaBlock).
    The scan receives z: softplus(dt + bias), the D skip and the gate y * SiLU(z) run inside it
    (inside the compiled kernels on CPU with numba, see ops/numba_scan.py).
    """

    def __init__(
        self,
        d_model: int,
        d_state: int = 16,
        d_conv: int = 4,
        expand: int = 2,
        dt_min: float = 0.001,
        dt_max: float = 0.1,
        dt_init_floor: float = 1e-4,
        backend: str = "auto",
    ) -> None:
        super().__init__()
        if backend not in BACKENDS:
            raise ValueError(f"unknown Mamba backend '{backend}'; choose one of: {', '.join(BACKENDS)}")
        self.backend = backend
        self.d_inner = expand * d_model
        self.d_state = d_state
        self.dt_rank = math.ceil(d_model / 16)
        self.in_proj = nn.Linear(d_model, 2 * self.d_inner, bias=False)
        self.conv1d = nn.Conv1d(self.d_inner, self.d_inner, d_conv, groups=self.d_inner, padding=d_conv - 1)
        self.x_proj = nn.Linear(self.d_inner, self.dt_rank + 2 * d_state, bias=False)
        self.dt_proj = nn.Linear(self.dt_rank, self.d_inner, bias=True)
        nn.init.uniform_(self.dt_proj.weight, -(self.dt_rank**-0.5), self.dt_rank**-0.5)
        dt = torch.exp(torch.rand(self.d_inner) * (math.log(dt_max) - math.log(dt_min)) + math.log(dt_min))
        dt = dt.clamp(min=dt_init_floor)
        with torch.no_grad():
            self.dt_proj.bias.copy_(dt + torch.log(-torch.expm1(-dt)))  # inverse softplus
        self.A_log = nn.Parameter(torch.log(torch.arange(1, d_state + 1, dtype=torch.float32).repeat(self.d_inner, 1)))
        self.D = nn.Parameter(torch.ones(self.d_inner))
        self.out_proj = nn.Linear(self.d_inner, d_model, bias=False)

    def uses_fused(self, device_type: str) -> bool:
        """Whether this block runs the fused kernels on a device of device_type ("cuda", "cpu", ...).
        Imports them (ops.fused_kernels) on CUDA only, or when the backend is 'fused'."""
        if self.backend == "fused":
            kernels = fused_kernels()
            if not kernels.available:
                raise RuntimeError(f"Mamba backend 'fused' needs mamba_ssm and causal_conv1d:\n{kernels.problem()}")
            if device_type != "cuda":
                raise RuntimeError("Mamba backend 'fused' runs on CUDA only; move the model to a GPU or use 'auto'")
            return True
        return self.backend == "auto" and device_type == "cuda" and fused_kernels().available

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        """(N, L, d_model) -> (N, L, d_model)."""
        fused = self.uses_fused(hidden.device.type)
        x, z = self.in_proj(hidden).transpose(1, 2).chunk(2, dim=1)  # (N, d_inner, L) each
        x = causal_conv1d(x, self.conv1d.weight, self.conv1d.bias, fused=fused)
        dt, B, C = self.x_proj(x.transpose(1, 2)).split([self.dt_rank, self.d_state, self.d_state], dim=-1)
        dt = (dt @ self.dt_proj.weight.t()).transpose(1, 2)  # (N, d_inner, L); bias added in the scan
        B, C = B.transpose(1, 2), C.transpose(1, 2)  # (N, d_state, L); each scan lays them out itself
        A = -torch.exp(self.A_log.float())
        scan = fused_kernels().selective_scan if fused else selective_scan
        y = scan(
            x, dt, A, B, C, self.D.float(), z=z,
            delta_bias=self.dt_proj.bias.float(), delta_softplus=True,
        )  # fmt: skip
        return self.out_proj(y.transpose(1, 2).to(hidden.dtype))
