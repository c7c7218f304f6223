"""Per-species summary tables (rule summarize): summary.tsv, summary_folds.tsv, test_predictions.tsv."""

import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from mtmixg.summary import fold_table, pooled_predictions, summarize, write_tsv

runs = [dict(run, path=path) for run, path in zip(snakemake.params.runs, snakemake.input.metrics, strict=True)]
folds = fold_table(runs)
summary = summarize(folds, order=list(dict.fromkeys(run["experiment"] for run in runs)))
labels = [{"experiment": r["experiment"], "seed": r["seed"], "fold": r["fold"]} for r in runs]
predictions = pooled_predictions(snakemake.input.predictions, labels)
write_tsv(folds, snakemake.output.folds)
write_tsv(summary, snakemake.output.summary)
write_tsv(predictions, snakemake.output.predictions)
print(summary.to_string(index=False), file=sys.stderr)
failed = folds[folds["failed"]]
for row in failed.itertuples():
    print(f"WARNING: {row.experiment} seed {row.seed} fold {row.fold} failed (chance level after {row.n_attempts} "
          "attempt(s)); counted in n_failed and the *_all means, left out of the trained means", file=sys.stderr)
