# Optional (homology_filter.enabled): DeepCRE's non-homologous test genes. The longest cDNA of
# each protein-coding gene goes through an all-vs-all blastn; a gene is test-eligible when none
# of its homologs (evalue < homology_filter.evalue, bitscore >= homology_filter.bitscore) sits
# on another chromosome. Output: results/{species}/windows/test_genes.tsv with columns
# gene_id, chrom, test_eligible (True/False); the training half tests a fold on its eligible
# genes only.


rule homology:
    input:
        cdna="resources/{species}/cdna.fa",
        tx2gene="resources/{species}/tx2gene.tsv",
        gff="resources/{species}/annotation.gff3",
    output:
        "results/{species}/windows/test_genes.tsv",
    log:
        "logs/{species}/homology.log",
    benchmark:
        "benchmarks/{species}/homology.tsv"
    conda:
        "../envs/blast.yaml"
    threads: config["homology_filter"]["threads"]
    params:
        evalue=config["homology_filter"]["evalue"],
        bitscore=config["homology_filter"]["bitscore"],
        chromosomes=chromosomes,
    script:
        "../workflow_scripts/homology.py"
