"""Per-fold figures of a finished real-data run (e.g. config/examples/arabidopsis_chr1.yaml).

Reads results/<species>/models/<experiment>/seed<N>/<fold>/metrics.json and prints one table per
fold: experiment, seed, held-out accuracy / AUC-ROC / F1, epochs run, best epoch, restarts (when
the metrics record them), seconds per epoch (median over the epochs' history, so an epoch of a
paused run does not count), torch threads, device, and whether the run was flagged failed (never
left chance level). With --markdown: one markdown table instead, each experiment's folds and their
mean ± sd (the README's development-set table). No training happens here.

Usage: python3 bench/bench_realdata.py results/arabidopsis_chr1 [--experiments deepcre cnn] [--markdown]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import pandas as pd

from mtmixg.summary import mean_sd

def _restarts(metrics: dict) -> str:
    """Restarts of a run: its attempts (metrics.json `attempts`, one per attempt) less the first."""
    attempts = metrics.get("attempts")
    return str(len(attempts) - 1) if attempts else "-"


def _seconds_per_epoch(metrics: dict) -> float | None:
    seconds = [r["seconds"] for r in metrics.get("history") or [] if "seconds" in r]
    return statistics.median(seconds) if seconds else None


def _fmt(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def rows(results: Path, experiments: list[str] | None) -> list[dict]:
    """One dict per metrics.json under results/models (fold 'all' models are skipped)."""
    out = []
    for path in sorted((results / "models").glob("*/seed*/*/metrics.json")):
        experiment, seed, fold = path.parts[-4], path.parts[-3][4:], path.parts[-2]
        if fold == "all" or (experiments and experiment not in experiments):
            continue
        m = json.loads(path.read_text())
        out.append({
            "fold": fold, "experiment": experiment, "seed": seed,
            "accuracy": _fmt(m.get("accuracy")), "auc": _fmt(m.get("auc")), "f1": _fmt(m.get("f1")),
            "epochs": str(m.get("epochs_run", "-")), "best_epoch": str(m.get("best_epoch", "-")),
            "restarts": _restarts(m), "s_per_epoch": _fmt(_seconds_per_epoch(m), 1),
            "threads": str((m.get("train_config") or {}).get("threads", "-")),
            "n_test": str(m.get("n_test", "-")), "device": str(m.get("device", "-")),
            "failed": "FAILED" if m.get("failed") else "",
            "values": {k: m.get(k) for k in ("accuracy", "auc", "f1")},  # unrounded, for the means
        })  # fmt: skip
    return out


def print_tables(table: list[dict]) -> None:
    columns = ["experiment", "seed", "accuracy", "auc", "f1", "epochs", "best_epoch", "restarts",
               "s_per_epoch", "threads", "n_test", "device", "failed"]  # fmt: skip
    for fold in sorted({r["fold"] for r in table}):
        part = [r for r in table if r["fold"] == fold]
        widths = {c: max(len(c), *(len(r[c]) for r in part)) for c in columns}
        print(f"\nfold {fold} (held-out chromosome)")
        print("  ".join(c.ljust(widths[c]) for c in columns).rstrip())
        for r in part:
            print("  ".join(r[c].ljust(widths[c]) for c in columns).rstrip())


def _mean_sd(values: list[float | None]) -> str:
    """'mean ± sd' of one metric over folds, with the workflow summary's mean_sd."""
    mean, sd = mean_sd(pd.Series(values, dtype=float))
    return f"{mean:.3f} ± {sd:.3f}"


def print_markdown(table: list[dict]) -> None:
    """One markdown table: per experiment, a row per fold then the mean ± sd over its folds."""
    print("| model | fold | accuracy | AUC | F1 | epochs (best) | restarts | s/epoch | threads |")
    print("|---|---|---|---|---|---|---|---|---|")
    for experiment in dict.fromkeys(r["experiment"] for r in table):
        part = [r for r in table if r["experiment"] == experiment]
        for r in part:
            failed = " FAILED" if r["failed"] else ""
            print(f"| `{experiment}` | {r['fold']}{failed} | {r['accuracy']} | {r['auc']} | {r['f1']} | "
                  f"{r['epochs']} ({r['best_epoch']}) | {r['restarts']} | {r['s_per_epoch']} | {r['threads']} |")
        if len(part) > 1:
            means = [_mean_sd([r["values"][c] for r in part]) for c in ("accuracy", "auc", "f1")]
            print(f"| `{experiment}` | mean of {len(part)} | " + " | ".join(means) + " | | | | |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, help="results/<species> of a finished run")
    parser.add_argument("--experiments", nargs="*", help="only these experiments (default: all)")
    parser.add_argument("--markdown", action="store_true", help="one markdown table with means over folds")
    args = parser.parse_args(argv)
    table = rows(args.results, args.experiments)
    if not table:
        print(f"{args.results}/models: no metrics.json found; run the workflow first", file=sys.stderr)
        return 1
    if args.experiments:  # in the order given
        table.sort(key=lambda r: args.experiments.index(r["experiment"]))
    if args.markdown:
        print_markdown(table)
    else:
        print_tables(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
