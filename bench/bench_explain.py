"""Time attribution maps per gene at the real window (L = 3,020, ModelConfig defaults); prints a
markdown table with the per-gene seconds and the estimate for a fold of --fold-genes genes.

    python bench/bench_explain.py [--threads 2] [--genes 4] [--ism-positions 64] [--shuffles 20] [--fold-genes 2000]

Weights are random (time does not depend on them). DeepLIFT/SHAP: --genes genes, --shuffles
references each. ISM: one gene, --ism-positions positions mutated, scaled to the whole window.
"""

from __future__ import annotations

import argparse
import time

import torch

from mtmixg.interpret.deeplift import deeplift_shap, supports_deeplift, with_module_activations
from mtmixg.interpret.ism import ism
from mtmixg.interpret.score import HighScore
from mtmixg.core.model_config import ModelConfig
from mtmixg.models.architectures import build_model
from mtmixg.data.sequence import codes_to_one_hot_batch
from mtmixg.core.window_spec import WindowSpec

SPEC = WindowSpec()  # 1000 + 500, spacer 20, 500 + 1000: 3,020


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--genes", type=int, default=4)
    ap.add_argument("--ism-positions", type=int, default=64)
    ap.add_argument("--shuffles", type=int, default=20)
    ap.add_argument("--fold-genes", type=int, default=2000)
    ap.add_argument("--archs", nargs="+", default=["cnn", "deepcre", "mtmixg"])
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    codes = torch.randint(0, 4, (args.genes, SPEC.length), dtype=torch.uint8).numpy()
    codes[:, SPEC.tss_length : SPEC.tss_length + SPEC.spacer] = 4
    x = torch.from_numpy(codes_to_one_hot_batch(codes))
    print(f"| arch | method | wall s / gene | CPU s / gene | h / fold of {args.fold_genes} genes (wall) |")
    print("|---|---|---|---|---|")
    for arch in args.archs:
        score = HighScore(build_model(ModelConfig(arch=arch, seq_len=SPEC.length)), "binary").eval()
        if supports_deeplift(arch):
            with_module_activations(score)
            t, c = time.perf_counter(), time.process_time()
            deeplift_shap(score, x, SPEC, n_shuffles=args.shuffles, batch_size=args.genes * args.shuffles)
            per, cpu = (time.perf_counter() - t) / args.genes, (time.process_time() - c) / args.genes
            print(f"| {arch} | DeepLIFT/SHAP ({args.shuffles} refs) | {per:.2f} | {cpu:.2f} | {per * args.fold_genes / 3600:.1f} |", flush=True)
        t, c = time.perf_counter(), time.process_time()
        ism(score, x[:1], start=0, end=args.ism_positions, batch_size=256)
        scale = SPEC.length / args.ism_positions
        per, cpu = (time.perf_counter() - t) * scale, (time.process_time() - c) * scale
        print(f"| {arch} | ISM (whole window) | {per:.1f} | {cpu:.1f} | {per * args.fold_genes / 3600:.1f} |", flush=True)


if __name__ == "__main__":
    main()
