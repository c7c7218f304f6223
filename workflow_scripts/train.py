"""Train one fold (rule train): mtmixg.train.train_job with the experiment resolved at plan time."""

import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from mtmixg.train import train_job

train_job(
    experiment=snakemake.params.experiment,
    inputs={key: snakemake.input[key] for key in ("windows", "genes", "spec")},
    outputs={key: snakemake.output[key] for key in ("model", "meta", "metrics", "predictions")},
    fold=snakemake.wildcards.fold,
    seed=snakemake.wildcards.seed,
    gpu=snakemake.config["gpu"],
    threads=snakemake.threads,
    resume_path=snakemake.params.resume,
    # the homology filter's test-eligible genes, when config homology_filter.enabled
    test_genes=snakemake.input.get("test_genes"),
)
