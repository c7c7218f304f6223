"""Windows of a species' protein-coding genes with an expression label (mtmixg.dataset layout).

Every protein-coding gene not in the dataset is listed in skipped.tsv with its reason: off the
configured chromosomes, window off the chromosome end (mtmixg.genome), or no expression value.
"""

import json
import sys
from pathlib import Path

sys.stderr = open(snakemake.log[0], "w")

import pandas as pd

from mtmixg.core.atomic import atomic_write
from mtmixg.dataset import GeneWindows, save_windows
from mtmixg.datachecks import check_chromosome_names, check_fold_classes
from mtmixg.fasta import FastaIndex
from mtmixg.folds import assign_folds
from mtmixg.genome import SKIPPED_COLUMNS, extract_windows
from mtmixg.gff import protein_coding_genes
from mtmixg.sequence import WindowSpec

REASON_NO_EXPRESSION = "no expression value"

spec = WindowSpec.from_dict(json.loads(snakemake.params.window))
chromosomes = [str(c) for c in snakemake.params.chromosomes]
genes = protein_coding_genes(snakemake.input.gff).drop(columns="biotype")
labels = pd.read_csv(snakemake.input.labels, sep="\t", dtype={"gene_id": str})
config_key = f"species.{snakemake.wildcards.species}.chromosomes"
check_chromosome_names(
    chromosomes,
    FastaIndex(snakemake.input.genome).names,
    genes["chrom"],
    config_key,
    fasta=f"the FASTA {snakemake.input.genome}",
    gff=f"the GFF3 {snakemake.input.gff}",
)

codes, kept, skipped = extract_windows(snakemake.input.genome, genes, spec, chromosomes)
kept = kept.merge(labels, on="gene_id", how="left", validate="one_to_one")
labelled = kept["label"].notna().to_numpy()
no_expression = kept.loc[~labelled, list(SKIPPED_COLUMNS[:-1])].assign(reason=REASON_NO_EXPRESSION)
kept = kept[labelled].reset_index(drop=True)
if kept.empty:
    raise ValueError(
        f"no protein-coding gene of {snakemake.input.gff} on chromosomes {chromosomes} has both a "
        f"window and an expression value in {snakemake.input.labels}: do the gene IDs match?"
    )
kept["label"] = kept["label"].astype(int)
check_fold_classes(kept, chromosomes, snakemake.params.task, config_key)
kept["fold"] = assign_folds(kept, chromosomes)
skipped = pd.concat([skipped, no_expression], ignore_index=True)

save_windows(Path(snakemake.output.genes).parent, GeneWindows(codes[labelled], kept, spec))
atomic_write(Path(snakemake.output.skipped), lambda tmp: skipped.to_csv(tmp, sep="\t", index=False))
print(f"{len(kept)} windows of length {spec.length}; {len(skipped)} genes skipped:", file=sys.stderr)
print(skipped["reason"].value_counts().to_string(), file=sys.stderr)
