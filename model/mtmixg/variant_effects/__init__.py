"""Variant effects: the predicted change of a gene's expression class caused by a SNP or small indel.

    alleles.py   a gene's window with an alternative allele in it (how indels keep TSS/TTS anchored)
    vcf.py       reading VCF/BCF with pysam (contig checks, one Variant per ALT); the annotated copy
    models.py    which models score which gene (held-out chromosome, averaged over seeds)
    score.py     the scoring itself: the (variant, gene) table
    cli.py       `mtmixg score-variants`
    demo_vcf.py  the demo's proof VCF: SNPs that break planted ACT motifs, and background SNPs
"""
