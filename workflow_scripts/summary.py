"""Per-species summary tables (rule summary): summary.tsv, summary_folds.tsv, test_predictions.tsv."""

import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from mtmixg.summary import summary_job

summary_job(
    runs=snakemake.params.runs,
    summary_out=snakemake.output.summary,
    folds_out=snakemake.output.folds,
    predictions_out=snakemake.output.predictions,
)
