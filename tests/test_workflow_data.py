"""The data half of the workflow (references -> reads -> kallisto -> tximport -> labels -> windows)
run with the real tools: once end to end on the demo species, and on tiny broken inputs.

Every sra-tools call runs under `unshare -n` (the configs' sra_command_prefix).
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import shutil
import subprocess
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from workflow_helpers import DEMO_CONFIG, OFFLINE_RUN, REPO, TINY_GENES, TINY_WINDOW, run_snakemake
from workflow_helpers import gene_lines as _gene_lines
from workflow_helpers import no_leftovers as _no_leftovers
from workflow_helpers import random_dna as _random_dna
from workflow_helpers import run_tiny as _run

pytestmark = pytest.mark.workflow

WINDOW = TINY_WINDOW  # the demo's window too
_CODE = {"A": 0, "C": 1, "G": 2, "T": 3}
_COMPLEMENT = str.maketrans("ACGTN", "TGCAN")


# ------------------------------------------------------------------ the demo, run once


@pytest.fixture(scope="module")
def demo(demo_workflow: dict) -> dict:
    """The demo run of the session (tests/conftest.py): the whole workflow, once."""
    return demo_workflow


def read_fasta_gz(path: Path) -> dict[str, str]:
    records: dict[str, list[str]] = {}
    name = ""
    with gzip.open(path, "rt") as handle:
        for line in handle:
            if line.startswith(">"):
                name = line[1:].split()[0]
                records[name] = []
            else:
                records[name].append(line.strip())
    return {k: "".join(v) for k, v in records.items()}


def gff_genes(path: Path) -> pd.DataFrame:
    rows = []
    with gzip.open(path, "rt") as handle:
        for line in handle:
            cols = line.rstrip("\n").split("\t")
            if len(cols) == 9 and cols[2].endswith("gene"):
                attrs = dict(f.split("=", 1) for f in cols[8].split(";") if "=" in f)
                rows.append((attrs["ID"].removeprefix("gene:"), cols[0], int(cols[3]) - 1, int(cols[4]), cols[6], attrs["biotype"]))
    return pd.DataFrame(rows, columns=["gene_id", "chrom", "start", "end", "strand", "biotype"])


def expected_window(genome: dict[str, str], chrom: str, start: int, end: int, strand: str) -> str:
    """The window by plain string slicing (independent of mtmixg.data.sequence)."""
    w = WINDOW
    seq = genome[chrom]
    if strand == "+":
        tss = seq[start - w["upstream_tss"] : start + w["downstream_tss"]]
        tts = seq[end - w["upstream_tts"] : end + w["downstream_tts"]]
    else:  # the TSS is the last base (end - 1), the TTS the first (start); read reverse-complemented
        tss = seq[end - w["downstream_tss"] : end + w["upstream_tss"]].translate(_COMPLEMENT)[::-1]
        tts = seq[start - w["downstream_tts"] : start + w["upstream_tts"]].translate(_COMPLEMENT)[::-1]
    return tss + "N" * w["spacer"] + tts


def test_demo_expression_recovers_simulated_tpm(demo: dict) -> None:
    truth = pd.read_csv(demo["dir"] / "resources/demo/truth/tpm.tsv", sep="\t", index_col=0)
    recovered = pd.read_csv(demo["dir"] / "results/demo/expression/tpm.tsv", sep="\t", index_col=0)
    assert list(recovered.columns) == ["demo_pe", "demo_se", "DEMO0001"]
    common = truth.index.intersection(recovered.index)
    assert len(common) == len(truth)
    rho = truth.loc[common].max(axis=1).corr(recovered.loc[common].max(axis=1), method="spearman")
    assert rho >= 0.9, f"Spearman of max TPM over runs: {rho:.3f}"


def test_demo_windows_equal_genome_slices(demo: dict) -> None:
    folder = demo["dir"] / "results/demo/windows"
    codes = np.load(folder / "windows.npy")
    table = pd.read_csv(folder / "genes.tsv", sep="\t", dtype={"chrom": str, "fold": str})
    genome = read_fasta_gz(demo["dir"] / "resources/demo/genome.fa.gz")
    annotation = gff_genes(demo["dir"] / "resources/demo/annotation.gff3.gz").set_index("gene_id")
    assert codes.shape == (len(table), sum(WINDOW.values()))
    checked = set()
    for strand in "+-":
        rows = np.flatnonzero(table["strand"].to_numpy() == strand)
        for i in rows[[0, len(rows) // 2, -1]]:
            gene = annotation.loc[table.at[i, "gene_id"]]
            letters = expected_window(genome, gene["chrom"], int(gene["start"]), int(gene["end"]), gene["strand"])
            assert codes[i].tolist() == [_CODE.get(c, 4) for c in letters], table.at[i, "gene_id"]
            checked.add(strand)
    assert checked == {"+", "-"}
    assert (table["fold"] == table["chrom"]).all()
    assert set(table["chrom"]) == {"1", "2", "3"}


def test_demo_labels_are_quartiles_of_log_max_tpm(demo: dict) -> None:
    expression = demo["dir"] / "results/demo/expression"
    tpm = pd.read_csv(expression / "tpm.tsv", sep="\t", index_col=0)
    labels = pd.read_csv(expression / "labels.tsv", sep="\t", index_col=0)
    thresholds = pd.read_csv(expression / "thresholds.tsv", sep="\t").iloc[0]
    logmax = np.log10(tpm.max(axis=1) + 1)
    np.testing.assert_allclose(labels.loc[tpm.index, "logMaxTPM"], logmax, rtol=1e-6)
    p25, p75 = np.percentile(logmax, [25, 75])
    assert thresholds["p25"] == pytest.approx(p25) and thresholds["p75"] == pytest.approx(p75)
    expected = np.where(logmax <= p25, -1, np.where(logmax >= p75, 1, 0))
    assert (labels.loc[tpm.index, "label"].to_numpy() == expected).all()
    assert thresholds["n_low"] == (expected == -1).sum() and thresholds["n_high"] == (expected == 1).sum()
    genes = pd.read_csv(demo["dir"] / "results/demo/windows/genes.tsv", sep="\t", index_col=0)
    assert (genes["label"] == labels.loc[genes.index, "label"]).all()


def test_demo_skipped_genes_have_reasons(demo: dict) -> None:
    folder = demo["dir"] / "results/demo/windows"
    kept = pd.read_csv(folder / "genes.tsv", sep="\t", dtype=str)
    skipped = pd.read_csv(folder / "skipped.tsv", sep="\t", dtype=str).set_index("gene_id")
    truth = pd.read_csv(demo["dir"] / "resources/demo/truth/genes.tsv", sep="\t", dtype=str)
    coding = truth[truth["biotype"] == "protein_coding"]
    # every protein-coding gene is either kept or skipped, never both
    assert set(kept["gene_id"]).isdisjoint(skipped.index)
    assert set(kept["gene_id"]) | set(skipped.index) == set(coding["gene_id"])
    scaffold = coding.loc[coding["chrom"] == "scaffold_1", "gene_id"]
    assert len(scaffold) > 0
    assert (skipped.loc[scaffold, "reason"] == "chromosome not in the configured list").all()
    off_end = coding.loc[(coding["window_off_end"] == "1") & (coding["chrom"] != "scaffold_1"), "gene_id"]
    assert len(off_end) > 0
    assert skipped.loc[off_end, "reason"].str.contains("runs off the chromosome").all()
    noncoding = set(truth.loc[truth["biotype"] != "protein_coding", "gene_id"])
    assert noncoding and noncoding.isdisjoint(set(kept["gene_id"]) | set(skipped.index))


def test_demo_sra_run_went_through_fasterq_dump(demo: dict) -> None:
    log = (demo["dir"] / "logs/demo/fasterq_dump/DEMO0001.log").read_text()
    pairs = yaml.safe_load(DEMO_CONFIG.read_text())["demo"]["read_pairs"]
    assert f"reads written   : {2 * pairs:,}" in log
    assert (demo["dir"] / "resources/demo/sra/DEMO0001/DEMO0001.sra").stat().st_size > 0
    # the local-FASTQ samples never went through it
    assert not (demo["dir"] / "logs/demo/fasterq_dump/demo_pe.log").exists()


def test_unreachable_sra_run_fails_alone(demo: dict) -> None:
    run_a = demo["run_a"]
    assert run_a.returncode != 0
    assert "Error in rule prefetch" in run_a.output and f"run={OFFLINE_RUN}" in run_a.output
    log = (demo["dir"] / f"logs/sra/prefetch/{OFFLINE_RUN}.log").read_text()
    assert f"prefetch of SRA run {OFFLINE_RUN} failed" in log
    assert not (demo["dir"] / f"resources/sra/{OFFLINE_RUN}/{OFFLINE_RUN}.sra").exists()
    # --keep-going: the other samples were quantified in that same run
    assert all(demo["quantified_after_a"].values()), demo["quantified_after_a"]


# ------------------------------------------------------------------ tiny broken inputs


@pytest.fixture
def http_server(tiny: dict):
    """A local HTTP server of the tiny species' folder; yields its base URL."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tiny["dir"]))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_tiny_species_runs_to_windows(tiny: dict, http_server: str) -> None:
    # the three ways in: a downloaded URL (with its checksum), a file:// URL of a gzip file, a path
    entry = tiny["config"]["species"]["tiny"]
    gff = tiny["dir"] / "annotation.gff3"
    entry["annotation"] = f"{http_server}/annotation.gff3"
    entry["sha256"] = {"annotation": hashlib.sha256(gff.read_bytes()).hexdigest()}
    with open(tiny["dir"] / "genome.fa", "rb") as src, gzip.open(tiny["dir"] / "genome.fa.gz", "wb") as dst:
        shutil.copyfileobj(src, dst)
    entry["genome"] = f"file://{tiny['dir'] / 'genome.fa.gz'}"
    done = _run(tiny, "data")
    assert done.returncode == 0, done.output[-4000:]
    work = tiny["dir"] / "work"
    assert (work / "resources/tiny/annotation.gff3").read_bytes() == gff.read_bytes()
    assert (work / "resources/tiny/genome.fa").read_bytes() == (tiny["dir"] / "genome.fa").read_bytes()
    assert "SHA-256 ok" in (work / "logs/tiny/references/annotation.log").read_text()
    genes = pd.read_csv(tiny["dir"] / "work/results/tiny/windows/genes.tsv", sep="\t", dtype={"chrom": str})
    assert list(genes["gene_id"]) == ["G1", "G2", "G3", "G4"]
    assert list(genes["label"]) == [-1, 0, 0, 1]


