# Transcript quantification with kallisto 0.48 (plain-text output: abundance.tsv, run_info.json).


rule kallisto_index:
    input:
        "resources/{species}/cdna.fa",
    output:
        "resources/{species}/kallisto.idx",
    log:
        "logs/{species}/kallisto_index.log",
    benchmark:
        "benchmarks/{species}/kallisto_index.tsv"
    conda:
        "../envs/kallisto.yaml"
    shell:
        "kallisto index -i {output:q} {input:q} > {log:q} 2>&1"


rule kallisto_quant:
    input:
        index="resources/{species}/kallisto.idx",
        reads=trimmed_reads,
    output:
        abundance="results/{species}/kallisto/{sample}/abundance.tsv",
        run_info="results/{species}/kallisto/{sample}/run_info.json",
    log:
        "logs/{species}/kallisto_quant/{sample}.log",
    benchmark:
        "benchmarks/{species}/kallisto_quant/{sample}.tsv"
    conda:
        "../envs/kallisto.yaml"
    threads: config["kallisto"]["threads"]
    params:
        layout=kallisto_layout,
        outdir=output_folder,
    shell:
        "kallisto quant --plaintext -i {input.index:q} -o {params.outdir:q} -t {threads}"
        " {params.layout:q} {input.reads:q} > {log:q} 2>&1"
