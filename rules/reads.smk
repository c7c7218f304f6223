# Reads of the samples without local FASTQ files: prefetch the run from the SRA (unless the
# sheet gives its .sra file), then fasterq-dump it. Every sra-tools call is prefixed with
# config["sra_command_prefix"] (e.g. "unshare -n" in tests). prefetch may write a .vdbcache
# beside the .sra (or .sralite): it stays beside it, as {run}.sra.vdbcache, where fasterq-dump
# looks for it. fasterq-dump's temp files (several times the run's size) go to $TMPDIR, which
# Snakemake sets from its tmpdir resource (the system temp folder: on a cluster node, its local
# disk), else beside the output; the log's first line names the folder.


rule prefetch:
    output:
        "resources/sra/{run}/{run}.sra",
    log:
        "logs/sra/prefetch/{run}.log",
    retries: 3
    localrule: DOWNLOADS_LOCAL
    conda:
        "../envs/sra-tools.yaml"
    params:
        prefix=command_prefix(),
        max_size=config["sra"]["max_size"],
    shell:
        "(tmp=$(mktemp -d resources/sra/{wildcards.run:q}/.prefetch.XXXXXX) && "
        ' {params.prefix} prefetch {wildcards.run:q} --max-size {params.max_size:q} -O "$tmp" && '
        ' got="$tmp"/{wildcards.run:q}/{wildcards.run:q} && '
        ' for sra in "$got.sra" "$got.sralite"; do [ -f "$sra" ] && break; done && '
        ' [ -f "$sra" ] && rm -f {output:q}.vdbcache && '
        ' {{ [ ! -f "$sra.vdbcache" ] || mv "$sra.vdbcache" {output:q}.vdbcache; }} && '
        ' mv "$sra" {output:q} && rm -rf "$tmp"'
        ' || {{ rm -rf "$tmp"; echo "prefetch of SRA run "{wildcards.run:q}" failed'
        ' (no network? unknown accession?)" >&2; exit 1; }}) > {log:q} 2>&1'


rule fasterq_dump_pe:
    input:
        sra=sra_input,
    output:
        r1=temp("results/{species}/reads/{sample}/R1.fastq.gz"),
        r2=temp("results/{species}/reads/{sample}/R2.fastq.gz"),
    log:
        "logs/{species}/fasterq_dump/{sample}.log",
    benchmark:
        "benchmarks/{species}/fasterq_dump/{sample}.tsv"
    conda:
        "../envs/sra-tools.yaml"
    threads: config["sra"]["threads"]
    params:
        prefix=command_prefix(),
        run=run_accession,
    shell:
        '(scratch="" && tmp=$(mktemp -d results/{wildcards.species:q}/reads/{wildcards.sample:q}/.dump.XXXXXX) && '
        ' scratch=$(mktemp -d "${{TMPDIR:-$tmp}}/fasterq-dump.XXXXXX") && echo "fasterq-dump temp dir: $scratch" && '
        " {params.prefix} fasterq-dump {input.sra:q} --split-3 -e {threads}"
        ' -t "$scratch" -O "$tmp" -o reads.fastq && '
        ' {{ [ -s "$tmp/reads_1.fastq" ] && [ -s "$tmp/reads_2.fastq" ] || {{ echo "sample "{wildcards.sample:q}'
        '" (run "{params.run:q}"): fasterq-dump gave no read pairs from "{input.sra:q}"; is the run'
        ' single-end (layout SE)?" >&2; false; }}; }} && '
        ' gzip -1 "$tmp/reads_1.fastq" "$tmp/reads_2.fastq" && '
        ' mv "$tmp/reads_1.fastq.gz" {output.r1:q} && mv "$tmp/reads_2.fastq.gz" {output.r2:q} && rm -rf "$tmp" "$scratch"'
        ' || {{ rm -rf "$tmp" "$scratch"; exit 1; }}) > {log:q} 2>&1'


rule fasterq_dump_se:
    input:
        sra=sra_input,
    output:
        reads=temp("results/{species}/reads/{sample}/single.fastq.gz"),
    log:
        "logs/{species}/fasterq_dump/{sample}.log",
    benchmark:
        "benchmarks/{species}/fasterq_dump/{sample}.tsv"
    conda:
        "../envs/sra-tools.yaml"
    threads: config["sra"]["threads"]
    params:
        prefix=command_prefix(),
        run=run_accession,
    shell:
        '(scratch="" && tmp=$(mktemp -d results/{wildcards.species:q}/reads/{wildcards.sample:q}/.dump.XXXXXX) && '
        ' scratch=$(mktemp -d "${{TMPDIR:-$tmp}}/fasterq-dump.XXXXXX") && echo "fasterq-dump temp dir: $scratch" && '
        " {params.prefix} fasterq-dump {input.sra:q} -e {threads}"
        ' -t "$scratch" -O "$tmp" -o reads.fastq && '
        ' {{ [ -s "$tmp/reads.fastq" ] || {{ echo "sample "{wildcards.sample:q}" (run "{params.run:q}"):'
        ' fasterq-dump gave no single reads from "{input.sra:q}"; is the run paired-end (layout PE)?" >&2; false; }}; }} && '
        ' gzip -1 "$tmp/reads.fastq" && mv "$tmp/reads.fastq.gz" {output.reads:q} && rm -rf "$tmp" "$scratch"'
        ' || {{ rm -rf "$tmp" "$scratch"; exit 1; }}) > {log:q} 2>&1'
