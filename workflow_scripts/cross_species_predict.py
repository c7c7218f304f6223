"""Predict every gene of the test species with the train species' all-chromosome model (rule cross_species_predict)."""

import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from mtmixg.cross_species import predict_job
from mtmixg.data.dataset import WindowsFiles

predict_job(
    model=snakemake.input.model,
    meta=snakemake.input.meta,
    trained_metrics=snakemake.input.trained_metrics,
    windows=WindowsFiles(snakemake.input.windows, snakemake.input.genes, snakemake.input.spec),
    predictions_out=snakemake.output.predictions,
    metrics_out=snakemake.output.metrics,
    train_species=snakemake.wildcards.train_species,
    test_species=snakemake.wildcards.test_species,
    experiment=snakemake.wildcards.experiment,
    seed=snakemake.wildcards.seed,
    threads=snakemake.threads,
)
