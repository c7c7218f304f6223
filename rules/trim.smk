# Quality trimming with sickle. PE: reads whose mate was dropped (sickle's singles) are
# discarded. A file left empty by trimming stops the sample with a message (kallisto would
# otherwise fail obscurely).

CHECK_NOT_EMPTY = (
    'for f in {output:q}; do if [ -z "$(gzip -cd "$f" | head -c 1)" ]; then'
    ' echo "sample {wildcards.sample}: $f is empty after trimming (sickle -t'
    " {params.quality_type} -q {params.quality} -l {params.min_length}): check the reads and"
    ' the trimming settings (quality_type, quality, min_length) in the config" >&2;'
    " exit 1; fi; done"
)


rule trim_pe:
    input:
        unpack(raw_reads),
    output:
        r1=temp("results/{species}/trimmed/{sample}/R1.fastq.gz"),
        r2=temp("results/{species}/trimmed/{sample}/R2.fastq.gz"),
    log:
        "logs/{species}/trim/{sample}.log",
    benchmark:
        "benchmarks/{species}/trim/{sample}.tsv"
    conda:
        "../envs/sickle.yaml"
    params:
        quality_type=config["trimming"]["quality_type"],
        quality=config["trimming"]["quality"],
        min_length=config["trimming"]["min_length"],
    shell:
        "(sickle pe -g -f {input.r1:q} -r {input.r2:q} -t {params.quality_type}"
        " -q {params.quality} -l {params.min_length}"
        " -o {output.r1:q} -p {output.r2:q} -s /dev/null && "
        f"{CHECK_NOT_EMPTY}) > {{log:q}} 2>&1"


rule trim_se:
    input:
        unpack(raw_reads),
    output:
        reads=temp("results/{species}/trimmed/{sample}/single.fastq.gz"),
    log:
        "logs/{species}/trim/{sample}.log",
    benchmark:
        "benchmarks/{species}/trim/{sample}.tsv"
    conda:
        "../envs/sickle.yaml"
    params:
        quality_type=config["trimming"]["quality_type"],
        quality=config["trimming"]["quality"],
        min_length=config["trimming"]["min_length"],
    shell:
        "(sickle se -g -f {input.reads:q} -t {params.quality_type}"
        " -q {params.quality} -l {params.min_length} -o {output.reads:q} && "
        f"{CHECK_NOT_EMPTY}) > {{log:q}} 2>&1"
