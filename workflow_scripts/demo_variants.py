"""Write the demo's proof VCF (rule demo_variants): mtmixg.variant_effects.demo_vcf."""

import sys

sys.stderr = open(snakemake.log[0], "w")

from mtmixg.variant_effects.demo_vcf import make_proof_vcf

variants = make_proof_vcf(snakemake.input.genome, snakemake.input.truth, snakemake.output.vcf, snakemake.input.labels)
print(f"{len(variants)} SNPs -> {snakemake.output.vcf}", file=sys.stderr)
