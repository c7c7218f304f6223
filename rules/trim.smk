# Quality trimming with sickle. PE: reads whose mate was dropped (sickle's singles) are
# discarded. Before sickle, every input is read to its end: a damaged or cut-short file (a
# half-finished download) or PE mates of unequal length stop the sample with a message naming the
# file (sickle would stop early at the damage, or drop a mate's extra reads, and exit 0). A file
# left empty by trimming stops the sample with a message (kallisto would otherwise fail
# obscurely).
CHECK_READS = (
    "for f in {input:q}; do"
    ' if ! n=$(gzip -cdf "$f" | wc -l); then echo "sample "{wildcards.sample:q}": $f is damaged or'
    ' cut short (gzip cannot read it to its end; a half-finished download?): download it again" >&2;'
    " exit 1; fi;"
    ' [ -z "${{first:-}}" ] || [ "$n" -eq "$lines" ] || {{ echo "sample "{wildcards.sample:q}":'
    " $f holds $((n / 4)) reads but its mate $first holds $((lines / 4)) reads: the files of a PE"
    ' run must hold the same reads (is one cut short?)" >&2; exit 1; }};'
    " first=${{first:-$f}}; lines=${{lines:-$n}}; done"
)
CHECK_NOT_EMPTY = (
    'for f in {output:q}; do if [ -z "$(gzip -cd "$f" | head -c 1)" ]; then'
    ' echo "sample "{wildcards.sample:q}": $f is empty after trimming (sickle -t "{params.quality_type:q}'
    '" -q "{params.quality:q}" -l "{params.min_length:q}"): check the reads and'
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
        f"({CHECK_READS} && "
        "sickle pe -g -f {input.r1:q} -r {input.r2:q} -t {params.quality_type:q}"
        " -q {params.quality:q} -l {params.min_length:q}"
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
        f"({CHECK_READS} && "
        "sickle se -g -f {input.reads:q} -t {params.quality_type:q}"
        " -q {params.quality:q} -l {params.min_length:q} -o {output.reads:q} && "
        f"{CHECK_NOT_EMPTY}) > {{log:q}} 2>&1"