def test_garbled_fasta_is_refused(tiny: dict) -> None:
    lines = (tiny["dir"] / "genome.fa").read_text().splitlines()
    lines[3] = lines[3][:100] + "AC#GT" + lines[3][105:]
    (tiny["dir"] / "genome.fa").write_text("\n".join(lines) + "\n")
    done = _run(tiny, "resources/tiny/genome.fa")
    assert done.returncode != 0
    log = (tiny["dir"] / "work/logs/tiny/references/genome.log").read_text()
    assert "genome.fa:4: record '2': character '#'" in log and "garbled" in log
    assert _no_leftovers(tiny["dir"] / "work/resources/tiny") == []


def test_gff3_without_protein_coding_genes_is_refused(tiny: dict) -> None:
    genes = [(g[0], *g[1:5], "ncRNA") for g in TINY_GENES]
    (tiny["dir"] / "annotation.gff3").write_text(_gene_lines(genes))
    done = _run(tiny, "resources/tiny/annotation.gff3")
    assert done.returncode != 0
    log = (tiny["dir"] / "work/logs/tiny/references/annotation.log").read_text()
    assert "annotation.gff3: no protein-coding genes" in log and "ncRNA" in log
    assert _no_leftovers(tiny["dir"] / "work/resources/tiny") == []


