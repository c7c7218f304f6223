# The simulated demo species (mtmixg.demo), generated into resources/demo/ when demo.enabled.
# Point a species at resources/demo/*.gz (see config/demo/config.yaml) to use it.

DEMO_DIR = "resources/demo"
DEMO_READS = [
    "demo_pe_1.fastq.gz",
    "demo_pe_2.fastq.gz",
    "demo_se.fastq.gz",
    "DEMO0001_1.fastq.gz",
    "DEMO0001_2.fastq.gz",
]

if config["demo"]["enabled"]:

    rule demo_species:
        output:
            genome=f"{DEMO_DIR}/genome.fa.gz",
            annotation=f"{DEMO_DIR}/annotation.gff3.gz",
            cdna=f"{DEMO_DIR}/cdna.fa.gz",
            pep=f"{DEMO_DIR}/pep.fa.gz",
            reads=expand(f"{DEMO_DIR}/reads/{{name}}", name=DEMO_READS),
            truth_tpm=f"{DEMO_DIR}/truth/tpm.tsv",
            truth_genes=f"{DEMO_DIR}/truth/genes.tsv",
            truth_paralogs=f"{DEMO_DIR}/truth/paralogs.tsv",
            meta=f"{DEMO_DIR}/demo.json",
        log:
            "logs/demo/demo_species.log",
        benchmark:
            "benchmarks/demo/demo_species.tsv"
        conda:
            "../envs/python.yaml"
        params:
            seed=config["demo"]["seed"],
            genes_per_chromosome=config["demo"]["genes_per_chromosome"],
            read_pairs=config["demo"]["read_pairs"],
        script:
            "../workflow_scripts/demo_species.py"

    # A real .sra archive of run DEMO0001, built offline from its FASTQ files, so that the demo
    # goes through fasterq-dump like a downloaded run. sra-tools always try the network; the demo
    # config sets sra_command_prefix "unshare -n" to cut it off (users without the right to
    # unshare set sra_command_prefix: "").
    rule demo_sra:
        input:
            r1=f"{DEMO_DIR}/reads/DEMO0001_1.fastq.gz",
            r2=f"{DEMO_DIR}/reads/DEMO0001_2.fastq.gz",
        output:
            f"{DEMO_DIR}/sra/DEMO0001/DEMO0001.sra",
        log:
            "logs/demo/demo_sra.log",
        conda:
            "../envs/sra-tools.yaml"
        params:
            folder=output_folder,
            prefix=command_prefix(),
        shell:
            "(tmp=$(mktemp -d {params.folder:q}/.tmp.XXXXXX) && "
            " {params.prefix} latf-load --platform ILLUMINA --quality PHRED_33"
            " -o $tmp/DEMO0001.vdb -1 {input.r1:q} -2 {input.r2:q} && "
            " {params.prefix} kar --create $tmp/DEMO0001.sra -d $tmp/DEMO0001.vdb && "
            " mv $tmp/DEMO0001.sra {output:q} && rm -rf $tmp"
            ' || {{ rm -rf "$tmp"; exit 1; }}) > {log:q} 2>&1'
