"""Per-fold figures of a finished real-data run (e.g. config/examples/arabidopsis_chr1.yaml).

Reads results/<species>/models/<experiment>/seed<N>/<fold>/metrics.json and prints one table per
fold: experiment, seed, held-out accuracy / AUC-ROC / F1, epochs run, best epoch, restarts (when
the metrics record them), seconds per epoch (mean over the epochs' history), device, and whether
the run was flagged failed (never left chance level). No training happens here.

Usage: python3 bench/bench_realdata.py results/arabidopsis_chr1 [--experiments deepcre cnn]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

def _restarts(metrics: dict) -> str:
    """Restarts of a run: its attempts (metrics.json `attempts`, one per attempt) less the first."""
    attempts = metrics.get("attempts")
    return str(len(attempts) - 1) if attempts else "-"


def _seconds_per_epoch(metrics: dict) -> float | None:
    seconds = [r["seconds"] for r in metrics.get("history") or [] if "seconds" in r]
    return sum(seconds) / len(seconds) if seconds else None


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
            "n_test": str(m.get("n_test", "-")), "device": str(m.get("device", "-")),
            "failed": "FAILED" if m.get("failed") else "",
        })  # fmt: skip
    return out


def print_tables(table: list[dict]) -> None:
    columns = ["experiment", "seed", "accuracy", "auc", "f1", "epochs", "best_epoch", "restarts",
               "s_per_epoch", "n_test", "device", "failed"]  # fmt: skip
    for fold in sorted({r["fold"] for r in table}):
        part = [r for r in table if r["fold"] == fold]
        widths = {c: max(len(c), *(len(r[c]) for r in part)) for c in columns}
        print(f"\nfold {fold} (held-out chromosome)")
        print("  ".join(c.ljust(widths[c]) for c in columns).rstrip())
        for r in part:
            print("  ".join(r[c].ljust(widths[c]) for c in columns).rstrip())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, help="results/<species> of a finished run")
    parser.add_argument("--experiments", nargs="*", help="only these experiments (default: all)")
    args = parser.parse_args(argv)
    table = rows(args.results, args.experiments)
    if not table:
        print(f"{args.results}/models: no metrics.json found; run the workflow first", file=sys.stderr)
        return 1
    print_tables(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
