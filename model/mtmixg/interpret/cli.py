"""`mtmixg explain`: attribution maps of a trained fold's held-out genes (see attributions.py)."""

from __future__ import annotations

import argparse

from ..argtypes import nonnegative_int, positive_int
from .attributions import METHODS, explain_fold


def _window(text: str) -> tuple[int, int]:
    start, sep, end = text.partition(":")
    try:
        return int(start), int(end)
    except ValueError:
        raise argparse.ArgumentTypeError(f"give START:END in window positions, got {text!r}") from None


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", required=True, help="model.pt of a fold (or its folder; predictions.tsv beside it names the held-out genes)")
    p.add_argument("--windows", required=True, help="the windows folder the model was trained on")
    p.add_argument("--out", required=True, help="output folder: ohe.npz, attr.npz (float16, modisco's layout), genes.tsv, explain.json")
    p.add_argument("--method", choices=METHODS, default="auto",
                   help="auto (default): DeepLIFT/SHAP where the architecture allows it, else ISM")
    p.add_argument("--shuffles", type=positive_int, default=20, help="dinucleotide-shuffled references per gene (DeepLIFT/SHAP; default 20)")
    p.add_argument("--ism-window", type=_window, default=None, metavar="START:END",
                   help="mutate only window positions [START, END) (ISM; default the whole window)")
    p.add_argument("--max-genes", type=positive_int, default=None, help="explain only the first N held-out genes")
    p.add_argument("--seed", type=nonnegative_int, default=0, help="seed of the shuffled references (default 0)")
    p.add_argument("--threads", type=positive_int, default=None, help="torch CPU threads (default: torch's choice)")


def main(args: argparse.Namespace) -> int:
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    info = explain_fold(args.model, args.windows, args.out, method=args.method, n_shuffles=args.shuffles,
                        ism_window=args.ism_window, seed=args.seed, max_genes=args.max_genes)
    extra = f", max |delta| {info['max_abs_delta']:.2g}" if info["method"] == "deeplift_shap" else f" ({info['why']})"
    print(f"mtmixg explain: {info['n_genes']} genes by {info['method']} in {info['seconds']:.1f} s{extra} -> {args.out}")
    return 0
