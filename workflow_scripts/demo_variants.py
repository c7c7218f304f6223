"""Write the demo's proof VCF (rule demo_variants): mtmixg.variant_effects.demo_vcf."""

import sys
from pathlib import Path

sys.stderr = open(snakemake.log[0], "w")
sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "model"))

from mtmixg.variant_effects.demo_vcf import make_proof_vcf  # noqa: E402

variants = make_proof_vcf(snakemake.input.genome, snakemake.input.truth, snakemake.output.vcf, snakemake.input.labels)
print(f"{len(variants)} SNPs -> {snakemake.output.vcf}", file=sys.stderr)
