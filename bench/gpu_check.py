"""One-GPU check: prints one markdown table (run through bench/gpu_check.sh).

    bench/gpu_check.sh [--windows 4000] [--repeats 3] [--batch 64] [--archs mtmixg cnn ...]
    bench/gpu_check.sh --cpu-smoke     # the same code paths on the CPU, tiny sizes (no GPU here)

Rows: the fused kernels' import (OK, or the import's traceback); the CUDA tests (tests/test_cuda.py,
tests/test_kernel_path.py); fused vs pure scan when mamba_ssm imports: values and parameter
gradients of the Mamba block and of full-size mtmixg, in fp32 and under bf16 autocast; seq/s of one training step
(forward + BCE + backward + Adam) per arch at L = 3,020, batch 64, AMP on and off; one training
epoch of full-size mtmixg on synthetic 3,020-bp windows (mtmixg.train.train_fold, as the workflow).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from mtmixg.data.dataset import GeneWindows, save_windows
from mtmixg.train import train_fold
from mtmixg.core.model_config import ModelConfig
from mtmixg.core.names import ARCHITECTURES
from mtmixg.models.architectures import build_model
from mtmixg.models.mamba import Mamba
from mtmixg.ops import fused_kernels
from mtmixg.core.window_spec import WindowSpec

from bench_model import _seconds  # one timer (CUDA-synchronised) for both benchmarks
from mtmixg.core.train_config import TrainConfig

REPO = Path(__file__).resolve().parents[1]
SPEC = WindowSpec()  # DeepCRE's 3,020-bp window
ROWS: list[tuple[str, str, str]] = []


def row(check: str, setting: str, result: str) -> None:
    ROWS.append((check, setting, result))
    print(f"  {check} | {setting} | {result}", file=sys.stderr, flush=True)  # progress


def rate(value: float) -> str:
    """A throughput with 3 significant figures: 0.412, 41.2, 4,120."""
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def one_hot(n: int, device: str) -> torch.Tensor:
    """(n, 4, L) random one-hot windows."""
    codes = torch.randint(0, 4, (n, SPEC.length), device=device)
    return torch.nn.functional.one_hot(codes, 4).permute(0, 2, 1).float()


def timed(step, repeats: int, device: str) -> float:  # noqa: ANN001
    """Median seconds of step() over repeats runs, after one warm-up run."""
    step()
    times = sorted(_seconds(step, device) for _ in range(repeats))
    return times[len(times) // 2]


def cuda_tests() -> None:
    """The CUDA tests, summarised in one row (pytest's last line)."""
    files = ["tests/test_cuda.py", "tests/test_kernel_path.py"]
    if shutil.which("pytest") is None and subprocess.run([sys.executable, "-c", "import pytest"]).returncode:
        row("CUDA tests", " ".join(files), "not run: pytest is not installed")
        return
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *files],
                          cwd=REPO, capture_output=True, text=True)  # fmt: skip
    last = (done.stdout.strip().splitlines() or ["no output"])[-1]
    row("CUDA tests", " ".join(files), f"{'ok' if done.returncode == 0 else 'FAILED'}: {last}")


def fused_import(device: str) -> None:
    """Whether the fused kernels import: OK, or why (the import's traceback, on one table line)."""
    if device != "cuda":
        row("fused import", "mamba_ssm, causal_conv1d", "skipped: no CUDA (never imported on CPU)")
        return
    kernels = fused_kernels()
    why = " / ".join(line for line in kernels.problem().splitlines() if line.strip())
    row("fused import", "mamba_ssm, causal_conv1d", "OK" if kernels.available else f"FAILED: {why.replace('|', '/')}")


def max_diffs(fused: torch.nn.Module, pure: torch.nn.Module, x: torch.Tensor, amp: bool) -> tuple[float, float]:
    """Max abs difference of the outputs and max relative difference of the parameter gradients
    (loss: the outputs' sum), fused vs pure, with bf16 autocast when amp."""
    results = []
    for model in (fused, pure):
        model.zero_grad(set_to_none=True)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=amp):
            out = model(x).float()
        out.sum().backward()
        results.append((out.detach(), {n: p.grad.float() for n, p in model.named_parameters() if p.grad is not None}))
    (out_f, grads_f), (out_p, grads_p) = results
    grad_diff = max(((grads_f[n] - g).abs().max() / g.abs().max().clamp(min=1e-6)).item() for n, g in grads_p.items())
    return (out_f - out_p).abs().max().item(), grad_diff


def fused_equality(device: str) -> None:
    """Fused vs pure: Mamba block (d_model 32) and full-size mtmixg, same weights, fp32 and bf16:
    max abs diff of the values, max relative diff of the parameter gradients."""
    if not fused_kernels().available or device != "cuda":
        why = "mamba_ssm / causal_conv1d do not import" if device == "cuda" else "no CUDA"
        row("fused vs pure", "Mamba block, mtmixg", f"skipped: {why}")
        return
    torch.manual_seed(0)
    pure = Mamba(32, backend="pure").cuda()
    fused = Mamba(32, backend="fused").cuda()
    fused.load_state_dict(pure.state_dict())
    cfg = ModelConfig(arch="mtmixg", seq_len=SPEC.length, dropout=0.0)
    auto = build_model(cfg).cuda().train()
    ref = build_model(cfg, mamba_backend="pure").cuda().train()
    ref.load_state_dict(auto.state_dict())
    cases = [("Mamba block d_model 32, batch 8", fused, pure, torch.randn(8, SPEC.length, 32, device="cuda")),
             ("mtmixg full size, batch 16, logits", auto, ref, one_hot(16, "cuda"))]  # fmt: skip
    for amp in (False, True):
        if amp and not torch.cuda.is_bf16_supported():
            row("fused vs pure", "bf16", "skipped: no bf16 on this GPU")
            continue
        for setting, a, b, x in cases:
            values, grads = max_diffs(a, b, x, amp)
            row("fused vs pure", f"{setting}, {'bf16 autocast' if amp else 'fp32'}",
                f"values max abs diff {values:.1e}, parameter gradients max rel diff {grads:.1e}")  # fmt: skip


