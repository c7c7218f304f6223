# The windows dataset of a species (mtmixg.data.dataset layout): windows.npy, genes.tsv,
# window.json and skipped.tsv (every protein-coding gene left out, with the reason).


rule windows:
    input:
        genome="resources/{species}/genome.fa",
        fai="resources/{species}/genome.fa.fai",
        gff="resources/{species}/annotation.gff3",
        labels="results/{species}/expression/labels.tsv",
    output:
        windows="results/{species}/windows/windows.npy",
        genes="results/{species}/windows/genes.tsv",
        spec="results/{species}/windows/window.json",
        skipped="results/{species}/windows/skipped.tsv",
    log:
        "logs/{species}/windows.log",
    benchmark:
        "benchmarks/{species}/windows.tsv"
    conda:
        "../envs/python.yaml"
    params:
        window=window_spec(),
        chromosomes=chromosomes,
        task=config["task"],
    script:
        "../workflow_scripts/windows.py"
