"""The Mamba kernel path that ran (fused mamba_ssm kernels or the pure-PyTorch scan) is named in
the fold's log and metrics.json; the PyTorch scan's float32 under autocast and its GPU block size."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from mtmixg.train import train_fold
from mtmixg.models.architectures import build_model
from mtmixg.ops import chunked_selective_scan, kernel_path, selective_scan, selective_scan_ref
from mtmixg.ops.chunked_scan import BLOCK_ELEMENTS, _blocks, cuda_block_elements
from mtmixg.ops import fused_kernels
from mtmixg.ops.numba_pool import HAS_NUMBA
from mtmixg.core.train_config import TrainConfig
from training_data import make_windows, tiny_model


CPU_PATH = "numba" if HAS_NUMBA else "pure"  # the compiled CPU kernels, else the chunked scan


def test_kernel_path_of_models_on_cpu() -> None:
    assert kernel_path(build_model(tiny_model(arch="cnn_mamba")), "cpu") == CPU_PATH
    assert kernel_path(build_model(tiny_model(arch="cnn")), "cpu") == "none"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_kernel_path_on_cuda_follows_the_installed_kernels() -> None:
    expected = "fused" if fused_kernels().available else "pure"
    assert kernel_path(build_model(tiny_model(arch="cnn_mamba")), "cuda") == expected


def test_fold_log_and_metrics_name_the_kernel_path(tmp_path: Path) -> None:
    make_windows(tmp_path / "w", n_per_chrom=30)
    lines: list[str] = []
    cfg = TrainConfig(epochs=1, batch_size=16, device="cpu", threads=1)
    metrics = train_fold(tmp_path / "w", "chr1", "binary", tiny_model(arch="cnn_mamba"), cfg, 0, tmp_path / "o", log=lines.append)
    assert metrics["kernel_path"] == CPU_PATH
    assert json.loads((tmp_path / "o/metrics.json").read_text())["kernel_path"] == CPU_PATH
    assert f"fold chr1: Mamba kernel path {CPU_PATH} on cpu" in lines


def _scan_inputs(n: int, d: int, s: int, length: int) -> list[torch.Tensor]:
    """u, delta, A, B, C, D, z, delta_bias of a selective scan, leaves requiring grad."""
    g = torch.Generator().manual_seed(3)
    shapes = [(n, d, length), (n, d, length), (d, s), (n, s, length), (n, s, length), (d,), (n, d, length), (d,)]
    leaves = [torch.randn(*shape, generator=g) for shape in shapes]
    leaves[2] = -torch.rand(d, s, generator=g) - 0.5  # A < 0
    return [t.requires_grad_() for t in leaves]


def _values_and_grads(scan, inputs: list[torch.Tensor], **kwargs) -> list[torch.Tensor]:  # noqa: ANN001
    """The scan's output and the gradient of every input (delta through softplus, as Mamba runs it)."""
    u, delta, A, B, C, D, z, bias = inputs
    y = scan(u, delta, A, B, C, D, z, delta_bias=bias, delta_softplus=True, **kwargs)
    grads = torch.autograd.grad((y * torch.linspace(-1, 1, y.numel()).view_as(y)).sum(), inputs)
    return [y.detach(), *grads]


@pytest.mark.parametrize("scan", [chunked_selective_scan, selective_scan], ids=["chunked", "dispatch"])
def test_scan_stays_float32_under_bf16_autocast(scan) -> None:  # noqa: ANN001
    """Under autocast the scan (forward and backward) is computed in float32: equal to an fp32 run."""
    inputs = _scan_inputs(2, 8, 4, 150)
    expected = _values_and_grads(scan, inputs)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        got = _values_and_grads(scan, inputs)
    assert got[0].dtype == torch.float32
    for name, a, b in zip(["y", "du", "ddelta", "dA", "dB", "dC", "dD", "dz", "dbias"], got, expected):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4, msg=lambda m, name=name: f"{name}: {m}")


def test_cuda_block_size_equals_the_reference_on_cpu_tensors() -> None:
    """The block size the chunked scan takes on an 80 GiB GPU (one block here, four at the CPU's size)
    gives the reference scan's values and gradients."""
    n, d, s, length = 4, 64, 16, 1000
    gpu_elements = cuda_block_elements(80 << 30)
    per_row = s * 1024  # L padded to a multiple of the chunk (32)
    assert len(_blocks(n, d, per_row, gpu_elements)) == 1 < len(_blocks(n, d, per_row, BLOCK_ELEMENTS)) == 4
    inputs = _scan_inputs(n, d, s, length)
    expected = _values_and_grads(selective_scan_ref, inputs)
    for got in (_values_and_grads(chunked_selective_scan, inputs, elements=gpu_elements),
                _values_and_grads(chunked_selective_scan, inputs, elements=BLOCK_ELEMENTS)):  # fmt: skip
        for a, b in zip(got, expected):
            torch.testing.assert_close(a, b, atol=2e-4, rtol=1e-4)
