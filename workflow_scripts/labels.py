"""Gene TPM table -> labels.tsv (gene_id, logMaxTPM, label) and thresholds.tsv (rule labels): mtmixg.data.labels."""

import sys

sys.stderr = open(snakemake.log[0], "w")

from mtmixg.data.labels import write_labels

write_labels(
    tpm=snakemake.input.tpm,
    labels=snakemake.output.labels,
    thresholds=snakemake.output.thresholds,
    expected=snakemake.params.expected,
    species=snakemake.wildcards.species,
)
