"""Train one fold (rule train_fold): mtmixg.fold.train_fold with the experiment's settings."""

import sys
from dataclasses import replace
from pathlib import Path

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from mtmixg.core.experiments import resolve_experiment


def main() -> None:
    wc = snakemake.wildcards
    fold = None if wc.fold == "all" else wc.fold
    model_cfg, train_cfg = resolve_experiment(wc.variant, snakemake.config)
    train_cfg = replace(train_cfg, threads=snakemake.threads)
    windows_dir = Path(snakemake.input.windows).parent
    out_dir = Path(snakemake.output.model).parent
    resume = Path(snakemake.params.resume)
    resume.parent.mkdir(parents=True, exist_ok=True)
    print(f"{wc.species} {wc.variant} seed {wc.seed} fold {wc.fold}: resume state {resume}", file=sys.stderr)

    if train_cfg.device == "cpu":
        run(windows_dir, fold, model_cfg, train_cfg, out_dir, resume)
        return
    # a GPU was asked for (or may be used): take a free one before CUDA starts
    from mtmixg.core.gpus import claim_gpu

    with claim_gpu() as gpu:
        if gpu is not None:
            print(f"claimed GPU {gpu} (CUDA_VISIBLE_DEVICES={gpu})", file=sys.stderr)
        run(windows_dir, fold, model_cfg, train_cfg, out_dir, resume)


def run(windows_dir, fold, model_cfg, train_cfg, out_dir, resume) -> None:
    from mtmixg.fold import train_fold
    from mtmixg.training import GPUUnavailableError, resolve_device

    try:
        device = resolve_device(train_cfg)  # fail fast, before any data is read
    except GPUUnavailableError as err:
        print(f"ERROR: {err}", file=sys.stderr)
        sys.exit(1)
    print(f"device {device}, {train_cfg.threads} thread(s)", file=sys.stderr)
    # the homology filter's test-eligible genes, when config homology_filter.enabled
    test_genes = snakemake.input.get("test_genes")
    train_fold(windows_dir, fold, snakemake.config["task"], model_cfg, train_cfg, int(snakemake.wildcards.seed),
               out_dir, resume_path=resume, test_genes=test_genes)


main()
