# Reference files of each species: downloaded (https/ftp), or read from a local path or
# file:// URL (then the file is the rule's input, so another rule, e.g. the demo, may make it).
# Stored decompressed and validated; the genome gets a .fai index.


rule get_genome:
    input:
        reference_input("genome"),
    output:
        fasta="resources/{species}/genome.fa",
        fai="resources/{species}/genome.fa.fai",
    log:
        "logs/{species}/references/genome.log",
    retries: 3
    localrule: DOWNLOADS_LOCAL
    conda:
        "../envs/python.yaml"
    params:
        ref=reference_params("genome"),
        kind="genome",
    script:
        "../workflow_scripts/get_reference.py"


rule get_annotation:
    input:
        reference_input("annotation"),
    output:
        gff="resources/{species}/annotation.gff3",
    log:
        "logs/{species}/references/annotation.log",
    retries: 3
    localrule: DOWNLOADS_LOCAL
    conda:
        "../envs/python.yaml"
    params:
        ref=reference_params("annotation"),
        kind="annotation",
    script:
        "../workflow_scripts/get_reference.py"


rule get_cdna:
    input:
        reference_input("cdna"),
    output:
        fasta="resources/{species}/cdna.fa",
    log:
        "logs/{species}/references/cdna.log",
    retries: 3
    localrule: DOWNLOADS_LOCAL
    conda:
        "../envs/python.yaml"
    params:
        ref=reference_params("cdna"),
        kind="cdna",
    script:
        "../workflow_scripts/get_reference.py"


# Proteins (Ensembl `pep`): only the homology filter's blastp method reads them.
rule get_pep:
    input:
        reference_input("pep"),
    output:
        fasta="resources/{species}/pep.fa",
    log:
        "logs/{species}/references/pep.log",
    retries: 3
    localrule: DOWNLOADS_LOCAL
    conda:
        "../envs/python.yaml"
    params:
        ref=reference_params("pep"),
        kind="pep",
    script:
        "../workflow_scripts/get_reference.py"
