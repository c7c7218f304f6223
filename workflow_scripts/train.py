"""Train one fold (rule train): mtmixg.train.train_job with the experiment's settings."""

import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from mtmixg.train import train_job

train_job(
    windows=snakemake.input.windows,
    fold=snakemake.wildcards.fold,
    task=snakemake.config["task"],
    experiment=snakemake.wildcards.variant,
    config=snakemake.config,
    seed=snakemake.wildcards.seed,
    threads=snakemake.threads,
    model_out=snakemake.output.model,
    resume_path=snakemake.params.resume,
    # the homology filter's test-eligible genes, when config homology_filter.enabled
    test_genes=snakemake.input.get("test_genes"),
)
