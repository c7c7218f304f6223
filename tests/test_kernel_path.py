"""The Mamba kernel path that ran (fused mamba_ssm kernels or the pure-PyTorch scan) is named in
the fold's log and metrics.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from mtmixg.train import train_fold
from mtmixg.models import build_model
from mtmixg.ops import kernel_path
from mtmixg.ops import fused_kernels
from mtmixg.ops.numba_scan import HAS_NUMBA
from mtmixg.training import TrainConfig
from training_data import make_windows, tiny_model


CPU_PATH = "numba" if HAS_NUMBA else "pure"  # the compiled CPU kernels, else the chunked scan


def test_kernel_path_of_models_on_cpu() -> None:
    assert kernel_path(build_model(tiny_model(variant="cnn_mamba")), "cpu") == CPU_PATH
    assert kernel_path(build_model(tiny_model(variant="cnn")), "cpu") == "none"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_kernel_path_on_cuda_follows_the_installed_kernels() -> None:
    expected = "fused" if fused_kernels().available else "pure"
    assert kernel_path(build_model(tiny_model(variant="cnn_mamba")), "cuda") == expected


def test_fold_log_and_metrics_name_the_kernel_path(tmp_path: Path) -> None:
    make_windows(tmp_path / "w", n_per_chrom=30)
    lines: list[str] = []
    cfg = TrainConfig(epochs=1, batch_size=16, device="cpu", threads=1)
    metrics = train_fold(tmp_path / "w", "chr1", "binary", tiny_model(variant="cnn_mamba"), cfg, 0, tmp_path / "o", log=lines.append)
    assert metrics["kernel_path"] == CPU_PATH
    assert json.loads((tmp_path / "o/metrics.json").read_text())["kernel_path"] == CPU_PATH
    assert f"fold chr1: Mamba kernel path {CPU_PATH} on cpu" in lines