def throughput(archs: list[str], batch: int, repeats: int, device: str) -> None:
    """seq/s of one training step per arch, AMP (bf16, else fp16) on and off."""
    amp_dtype = torch.bfloat16 if device == "cuda" and torch.cuda.is_bf16_supported() else torch.float16
    for arch in archs:
        torch.manual_seed(0)
        model = build_model(ModelConfig(arch=arch, seq_len=SPEC.length)).to(device)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
        x, y = one_hot(batch, device), torch.randint(0, 2, (batch, 1), device=device).float()
        for amp in ([True, False] if device == "cuda" else [False]):

            def step() -> None:
                optimizer.zero_grad(set_to_none=True)
                with torch.autocast(device_type=device, dtype=amp_dtype, enabled=amp):
                    loss = torch.nn.functional.binary_cross_entropy_with_logits(model(x).float(), y)
                loss.backward()
                optimizer.step()

            seconds = timed(step, repeats, device)
            label = f"AMP {str(amp_dtype).removeprefix('torch.')}" if amp else "AMP off"
            row(f"train step {arch}", f"L {SPEC.length}, batch {batch}, {label}", f"{rate(batch / seconds)} seq/s")
        del model, optimizer
        if device == "cuda":
            torch.cuda.empty_cache()


def synthetic_windows(folder: Path, n: int) -> None:
    """n random 3,020-bp windows on chr1..chr3, labels cycling low/medium/high on every chromosome
    (mtmixg.data.dataset layout): each fold's training genes hold every class."""
    rng = np.random.default_rng(0)
    labels = np.tile([-1, 0, 1], n // 3 + 1)[:n]
    chrom = np.array(["chr1", "chr2", "chr3"])[(np.arange(n) // 3) % 3]
    genes = pd.DataFrame({
        "gene_id": [f"g{i:06d}" for i in range(n)], "chrom": chrom, "start": np.arange(n) * 10_000,
        "end": np.arange(n) * 10_000 + 3_000, "strand": "+", "logMaxTPM": labels + 1.0, "label": labels,
        "fold": chrom,
    })  # fmt: skip
    save_windows(folder, GeneWindows(rng.integers(0, 4, (n, SPEC.length), dtype=np.uint8), genes, SPEC))


def one_epoch(n_windows: int, batch: int, device: str) -> None:
    """One epoch of full-size mtmixg (train_fold, fold chr1, binary), as a workflow job runs it."""
    with tempfile.TemporaryDirectory() as tmp:
        synthetic_windows(Path(tmp) / "w", n_windows)
        cfg = TrainConfig(epochs=1, batch_size=batch, device=device, warmup_epochs=0, allow_pure_kernels=True)
        start = time.perf_counter()
        m = train_fold(Path(tmp) / "w", "chr1", "binary", ModelConfig(arch="mtmixg"), cfg, 0, Path(tmp) / "o", log=None)
        wall = time.perf_counter() - start
    n_train = m.get("n_train", "?")
    row("one epoch mtmixg", f"{n_windows} windows ({n_train} train), batch {batch}, {m['device']}",
        f"{wall:.1f} s wall, {rate(m.get('seq_per_s') or 0)} seq/s, kernel path {m.get('kernel_path', '?')}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--windows", type=int, default=4000, help="synthetic windows of the epoch (default 4000)")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--archs", nargs="+", default=list(ARCHITECTURES), choices=ARCHITECTURES)
    parser.add_argument("--skip-tests", action="store_true", help="do not run the CUDA tests")
    parser.add_argument("--cpu-smoke", action="store_true",
                        help="no GPU: run every step on the CPU at tiny sizes (batch 2, 1 repeat, 60 windows)")  # fmt: skip
    args = parser.parse_args()
    if args.cpu_smoke:
        device, args.batch, args.repeats, args.windows = "cpu", 2, 1, 60
    elif torch.cuda.is_available():
        device = "cuda"
    else:
        sys.exit("gpu_check: no CUDA GPU visible (torch.cuda.is_available() is False); use --cpu-smoke to check the script")
    name = torch.cuda.get_device_name(0) if device == "cuda" else "CPU (smoke run)"
    print(f"torch {torch.__version__}, {name}", file=sys.stderr)
    start = time.perf_counter()
    fused_import(device)
    if not args.skip_tests:
        cuda_tests()
    fused_equality(device)
    throughput(args.archs, args.batch, args.repeats, device)
    one_epoch(args.windows, args.batch, device)
    print(f"\n## GPU check: {name}, torch {torch.__version__}, {time.perf_counter() - start:.0f} s\n")
    print("| check | setting | result |")
    print("|---|---|---|")
    for check, setting, result in ROWS:
        print(f"| {check} | {setting} | {result} |")


if __name__ == "__main__":
    main()
