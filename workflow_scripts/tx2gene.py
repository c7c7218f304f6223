"""transcript -> gene table of a species: from the GFF3, else from the cDNA headers.

The GFF3's table is used when it covers the cDNA's transcript IDs (what kallisto reports);
otherwise the Ensembl cDNA headers ('gene:' field) are tried.
"""

import sys
from pathlib import Path

sys.stderr = open(snakemake.log[0], "w")

from mtmixg.core.atomic import atomic_write
from mtmixg.fasta import iter_records
from mtmixg.gff import AnnotationError, tx2gene_from_cdna, tx2gene_from_gff3

transcripts = {name for name, _ in iter_records(snakemake.input.cdna)}
try:
    table = tx2gene_from_gff3(snakemake.input.gff)
    covered = len(transcripts & set(table["transcript_id"])) / len(transcripts)
except AnnotationError as err:
    print(f"tx2gene from the GFF3 failed: {err}", file=sys.stderr)
    table, covered = None, 0.0
print(f"GFF3 tx2gene covers {covered:.1%} of {len(transcripts)} cDNA transcripts", file=sys.stderr)
if covered < 0.9:
    print("using the cDNA headers' gene: fields instead", file=sys.stderr)
    table = tx2gene_from_cdna(snakemake.input.cdna)
table = table[table["transcript_id"].isin(transcripts)]
if table.empty:
    raise AnnotationError(
        f"no transcript of {snakemake.input.cdna} maps to a gene of {snakemake.input.gff}: "
        "are the cDNA and the annotation from the same release?"
    )
print(f"tx2gene: {len(table)} transcripts of {table['gene_id'].nunique()} genes", file=sys.stderr)
atomic_write(Path(snakemake.output[0]), lambda tmp: table.to_csv(tmp, sep="\t", index=False))
