"""Gene TPM table -> labels.tsv (gene_id, logMaxTPM, label) and thresholds.tsv."""

import sys
from pathlib import Path

sys.stderr = open(snakemake.log[0], "w")
sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "model"))

from mtmixg.labels import make_labels, read_tpm, save_labels  # noqa: E402

table, thresholds = make_labels(read_tpm(snakemake.input[0]))
save_labels(table, thresholds, snakemake.output.labels, snakemake.output.thresholds)
print(f"labels: {thresholds}", file=sys.stderr)
