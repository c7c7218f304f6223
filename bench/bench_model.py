"""Benchmark the models and the Mamba scan at L = 3,020; prints markdown tables.

    python bench/bench_model.py [--batch 8] [--repeats 3] [--threads 2] [--variants mtmixg cnn] [--quick]

Table 1: one training step (forward + BCE + backward + Adam) per variant, each variant in its own
subprocess so the peak RSS (getrusage high-water mark) is that variant's alone.
Table 2: the Mamba block (d_model 32, as in MTMixG's branch), forward + backward: the chunked
scan, the sequential loop, and mambapy's MambaBlock (the `bench` extra) loaded with the same
weights, with the max abs difference of their outputs. On CUDA also the fused vs pure path.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import torch

from mtmixg.models import VARIANTS, Mamba, ModelConfig, build_model
from mtmixg.ops import fused_available, selective_scan_ref

SEQ_LEN = 3020


def _one_hot(n: int, device: str = "cpu") -> torch.Tensor:
    codes = torch.randint(0, 4, (n, SEQ_LEN))
    return torch.nn.functional.one_hot(codes, 4).permute(0, 2, 1).float().to(device)


def _timed(step, repeats: int, device: str = "cpu") -> float:  # noqa: ANN001
    """Median seconds of step() over repeats runs, after one warm-up run."""
    step()
    times = []
    for _ in range(repeats):
        if device == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        step()
        if device == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def train_step_worker(variant: str, batch: int, repeats: int) -> dict:
    """Time one training step of variant at L = 3,020 on CPU; returns seconds and peak RSS."""
    model = build_model(ModelConfig(variant=variant))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    x, y = _one_hot(batch), torch.randint(0, 2, (batch, 1)).float()

    def step() -> None:
        optimizer.zero_grad()
        torch.nn.functional.binary_cross_entropy_with_logits(model(x), y).backward()
        optimizer.step()

    seconds = _timed(step, repeats)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    params = sum(p.numel() for p in model.parameters())
    return {"variant": variant, "step_s": seconds, "per_seq_ms": 1000 * seconds / batch, "peak_mb": peak_mb, "params": params}


def mamba_block_rows(batch: int, repeats: int) -> list[tuple[str, float, float]]:
    """(implementation, seconds fwd+bwd, max abs diff of the output vs ours) for the Mamba block."""
    import mtmixg.models.mamba as mamba_module

    ours = Mamba(32, backend="pure")
    x = torch.randn(batch, SEQ_LEN, 32, requires_grad=True)

    def run(module: torch.nn.Module) -> None:
        module(x).sum().backward()

    with torch.no_grad():
        reference_out = ours(x)
    rows = [("mtmixg chunked scan", _timed(lambda: run(ours), repeats), 0.0)]
    chunked = mamba_module.selective_scan
    mamba_module.selective_scan = selective_scan_ref
    try:
        with torch.no_grad():
            diff = (ours(x) - reference_out).abs().max().item()
        rows.append(("sequential loop (reference)", _timed(lambda: run(ours), max(1, repeats // 3)), diff))
    finally:
        mamba_module.selective_scan = chunked
    try:
        from mambapy.mamba import MambaBlock, MambaConfig
    except ImportError:
        print("mambapy not installed (pip install 'mtmixg[bench]'): skipped", file=sys.stderr)
        return rows
    theirs = MambaBlock(MambaConfig(d_model=32, n_layers=1))
    theirs.load_state_dict(ours.state_dict(), strict=True)
    with torch.no_grad():
        diff = (theirs(x) - reference_out).abs().max().item()
    rows.append(("mambapy 1.2.0 MambaBlock (pscan)", _timed(lambda: run(theirs), repeats), diff))
    return rows


def cuda_rows(batch: int, repeats: int) -> list[tuple[str, float, float]]:
    """Mamba block on CUDA: fused kernels (when installed) vs the pure chunked scan."""
    pure = Mamba(32, backend="pure").cuda()
    x = torch.randn(batch, SEQ_LEN, 32, device="cuda", requires_grad=True)
    with torch.no_grad():
        pure_out = pure(x)
    rows = [("cuda pure chunked scan", _timed(lambda: pure(x).sum().backward(), repeats, "cuda"), 0.0)]
    if fused_available(x):
        fused = Mamba(32, backend="fused").cuda()
        fused.load_state_dict(pure.state_dict())
        with torch.no_grad():
            diff = (fused(x) - pure_out).abs().max().item()
        rows.append(("cuda fused (mamba_ssm)", _timed(lambda: fused(x).sum().backward(), repeats, "cuda"), diff))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--quick", action="store_true", help="batch 2, 1 repeat")
    parser.add_argument("--worker", choices=VARIANTS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        args.batch, args.repeats = 2, 1
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    if args.worker:
        print(json.dumps(train_step_worker(args.worker, args.batch, args.repeats)))
        return

    print(f"## Training step, L = {SEQ_LEN}, batch {args.batch}, {args.threads} CPU threads (median of {args.repeats})\n")
    print("| variant | parameters | step (s) | per sequence (ms) | peak RSS (MB) |")
    print("|---|---|---|---|---|")
    for variant in args.variants:
        command = [sys.executable, __file__, "--worker", variant, "--batch", str(args.batch),
                   "--repeats", str(args.repeats), "--threads", str(args.threads)]  # fmt: skip
        result = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout.splitlines()[-1])
        print(f"| {variant} | {result['params']:,} | {result['step_s']:.2f} | {result['per_seq_ms']:.0f} | {result['peak_mb']:.0f} |")

    print(f"\n## Mamba block (d_model 32), forward + backward, L = {SEQ_LEN}, batch {args.batch}\n")
    print("| implementation | fwd+bwd (s) | max abs diff vs ours |")
    print("|---|---|---|")
    rows = mamba_block_rows(args.batch, args.repeats)
    if torch.cuda.is_available():
        rows += cuda_rows(args.batch, args.repeats)
    for name, seconds, diff in rows:
        print(f"| {name} | {seconds:.3f} | {diff:.1e} |")


if __name__ == "__main__":
    main()