def test_sha256_mismatch_is_refused(tiny: dict) -> None:
    tiny["config"]["species"]["tiny"]["sha256"] = {"cdna": "0" * 64}
    done = _run(tiny, "resources/tiny/cdna.fa")
    assert done.returncode != 0
    log = (tiny["dir"] / "work/logs/tiny/references/cdna.log").read_text()
    assert "species tiny: cdna file" in log and "SHA-256 mismatch: expected " + "0" * 64 in log
    assert _no_leftovers(tiny["dir"] / "work/resources/tiny") == []


def test_tpm_table_matching_no_gene_is_refused(tiny: dict) -> None:
    (tiny["dir"] / "tpm.tsv").write_text("gene_id\trun1\nX1\t1\nX2\t5\n")
    done = _run(tiny, "results/tiny/expression/tpm.tsv")
    assert done.returncode != 0
    log = (tiny["dir"] / "work/logs/tiny/import_tpm_table.log").read_text()
    assert "none of the 2 gene IDs of" in log and "X1, X2" in log
    assert _no_leftovers(tiny["dir"] / "work/results") == []


def test_tpm_table_partial_match_is_counted(tiny: dict) -> None:
    (tiny["dir"] / "tpm.tsv").write_text("gene_id\trun1\nG1\t1\nG2\t5\nX9\t3\n")
    done = _run(tiny, "results/tiny/expression/tpm.tsv")
    assert done.returncode == 0, done.output[-3000:]
    log = (tiny["dir"] / "work/logs/tiny/import_tpm_table.log").read_text()
    assert "1 of 3 TPM genes are not in the annotation" in log
    table = pd.read_csv(tiny["dir"] / "work/results/tiny/expression/tpm.tsv", sep="\t")
    assert list(table["gene_id"]) == ["G1", "G2"]


