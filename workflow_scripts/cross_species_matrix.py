"""Train x test species matrix of one variant (rule cross_species_matrix)."""

import sys
from pathlib import Path

sys.stderr = open(snakemake.log[0], "w", buffering=1)

import json

import pandas as pd

from mtmixg.cross_species import cross_matrix
from mtmixg.summary import read_summary, write_tsv

rows = []
for run, path in zip(snakemake.params.runs, snakemake.input.cross, strict=True):
    metrics = json.loads(Path(path).read_text())
    rows.append({**run, **{k: metrics[k] for k in ("accuracy", "auc", "f1")}, "failed": metrics.get("failed", False)})
cross = pd.DataFrame(rows)
loco = []
for species, path in zip(snakemake.params.species, snakemake.input.folds, strict=True):
    folds = read_summary(path)
    loco.append(folds[folds["experiment"] == snakemake.wildcards.variant].assign(species=species))
matrix = cross_matrix(cross, pd.concat(loco, ignore_index=True))
write_tsv(matrix, snakemake.output.matrix)
print(matrix.to_string(index=False), file=sys.stderr)
