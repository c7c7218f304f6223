# Gene expression per species: kallisto transcript abundances summarised per gene with
# tximport (lengthScaledTPM), or a ready TPM table (species/<name>/tpm_table); then the
# logMaxTPM labels (mtmixg.data.labels).


rule tx2gene:
    input:
        gff="resources/{species}/annotation.gff3",
        cdna="resources/{species}/cdna.fa",
    output:
        tx2gene="resources/{species}/tx2gene.tsv",
    log:
        "logs/{species}/tx2gene.log",
    localrule: True
    conda:
        "../envs/python.yaml"
    script:
        "../workflow_scripts/tx2gene.py"


rule tximport:
    input:
        unpack(tximport_input),
    output:
        "results/{species}/expression/tpm.tsv",
    log:
        "logs/{species}/tximport.log",
    benchmark:
        "benchmarks/{species}/tximport.tsv"
    wildcard_constraints:
        species=alternatives(READS_SPECIES),
    conda:
        "../envs/tximport.yaml"
    params:
        script=str(Path(workflow.basedir) / "workflow_scripts" / "tximport.R"),
        ignore_tx_version=str(config["tximport"]["ignore_tx_version"]).upper(),
        abundances=tximport_abundances,
    shell:
        "Rscript --vanilla {params.script:q} {output:q} {input.tx2gene:q}"
        " {params.ignore_tx_version:q} {params.abundances:q} > {log:q} 2>&1"


# A tpm_table given as a URL, or with a sha256: fetched and checked like the references.
rule get_tpm_table:
    input:
        reference_input("tpm_table"),
    output:
        table="resources/{species}/tpm_table",
    log:
        "logs/{species}/references/tpm_table.log",
    wildcard_constraints:
        species=alternatives(TABLE_SPECIES),
    retries: 3
    localrule: DOWNLOADS_LOCAL
    conda:
        "../envs/python.yaml"
    params:
        ref=reference_params("tpm_table"),
    script:
        "../workflow_scripts/get_tpm_table.py"


rule import_tpm_table:
    input:
        table=tpm_table_input,
        gff="resources/{species}/annotation.gff3",
    output:
        tpm="results/{species}/expression/tpm.tsv",
    log:
        "logs/{species}/import_tpm_table.log",
    wildcard_constraints:
        species=alternatives(TABLE_SPECIES),
    localrule: True
    conda:
        "../envs/python.yaml"
    script:
        "../workflow_scripts/import_tpm_table.py"


rule labels:
    input:
        tpm="results/{species}/expression/tpm.tsv",
    output:
        labels="results/{species}/expression/labels.tsv",
        thresholds="results/{species}/expression/thresholds.tsv",
    log:
        "logs/{species}/labels.log",
    localrule: True
    conda:
        "../envs/python.yaml"
    params:
        expected=expected_thresholds,
    script:
        "../workflow_scripts/labels.py"