def test_chromosome_absent_from_fasta_is_refused(tiny: dict) -> None:
    tiny["config"]["species"]["tiny"]["chromosomes"] = ["1", "2", "7"]
    done = _run(tiny, "data")
    assert done.returncode != 0
    log = (tiny["dir"] / "work/logs/tiny/windows.log").read_text()
    assert "configured chromosome(s) '7' not in" in log and "the FASTA has: 1, 2" in log
    assert _no_leftovers(tiny["dir"] / "work/results/tiny/windows") == []


def test_config_typo_and_wrong_type_stop_before_any_job(tiny: dict) -> None:
    tiny["config"]["trimmming"] = {"quality": 20}
    done = _run(tiny, "data")
    assert done.returncode != 0 and "'trimmming' was unexpected" in done.output
    del tiny["config"]["trimmming"]
    tiny["config"]["trimming"] = {"quality": "high"}
    done = _run(tiny, "data")
    assert done.returncode != 0 and "'high' is not of type 'integer'" in done.output
    assert not (tiny["dir"] / "work/resources").exists()


def test_homology_filter_marks_genes_with_homologs_elsewhere(tiny: dict) -> None:
    rng = np.random.default_rng(2)
    shared = _random_dna(rng, 400)  # G1 (chromosome 1) and G3 (chromosome 2) are homologs
    seqs = {"G1": shared, "G2": _random_dna(rng, 400), "G3": shared[:390] + "ACGTACGTAC", "G4": _random_dna(rng, 400)}
    (tiny["dir"] / "cdna.fa").write_text("".join(f">{g}.1 gene:{g}\n{s}\n" for g, s in seqs.items()))
    tiny["config"]["homology_filter"] = {"enabled": True, "threads": 1}
    done = _run(tiny, "results/tiny/windows/test_genes.tsv")
    assert done.returncode == 0, done.output[-3000:]
    table = pd.read_csv(tiny["dir"] / "work/results/tiny/windows/test_genes.tsv", sep="\t", index_col=0)
    assert table["test_eligible"].to_dict() == {"G1": False, "G2": True, "G3": False, "G4": True}
    # training reads the filter: test_genes.tsv is a named input of every fold's job
    tiny["config"]["architectures"] = ["cnn"]
    done = _run(tiny, "-n", "results/tiny/models/cnn/seed0/1/model.pt")
    assert done.returncode == 0, done.output[-3000:]
    job_inputs = [line for line in done.output.splitlines() if line.strip().startswith("input:") and "windows.npy" in line]
    assert job_inputs and all("results/tiny/windows/test_genes.tsv" in line for line in job_inputs)


def test_homology_filter_blastp_finds_paralogs_by_their_proteins(tiny: dict) -> None:
    rng = np.random.default_rng(3)
    aa = "ACDEFGHIKLMNPQRSTVWY"
    protein = "M" + "".join(rng.choice(list(aa), 250))
    diverged = "".join(c if rng.random() < 0.6 else aa[(aa.index(c) + 7) % 20] for c in protein)
    proteins = {"G1": protein, "G2": "M" + "".join(rng.choice(list(aa), 250)), "G3": diverged, "G4": "M" + "".join(rng.choice(list(aa), 250))}
    # the cDNAs (random, unrelated) stay as the fixture made them: blastn finds no homolog
    (tiny["dir"] / "pep.fa").write_text("".join(f">{g}.1.p pep gene:{g} transcript:{g}.1\n{s}\n" for g, s in proteins.items()))
    tiny["config"]["homology_filter"] = {"enabled": True, "method": "blastp", "threads": 1}
    done = _run(tiny, "results/tiny/windows/test_genes.tsv")
    assert "homology_filter.method blastp needs the species' proteins: add 'pep'" in done.output
    assert done.returncode != 0
    tiny["config"]["species"]["tiny"]["pep"] = str(tiny["dir"] / "pep.fa")
    done = _run(tiny, "results/tiny/windows/test_genes.tsv")
    assert done.returncode == 0, done.output[-3000:]
    table = pd.read_csv(tiny["dir"] / "work/results/tiny/windows/test_genes.tsv", sep="\t", index_col=0)
    assert table["test_eligible"].to_dict() == {"G1": False, "G2": True, "G3": False, "G4": True}
    assert (tiny["dir"] / "work/resources/tiny/pep.fa").read_text().count(">") == 4


