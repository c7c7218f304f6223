"""mamba_ssm / causal_conv1d fused CUDA kernels (the `gpu` extra), imported on first use.

Importing this module imports neither: mamba_ssm pulls in triton, and triton < 3.4 (PyTorch 2.7's)
queries the CUDA device count on import, which fixes the devices before
mtmixg.core.gpus.claim_gpu() can set CUDA_VISIBLE_DEVICES. `fused_kernels()` imports them the first
time a CUDA tensor (or the kernel-path check of a training run on CUDA) needs them, and remembers
the outcome, the import's traceback included.
"""

from __future__ import annotations

import functools
import importlib
import traceback
from collections.abc import Callable
from dataclasses import dataclass

import torch

from .numba_pool import HAS_NUMBA

INSTALL_HINT = "pip install 'mtmixg[gpu]', or the workflow's envs/pytorch-cuda.yaml"
ALLOW_HINT = "set gpu.allow_pure_kernels: true (mtmixg train --allow-pure-kernels) to train with the slow PyTorch scan on purpose"


class FusedKernelsError(RuntimeError):
    """A training run on CUDA would use the slow PyTorch scan because the fused kernels do not import."""


@dataclass(frozen=True)
class FusedKernels:
    """The fused kernels, or None each, with why: `missing` (packages not installed) and `broken`
    (installed packages whose import failed, with the traceback)."""

    selective_scan: Callable | None
    causal_conv1d: Callable | None
    missing: tuple[str, ...] = ()
    broken: tuple[str, ...] = ()

    @property
    def available(self) -> bool:
        return self.selective_scan is not None and self.causal_conv1d is not None

    def problem(self) -> str:
        """Why they are unavailable: one line per missing package, then each broken import's traceback."""
        lines = [f"{name} is not installed ({INSTALL_HINT})" for name in self.missing]
        return "\n".join(lines + list(self.broken))


def _import(package: str, module: str, name: str) -> tuple[Callable | None, str | None, str | None]:
    """(function, None, None) when `module.name` imports; (None, package, None) when `package` itself
    is not installed; (None, None, traceback) when anything else fails (an installed but broken package)."""
    try:
        return getattr(importlib.import_module(module), name), None, None
    except ModuleNotFoundError as err:
        if err.name == package:
            return None, package, None
        why = traceback.format_exc()
    except Exception:  # noqa: BLE001 - a broken CUDA extension raises anything (OSError, RuntimeError, ...)
        why = traceback.format_exc()
    return None, None, f"import {module} failed (installed but broken):\n{why.rstrip()}"


@functools.cache
def fused_kernels() -> FusedKernels:
    """Import mamba_ssm's selective_scan_fn and causal_conv1d_fn once (never at package import)."""
    scan, scan_missing, scan_broken = _import("mamba_ssm", "mamba_ssm.ops.selective_scan_interface", "selective_scan_fn")
    conv, conv_missing, conv_broken = _import("causal_conv1d", "causal_conv1d", "causal_conv1d_fn")
    return FusedKernels(
        scan, conv,
        missing=tuple(p for p in (scan_missing, conv_missing) if p),
        broken=tuple(b for b in (scan_broken, conv_broken) if b),
    )  # fmt: skip


def fused_available(x: torch.Tensor) -> bool:
    """True when x lives on a CUDA device and both fused kernels import (imported here, first time)."""
    return x.is_cuda and fused_kernels().available


def _mamba_blocks(model: torch.nn.Module) -> list[torch.nn.Module]:
    return [m for m in model.modules() if hasattr(m, "uses_fused")]


def kernel_path(model: torch.nn.Module, device: str | torch.device) -> str:
    """Which Mamba kernels `model` runs on `device`: 'fused' (mamba_ssm / causal_conv1d CUDA
    kernels), 'numba' (the compiled CPU kernels, ops.numba_scan / numba_conv), 'pure' (the chunked
    PyTorch scan and convolution) or 'none' (no Mamba block). Imports the fused kernels on CUDA only."""
    device_type = torch.device(device).type
    blocks = _mamba_blocks(model)
    if not blocks:
        return "none"
    if all(m.uses_fused(device_type) for m in blocks):
        return "fused"
    return "numba" if HAS_NUMBA and device_type == "cpu" else "pure"


def check_kernel_path(
    model: torch.nn.Module, device: str | torch.device, allow_pure: bool, log: Callable[[str], None] | None
) -> str:
    """The kernel path of a training run (kernel_path), decided once before training.

    On CUDA, Mamba blocks that would take the fused kernels but cannot (an import failure) are a
    FusedKernelsError naming why (the import's traceback for an installed but broken package), unless
    allow_pure: then why is logged (one line for a package not installed, else the traceback) and
    the run goes on with the PyTorch scan. On CPU nothing is imported: the numba kernels are the CPU path.
    """
    path = kernel_path(model, device)
    wants_fused = any(m.backend != "pure" for m in _mamba_blocks(model))
    if path != "pure" or torch.device(device).type != "cuda" or not wants_fused:
        return path
    kernels = fused_kernels()
    if not allow_pure:
        raise FusedKernelsError(
            "the fused Mamba kernels (mamba_ssm, causal_conv1d) do not import on this CUDA device, so "
            f"training would run the slow PyTorch scan; fix the environment or {ALLOW_HINT}:\n{kernels.problem()}"
        )
    if log:
        log(f"Mamba kernels: the PyTorch scan on CUDA (allow_pure_kernels): {kernels.problem()}")
    return path
