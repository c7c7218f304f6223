import json
import re
import shlex
import sys
from pathlib import Path

import yaml
from mtmixg.core.configio import check_integers, check_renamed_keys, check_unique_keys
from mtmixg.core.samples import read_sample_sheet
from mtmixg.core.species import check_names, check_reference_paths, plan_species
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

##### config #####


def validate_strictly(schema):
    """validate() against config/schemas/<schema>, then refuse a float where it says integer."""
    path = Path(workflow.basedir) / "config" / "schemas" / schema
    validate(config, schema=str(path))
    check_integers(config, yaml.safe_load(path.read_text()))


try:
    # Snakemake reads config files with plain PyYAML/json, which keep the last of two equal keys
    for _configfile in workflow.configfiles:
        check_unique_keys(Path(_configfile).read_text(encoding="utf-8"), _configfile)
    # keys renamed so that "variant" means only a VCF variant: one line names the new key
    check_renamed_keys(config)
    check_reference_paths(config)
    validate_strictly("config.schema.yaml")
    check_names(config)
    species_plan = plan_species(config)
except ValueError as err:
    raise WorkflowError(str(err))
SPECIES = species_plan.enabled
# The downloads (get_genome, get_annotation, get_cdna, get_pep, prefetch) run on the submit host
# (`localrule`), unless config downloads_as_jobs: then a cluster executor submits them as jobs.
DOWNLOADS_LOCAL = not config["downloads_as_jobs"]
# species whose expression comes from a ready TPM table (no reads) / from reads
TABLE_SPECIES = species_plan.table
READS_SPECIES = species_plan.reads
# species with `enabled: false` are ready entries left out of this run (one line says so)
if species_plan.disabled and workflow.is_main_process:
    print(species_plan.left_out_line(), file=sys.stderr)
NO_MATCH = "(?!)"  # a wildcard constraint that matches nothing


def resolve_config_path(path):
    """A config path relative to the working directory, else to the workflow's folder."""
    path = Path(path)
    if path.is_absolute() or path.exists():
        return path
    in_repo = Path(workflow.basedir) / path
    return in_repo if in_repo.exists() else path


##### sample sheet #####


try:
    samples = read_sample_sheet(
        resolve_config_path(config["samples"]) if config.get("samples") else None,
        configured_species=list(config["species"]),
        reads_species=READS_SPECIES,
    )
except ValueError as err:
    raise WorkflowError(str(err))
validate(samples.drop(columns="line"), schema="../config/schemas/samples.schema.yaml")
# species with a TPM table take no reads, disabled species are left out: their rows are ignored
samples = samples[samples["species"].isin(READS_SPECIES)]

for _species in READS_SPECIES:
    if not (samples["species"] == _species).any():
        raise WorkflowError(
            f"species {_species!r} has no samples in {config.get('samples')} and no tpm_table in the "
            "config: give one or the other"
        )


##### wildcard constraints #####


def alternatives(names):
    """A regex matching exactly one of names (or nothing when there are none)."""
    return "|".join(re.escape(str(n)) for n in names) or NO_MATCH


wildcard_constraints:
    species=alternatives(SPECIES),
    sample=alternatives(samples.index),
    run="[A-Za-z0-9._-]+",


##### helpers #####


def sample_row(wildcards):
    """The sheet row of a sample; its species must be the path's species."""
    row = samples.loc[wildcards.sample]
    if "species" in wildcards.keys() and row["species"] != wildcards.species:
        raise WorkflowError(
            f"sample {wildcards.sample} belongs to species {row['species']}, not {wildcards.species}"
        )
    return row


def command_prefix():
    """The configured sra-tools command prefix, each word shell-quoted ('' when none)."""
    prefix = config["sra_command_prefix"] or ""
    try:
        return " ".join(shlex.quote(w) for w in shlex.split(prefix))
    except ValueError as err:  # an unclosed quote
        raise WorkflowError(
            f"config key sra_command_prefix: {prefix!r} cannot be split into words ({err})"
        )


def source_path(source):
    """Local path of a file:// URL or plain path; None for a remote (https/ftp) URL."""
    if source.startswith(("http://", "https://", "ftp://")):
        return None
    return source[len("file://") :] if source.startswith("file://") else source


def reference_input(kind):
    """Input function: a local reference file is the rule's input (so a rule may make it)."""

    def local_reference(wildcards):
        path = source_path(config["species"][wildcards.species][kind])
        return [] if path is None else [path]

    return local_reference


def reference_params(kind):
    """Params function: source URL/path, expected sha256 (or '') of one reference file."""

    def reference_source(wildcards):
        entry = config["species"][wildcards.species]
        return {
            "source": entry[kind],
            "sha256": entry.get("sha256", {}).get(kind, ""),
        }

    return reference_source


