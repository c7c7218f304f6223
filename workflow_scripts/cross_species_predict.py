"""Predict every gene of the test species with the train species' all-chromosome model (rule cross_predict)."""

import sys
from pathlib import Path

sys.stderr = open(snakemake.log[0], "w", buffering=1)

import json

import torch

from mtmixg.cross_species import predict_species
from mtmixg.core.atomic import atomic_write

torch.set_num_threads(snakemake.threads)
wc = snakemake.wildcards
frame, metrics = predict_species(snakemake.input.model, Path(snakemake.input.windows).parent)
metrics.update({"train_species": wc.train_species, "test_species": wc.test_species, "variant": wc.variant,
                "seed": int(wc.seed)})
atomic_write(Path(snakemake.output.predictions),
              lambda tmp: frame.to_csv(tmp, sep="\t", index=False, float_format="%.6g"))
atomic_write(Path(snakemake.output.metrics), lambda tmp: Path(tmp).write_text(json.dumps(metrics, indent=2) + "\n"))
print(json.dumps(metrics), file=sys.stderr)
