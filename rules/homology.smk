# Optional (homology_filter.enabled): DeepCRE's non-homologous test genes. One sequence per
# protein-coding gene (its longest) goes through an all-vs-all BLAST: blastp of the Ensembl
# proteins (homology_filter.method blastp, DeepCRE's protocol; needs the species' `pep`) or blastn
# (megablast) of the cDNA (method blastn). A gene is test-eligible when none of its homologs
# (evalue < homology_filter.evalue, bitscore >= homology_filter.bitscore) sits on another
# chromosome. Output: results/{species}/windows/test_genes.tsv with columns gene_id, chrom,
# test_eligible (True/False); the training half tests a fold on its eligible genes only.


rule homology:
    input:
        unpack(homology_input),
    output:
        test_genes="results/{species}/windows/test_genes.tsv",
    log:
        "logs/{species}/homology.log",
    benchmark:
        "benchmarks/{species}/homology.tsv"
    conda:
        "../envs/blast.yaml"
    threads: config["homology_filter"]["threads"]
    params:
        method=config["homology_filter"]["method"],
        evalue=config["homology_filter"]["evalue"],
        bitscore=config["homology_filter"]["bitscore"],
        chromosomes=chromosomes,
    script:
        "../workflow_scripts/homology.py"
