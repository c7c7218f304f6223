# Variant effects: for every species whose config gives a `vcf`, each SNP / small indel of it is
# scored per gene window it falls in (`mtmixg score-variants`), once per trained architecture: each
# gene by the models that held out its chromosome, averaged over seeds. Outputs a TSV (one row per
# variant x gene) and the VCF with INFO field MTMIXG added.


rule variant_effects:
    input:
        # every leave-one-chromosome-out model of the species and experiment (all seeds): the
        # files of the records of params runs (variant_effect_runs)
        models=variant_effect_files,
        genome="resources/{species}/genome.fa",
        fai="resources/{species}/genome.fa.fai",
        gff="resources/{species}/annotation.gff3",
        vcf=lambda w: str(resolve_config_path(config["species"][w.species]["vcf"])),
    output:
        tsv="results/{species}/variant_effects/{experiment}/variants.tsv",
        vcf="results/{species}/variant_effects/{experiment}/variants.vcf.gz",
    log:
        "logs/{species}/variant_effects/{experiment}.log",
    benchmark:
        "benchmarks/{species}/variant_effects/{experiment}.tsv"
    conda:
        "../envs/python.yaml"
    threads: TRAIN_RESOURCES["threads"]
    resources:
        mem_mb=TRAIN_RESOURCES["mem_mb"],
        runtime=TRAIN_RESOURCES["runtime"],
    params:
        runs=variant_effect_runs,
    script:
        "../workflow_scripts/variant_effects.py"


if config["demo"]["enabled"]:

    # The demo's proof VCF (mtmixg.variant_effects.demo_vcf): SNPs breaking a planted activator
    # in 20 genes labelled high, and as many SNPs at motif-free window positions.
    rule demo_variants:
        input:
            genome=f"{DEMO_DIR}/genome.fa.gz",
            truth=f"{DEMO_DIR}/truth/genes.tsv",
            labels="results/demo/expression/labels.tsv",
        output:
            vcf=f"{DEMO_DIR}/variants.vcf.gz",
            tbi=f"{DEMO_DIR}/variants.vcf.gz.tbi",
        log:
            "logs/demo/demo_variants.log",
        localrule: True
        conda:
            "../envs/python.yaml"
        script:
            "../workflow_scripts/demo_variants.py"
