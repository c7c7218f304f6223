"""Benchmark the models and the Mamba block at L = 3,020 on CPU; prints markdown tables.

    python bench/bench_model.py [--batch 8] [--rounds 5] [--threads 2] [--archs ...] [--rss-batch 64] [--quick]

All timings of one run are taken in turns: each round times one training step (forward + BCE +
backward + Adam) of every arch and one forward + backward of every Mamba block implementation,
so machine noise (a shared machine) hits all of them alike. Reported: the median over rounds of
each time, and the median over rounds of each per-round ratio. Every model is warmed up first, so
numba's first-call compilation (cached on disk after the first run) stays out of the timings; its
cost is printed separately.

Table 1: training step per arch. Table 2: the three goal ratios (mtmixg / cnn step,
cnn_attention / cnn step, Mamba block speed-up over mambapy's MambaBlock, the `bench` extra).
Table 3: the Mamba block (d_model 32, as in MTMixG's branch) per scan, with the max abs difference
of its output from the sequential reference. Table 4: peak RSS (getrusage high-water mark) of
an `mtmixg` training step at --rss-batch, in a subprocess of its own. On CUDA also fused vs pure.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

import torch

import mtmixg.models.mamba as mamba_module
from mtmixg.core.model_config import ModelConfig
from mtmixg.core.names import ARCHITECTURES
from mtmixg.models.architectures import build_model
from mtmixg.models.mamba import Mamba
from mtmixg.ops import HAS_NUMBA, chunked_selective_scan, fused_available, selective_scan_ref

SEQ_LEN = 3020


def _one_hot(n: int, device: str = "cpu") -> torch.Tensor:
    codes = torch.randint(0, 4, (n, SEQ_LEN))
    return torch.nn.functional.one_hot(codes, 4).permute(0, 2, 1).float().to(device)


def _seconds(step: Callable[[], None], device: str = "cpu") -> float:
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    step()
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def train_step(arch: str, batch: int) -> tuple[Callable[[], None], int]:
    """A closure running one training step of arch on a random one-hot batch, and its parameter count."""
    model = build_model(ModelConfig(arch=arch))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    x, y = _one_hot(batch), torch.randint(0, 2, (batch, 1)).float()

    def step() -> None:
        optimizer.zero_grad()
        torch.nn.functional.binary_cross_entropy_with_logits(model(x), y).backward()
        optimizer.step()

    return step, sum(p.numel() for p in model.parameters())


class _WithScan(torch.nn.Module):
    """Our Mamba block with the scan function swapped in for its forward (mamba.py calls
    `selective_scan` by module-level name)."""

    def __init__(self, block: Mamba, scan: Callable) -> None:
        super().__init__()
        self.block, self.scan = block, scan

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        saved = mamba_module.selective_scan
        mamba_module.selective_scan = self.scan
        try:
            return self.block(x)
        finally:
            mamba_module.selective_scan = saved


def mamba_blocks(batch: int) -> tuple[dict[str, torch.nn.Module], torch.Tensor]:
    """The Mamba block implementations (same weights) and their input (batch, L, 32)."""
    ours = Mamba(32, backend="pure")
    blocks: dict[str, torch.nn.Module] = {"mtmixg (default CPU scan)": ours}
    if HAS_NUMBA:
        blocks["mtmixg chunked PyTorch scan"] = _WithScan(ours, chunked_selective_scan)
    try:
        from mambapy.mamba import MambaBlock, MambaConfig

        theirs = MambaBlock(MambaConfig(d_model=32, n_layers=1))
        theirs.load_state_dict(ours.state_dict(), strict=True)
        blocks["mambapy 1.2.0 MambaBlock (pscan)"] = theirs
    except ImportError:
        print("mambapy not installed (pip install 'mtmixg[bench]'): its rows are skipped", file=sys.stderr)
    return blocks, torch.randn(batch, SEQ_LEN, 32, requires_grad=True)


def rss_worker(arch: str, batch: int) -> dict:
    """Peak RSS (MB) of a process that runs two training steps of arch at batch."""
    step, _ = train_step(arch, batch)
    step()
    step()
    return {"peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def cuda_rows(batch: int, repeats: int) -> list[tuple[str, float, float]]:
    """Mamba block on CUDA: fused kernels (when installed) vs the pure chunked scan (median seconds)."""
    pure = Mamba(32, backend="pure").cuda()
    x = torch.randn(batch, SEQ_LEN, 32, device="cuda", requires_grad=True)

    def timed(module: torch.nn.Module) -> float:
        module(x).sum().backward()
        return statistics.median(_seconds(lambda: module(x).sum().backward(), "cuda") for _ in range(repeats))

    with torch.no_grad():
        pure_out = pure(x)
    rows = [("cuda pure chunked scan", timed(pure), 0.0)]
    if fused_available(x):
        fused = Mamba(32, backend="fused").cuda()
        fused.load_state_dict(pure.state_dict())
        with torch.no_grad():
            diff = (fused(x) - pure_out).abs().max().item()
        rows.append(("cuda fused (mamba_ssm)", timed(fused), diff))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=5, help="turns over all measurements; medians reported")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--archs", nargs="+", default=["cnn", "cnn_attention", "mtmixg"], choices=ARCHITECTURES)
    parser.add_argument("--rss-batch", type=int, default=64, help="batch of the mtmixg peak-RSS run (0: skip)")
    parser.add_argument("--quick", action="store_true", help="batch 2, 1 round, no RSS run")
    parser.add_argument("--rss-worker", choices=ARCHITECTURES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        args.batch, args.rounds, args.rss_batch = 2, 1, 0
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    if args.rss_worker:
        print(json.dumps(rss_worker(args.rss_worker, args.batch)))
        return

    archs = list(dict.fromkeys(["cnn", *args.archs]))
    steps, params = {}, {}
    for arch in archs:
        steps[arch], params[arch] = train_step(arch, args.batch)
    blocks, x = mamba_blocks(args.batch)
    first_call = _seconds(lambda: blocks["mtmixg (default CPU scan)"](x).sum().backward())
    measures: dict[str, Callable[[], None]] = {f"step {v}": steps[v] for v in archs}
    measures |= {name: (lambda b=block: b(x).sum().backward()) for name, block in blocks.items()}
    for run in measures.values():  # warm-up: allocator, caches, JIT
        run()
    times: dict[str, list[float]] = {name: [] for name in measures}
    for _ in range(args.rounds):
        for name, run in measures.items():
            times[name].append(_seconds(run))
    median = {name: statistics.median(values) for name, values in times.items()}

    def ratio(num: str, den: str) -> str:
        if num not in times or den not in times:
            return "n/a"
        return f"{statistics.median(a / b for a, b in zip(times[num], times[den])):.2f}x"

    print(f"## Training step, L = {SEQ_LEN}, batch {args.batch}, {args.threads} CPU threads, median of {args.rounds} interleaved rounds\n")
    print("| arch | parameters | step (s) | per sequence (ms) |")
    print("|---|---|---|---|")
    for arch in archs:
        seconds = median[f"step {arch}"]
        print(f"| {arch} | {params[arch]:,} | {seconds:.3f} | {1000 * seconds / args.batch:.0f} |")

    mambapy = "mambapy 1.2.0 MambaBlock (pscan)"
    print("\n## Goal ratios (median of per-round ratios)\n")
    print("| measure | value | goal |")
    print("|---|---|---|")
    print(f"| mtmixg step / cnn step | {ratio('step mtmixg', 'step cnn')} | <= 3x |")
    print(f"| cnn_attention step / cnn step | {ratio('step cnn_attention', 'step cnn')} | <= 1.3x |")
    print(f"| Mamba block fwd+bwd, speed-up over mambapy | {ratio(mambapy, 'mtmixg (default CPU scan)')} | >= 8x |")

    print(f"\n## Mamba block (d_model 32), forward + backward, L = {SEQ_LEN}, batch {args.batch}\n")
    scan = "numba-compiled" if HAS_NUMBA else "chunked PyTorch (numba not installed)"
    print(f"Default CPU scan: {scan}; its first call (JIT compile or on-disk cache load + one run): {first_call:.2f} s\n")
    reference = _WithScan(blocks["mtmixg (default CPU scan)"], selective_scan_ref)
    with torch.no_grad():
        expected = reference(x)
        diffs = {name: (block(x) - expected).abs().max().item() for name, block in blocks.items()}
    print("| implementation | fwd+bwd (s) | max abs diff vs sequential reference |")
    print("|---|---|---|")
    for name in blocks:
        print(f"| {name} | {median[name]:.3f} | {diffs[name]:.1e} |")
    if torch.cuda.is_available():
        for name, seconds, diff in cuda_rows(args.batch, args.rounds):
            print(f"| {name} | {seconds:.3f} | {diff:.1e} (vs cuda pure) |")

    if args.rss_batch:
        command = [sys.executable, __file__, "--rss-worker", "mtmixg", "--batch", str(args.rss_batch),
                   "--threads", str(args.threads)]  # fmt: skip
        result = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout.splitlines()[-1])
        print(f"\n## Peak memory\n\n| model | batch | peak RSS (MB) |\n|---|---|---|\n| mtmixg | {args.rss_batch} | {result['peak_mb']:.0f} |")


if __name__ == "__main__":
    main()
