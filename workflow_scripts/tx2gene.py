"""transcript -> gene table of a species (rule tx2gene): mtmixg.data.gff.build_tx2gene.

The GFF3's table is used when it covers the cDNA's transcript IDs (what kallisto reports);
otherwise the Ensembl cDNA headers ('gene:' field) are tried.
"""

import sys

sys.stderr = open(snakemake.log[0], "w")

from mtmixg.data.gff import build_tx2gene

build_tx2gene(gff=snakemake.input.gff, cdna=snakemake.input.cdna, out=snakemake.output.tx2gene)