def _sheet(tiny: dict, rows: list[str]) -> None:
    tiny["config"]["species"]["tiny"].pop("tpm_table")
    (tiny["dir"] / "samples.tsv").write_text("species\tsample\tlayout\tfq1\n" + "".join(r + "\n" for r in rows))


def test_duplicate_samples_are_refused(tiny: dict) -> None:
    _sheet(tiny, ["tiny\ts1\tSE\ta.fq", "tiny\ts2\tSE\tb.fq", "tiny\ts1\tSE\tc.fq"])
    done = _run(tiny, "-n", "data")
    assert done.returncode != 0
    assert "duplicate sample name(s): 's1' (lines 2, 4)" in done.output


@pytest.mark.parametrize("name", ["x;touch pwned", "a b", "$(touch pwned)"])
def test_unsafe_sample_names_are_refused(tiny: dict, name: str) -> None:
    _sheet(tiny, ["tiny\tok\tSE\ta.fq", f"tiny\t{name}\tSE\tb.fq"])
    done = _run(tiny, "data")
    assert done.returncode != 0
    assert f"samples.tsv, line 3: sample name {name!r} is not allowed" in done.output
    assert not (tiny["dir"] / "work/pwned").exists() and not (tiny["dir"] / "pwned").exists()
    assert not (REPO / "pwned").exists()


def test_sample_sheet_only_needed_for_species_with_reads(tiny: dict) -> None:
    tiny["config"].pop("samples")
    tiny["config"]["sra_command_prefix"] = None  # what `--config sra_command_prefix=""` gives
    done = _run(tiny, "-n", "data")
    assert done.returncode == 0, done.output[-3000:]  # a TPM-table species needs no sample sheet
    tiny["config"]["species"]["tiny"].pop("tpm_table")
    done = _run(tiny, "-n", "data")
    assert done.returncode != 0
    assert "config key 'samples' is missing: species tiny have no tpm_table" in done.output


def test_placeholder_run_is_refused(tiny: dict) -> None:
    _sheet(tiny, [])
    (tiny["dir"] / "samples.tsv").write_text("species\tsample\tlayout\trun\ntiny\tleaf\tPE\tREPLACE_ME_leaf_run\n")
    done = _run(tiny, "data")
    assert done.returncode != 0
    assert "line 2 (sample leaf): run 'REPLACE_ME_leaf_run' is not an SRA run accession" in done.output
    assert not (tiny["dir"] / "work/results").exists()


def test_reads_empty_after_trimming_are_refused(tiny: dict) -> None:
    rng = np.random.default_rng(1)
    with gzip.open(tiny["dir"] / "bad.fastq.gz", "wt") as handle:
        for i in range(200):  # quality '#' (Phred 2): sickle drops every read
            handle.write(f"@r{i}\n{_random_dna(rng, 50)}\n+\n{'#' * 50}\n")
    _sheet(tiny, [f"tiny\tbad\tSE\t{tiny['dir'] / 'bad.fastq.gz'}"])
    target = "results/tiny/trimmed/bad/single.fastq.gz"
    done = _run(tiny, target)
    assert done.returncode != 0
    log = (tiny["dir"] / "work/logs/tiny/trim/bad.log").read_text()
    assert f"sample bad: {target} is empty after trimming" in log
    assert not (tiny["dir"] / "work" / target).exists()


# ------------------------------------------------------------------ style


def test_snakemake_lint_passes(tmp_path: Path) -> None:
    done = run_snakemake(tmp_path, "--lint", configfile=REPO / "config/demo/config.yaml", timeout=120)
    assert done.returncode == 0, done.output[-4000:]


def test_snakefmt_check_passes() -> None:
    snakefmt = shutil.which("snakefmt") or "snakefmt"
    unformatted = [
        str(path.relative_to(REPO))
        for path in [REPO / "Snakefile", *sorted((REPO / "rules").glob("*.smk"))]
        if subprocess.run([snakefmt, "--check", str(path)], capture_output=True).returncode != 0
    ]
    assert unformatted == [], f"snakefmt would reformat: {', '.join(unformatted)}"