def sra_input(wildcards):
    """The .sra file of a sample: the sheet's sra_file, else the prefetched run."""
    row = sample_row(wildcards)
    if row["sra_file"] is not None:
        return row["sra_file"]
    return f"resources/sra/{row['run']}/{row['run']}.sra"


def run_accession(wildcards):
    """Params function: the sample's run accession (for messages), else its .sra file's name."""
    row = sample_row(wildcards)
    return row["run"] or Path(row["sra_file"]).name


def raw_reads(wildcards):
    """Reads of a sample before trimming ({r1, r2} or {reads}): local files or fasterq-dump's."""
    row = sample_row(wildcards)
    if row["fq1"] is not None:
        files = [row["fq1"], row["fq2"]] if row["layout"] == "PE" else [row["fq1"]]
    else:
        folder = f"results/{row['species']}/reads/{row['sample']}"
        files = (
            [f"{folder}/R1.fastq.gz", f"{folder}/R2.fastq.gz"]
            if row["layout"] == "PE"
            else [f"{folder}/single.fastq.gz"]
        )
    return (
        dict(zip(["r1", "r2"], files)) if row["layout"] == "PE" else {"reads": files[0]}
    )


def trimmed_reads(wildcards):
    """Trimmed reads of a sample, in kallisto's order."""
    row = sample_row(wildcards)
    folder = f"results/{row['species']}/trimmed/{row['sample']}"
    if row["layout"] == "PE":
        return [f"{folder}/R1.fastq.gz", f"{folder}/R2.fastq.gz"]
    return [f"{folder}/single.fastq.gz"]


def output_folder(wildcards, output):
    """The folder of a rule's first output (for tools that take an output folder)."""
    return str(Path(output[0]).parent)


def kallisto_layout(wildcards):
    """kallisto quant options of the layout: none for PE, --single -l -s for SE (shell words)."""
    row = sample_row(wildcards)
    if row["layout"] == "PE":
        return []
    mean = row["fragment_length_mean"] or config["kallisto"]["single_fragment_length"]
    sd = row["fragment_length_sd"] or config["kallisto"]["single_fragment_sd"]
    return ["--single", "-l", str(float(mean)), "-s", str(float(sd))]


def species_samples(species):
    return list(samples.index[samples["species"] == species])


def tximport_input(wildcards):
    """tx2gene and the kallisto abundances of every sample of a species."""
    return {
        "tx2gene": f"resources/{wildcards.species}/tx2gene.tsv",
        "abundances": [
            f"results/{wildcards.species}/kallisto/{name}/abundance.tsv"
            for name in species_samples(wildcards.species)
        ],
    }


def tximport_abundances(wildcards, input):
    """sample=path arguments of tximport.R (sample names are checked shell-safe)."""
    names = species_samples(wildcards.species)
    return [f"{name}={path}" for name, path in zip(names, input.abundances)]


def expected_thresholds(wildcards):
    """The species' expected_thresholds ({p25, p75}) or None: only logged beside ours."""
    return config["species"][wildcards.species].get("expected_thresholds")


def tpm_table_input(wildcards):
    """A local tpm_table without a sha256 as it is; else the copy rule get_tpm_table fetches."""
    entry = config["species"][wildcards.species]
    path = source_path(entry["tpm_table"])
    if path is not None and not entry.get("sha256", {}).get("tpm_table"):
        return path
    return f"resources/{wildcards.species}/tpm_table"


def window_spec():
    """The configured window as canonical JSON of WindowSpec fields (sorted keys: a config
    rewritten in another key order changes no params and reruns nothing)."""
    # mask_codons (a former window key) is a model setting now: not part of the windows
    sizes = {k: v for k, v in config["window"].items() if k != "mask_codons"}
    return json.dumps(sizes, sort_keys=True)


def chromosomes(wildcards):
    return [str(c) for c in config["species"][wildcards.species]["chromosomes"]]


def homology_input(wildcards):
    """The homology filter's inputs: the proteins (blastp) or the cDNA and tx2gene (blastn)."""
    folder = f"resources/{wildcards.species}"
    if config["homology_filter"]["method"] == "blastp":
        return {"sequences": f"{folder}/pep.fa", "gff": f"{folder}/annotation.gff3"}
    return {
        "sequences": f"{folder}/cdna.fa",
        "tx2gene": f"{folder}/tx2gene.tsv",
        "gff": f"{folder}/annotation.gff3",
    }


def windows_outputs(species):
    folder = f"results/{species}/windows"
    outputs = [
        f"{folder}/{name}"
        for name in ("windows.npy", "genes.tsv", "window.json", "skipped.tsv")
    ]
    if config["homology_filter"]["enabled"]:
        outputs.append(f"{folder}/test_genes.tsv")
    return outputs


def data_targets(wildcards=None):
    """Every file of the data half: the windows dataset (and labels) of each species."""
    targets = []
    for species in SPECIES:
        targets += windows_outputs(species)
        targets.append(f"results/{species}/expression/thresholds.tsv")
    return targets
