"""Gene TPM table -> labels.tsv (gene_id, logMaxTPM, label) and thresholds.tsv."""

import sys

sys.stderr = open(snakemake.log[0], "w")

from mtmixg.labels import compare_thresholds, make_labels, read_tpm, save_labels

table, thresholds = make_labels(read_tpm(snakemake.input[0]))
save_labels(table, thresholds, snakemake.output.labels, snakemake.output.thresholds)
print(f"labels: {thresholds}", file=sys.stderr)
line, far = compare_thresholds(thresholds, snakemake.params.expected)
print(line, file=sys.stderr)
if far:  # also on the console, not only in the log
    print(f"{snakemake.wildcards.species}: {line}", file=sys.__stderr__)
