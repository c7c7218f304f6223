"""The demo species generator: reproducible, self-consistent, and its expression follows its motifs."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mtmixg import demo
from mtmixg.data.sequence import gene_window, reverse_complement

GENES = 25
PAIRS = 3000


def _read_fasta(path: Path) -> dict[str, tuple[str, str]]:
    """name -> (header, sequence) of a gzipped FASTA."""
    out: dict[str, tuple[str, str]] = {}
    name, header, chunks = None, "", []
    with gzip.open(path, "rt") as handle:
        for line in handle:
            line = line.rstrip("\n")
            if line.startswith(">"):
                if name is not None:
                    out[name] = (header, "".join(chunks))
                header = line[1:]
                name, chunks = header.split()[0], []
            else:
                chunks.append(line)
    if name is not None:
        out[name] = (header, "".join(chunks))
    return out


def _attrs(field: str) -> dict[str, str]:
    return dict(kv.split("=", 1) for kv in field.split(";") if kv)


def _read_gff(path: Path) -> list[list[str]]:
    with gzip.open(path, "rt") as handle:
        return [line.rstrip("\n").split("\t") for line in handle if not line.startswith("#")]


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "species"
    meta = demo.make_demo(out, seed=7, genes_per_chromosome=GENES, read_pairs=PAIRS)
    assert meta["generation_seconds"] >= 0
    return out


@pytest.fixture(scope="module")
def genome(demo_dir) -> dict[str, str]:
    return {name: seq for name, (_, seq) in _read_fasta(demo_dir / "genome.fa.gz").items()}


@pytest.fixture(scope="module")
def truth(demo_dir) -> pd.DataFrame:
    return pd.read_csv(demo_dir / "truth" / "genes.tsv", sep="\t", dtype={"chrom": str})


def _digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_layout_and_metadata(demo_dir):
    meta = json.loads((demo_dir / "demo.json").read_text())
    assert meta["chromosomes"] == ["1", "2", "3"]
    assert meta["window"] == demo.DEMO_WINDOW.to_dict()
    assert meta["seed"] == 7
    runs = {r["name"]: r for r in meta["runs"]}
    assert set(runs) >= {"demo_pe", "demo_se", "DEMO0001"}
    assert runs["demo_pe"]["layout"] == "paired" and runs["demo_se"]["layout"] == "single"
    assert runs["demo_pe"]["fragment_mean"] == 200 and runs["demo_pe"]["fragment_sd"] == 20
    for run in meta["runs"]:
        for name in run["files"]:
            assert (demo_dir / name).stat().st_size > 0
    for name in ("genome.fa.gz", "annotation.gff3.gz", "cdna.fa.gz", "truth/tpm.tsv", "truth/genes.tsv"):
        assert (demo_dir / name).is_file()
    # nothing temporary is left beside or inside the output
    assert [p.name for p in demo_dir.parent.iterdir()] == ["species"]
    assert not [p for p in demo_dir.rglob("*") if p.name.startswith(".")]


def test_same_seed_gives_identical_files_and_other_seed_differs(demo_dir, tmp_path):
    again = tmp_path / "again"
    demo.make_demo(again, seed=7, genes_per_chromosome=GENES, read_pairs=PAIRS)
    assert _digests(again) == _digests(demo_dir)
    other = tmp_path / "other"
    demo.make_demo(other, seed=8, genes_per_chromosome=GENES, read_pairs=PAIRS)
    assert (other / "genome.fa.gz").read_bytes() != (demo_dir / "genome.fa.gz").read_bytes()


def test_gff3_is_ensembl_style(demo_dir, genome):
    with gzip.open(demo_dir / "annotation.gff3.gz", "rt") as handle:
        head = [next(handle) for _ in range(5)]
    assert head[0].strip() == "##gff-version 3"
    regions = {line.split()[1]: int(line.split()[3]) for line in head[1:] if line.startswith("##sequence-region")}
    assert regions == {name: len(seq) for name, seq in genome.items()}
    rows = _read_gff(demo_dir / "annotation.gff3.gz")
    assert {r[1] for r in rows} == {"demo"}
    genes = [r for r in rows if _attrs(r[8]).get("ID", "").startswith("gene:")]
    coding = [r for r in genes if _attrs(r[8])["biotype"] == "protein_coding"]
    noncoding = [r for r in genes if _attrs(r[8])["biotype"] == "ncRNA"]
    assert coding and noncoding and len(coding) + len(noncoding) == len(genes)
    a = _attrs(coding[0][8])
    assert a["ID"] == f"gene:{a['gene_id']}" and re.fullmatch(r"DEMO1G\d{5}", a["gene_id"])
    assert {r[6] for r in coding} == {"+", "-"}
    mrna = [_attrs(r[8]) for r in rows if r[2] == "mRNA"]
    assert all(m["ID"] == f"transcript:{m['transcript_id']}" and m["Parent"].startswith("gene:") for m in mrna)
    per_gene = pd.Series([m["Parent"] for m in mrna]).value_counts()
    assert per_gene.max() >= 2  # multi-isoform genes
    assert {"exon", "CDS", "five_prime_UTR", "three_prime_UTR", "ncRNA"} <= {r[2] for r in rows}
    nc_children = [_attrs(r[8]) for r in rows if r[2] == "ncRNA"]
    assert all(c["biotype"] == "ncRNA" for c in nc_children)
    # one ncRNA gene typed plain "gene": only its biotype excludes it
    assert any(r[2] == "gene" for r in noncoding) and any(r[2] == "ncRNA_gene" for r in noncoding)
    assert any(r[0] == "scaffold_1" and r in coding for r in coding)


def test_cdna_equals_spliced_exons_in_transcript_orientation(demo_dir, genome):
    rows = _read_gff(demo_dir / "annotation.gff3.gz")
    exons: dict[str, list[tuple[int, int, str, str]]] = {}
    tx_biotype = {}
    for r in rows:
        a = _attrs(r[8])
        if r[2] == "exon":
            exons.setdefault(a["Parent"].removeprefix("transcript:"), []).append((int(r[3]) - 1, int(r[4]), r[6], r[0]))
        if r[2] in ("mRNA", "ncRNA"):
            tx_biotype[a["transcript_id"]] = a["biotype"]
    cdna = _read_fasta(demo_dir / "cdna.fa.gz")
    assert set(cdna) == {t for t, b in tx_biotype.items() if b == "protein_coding"}  # ncRNA kept out
    strands = set()
    for tx_id, (header, seq) in cdna.items():
        parts = sorted(exons[tx_id])
        chrom, strand = parts[0][3], parts[0][2]
        spliced = "".join(genome[chrom][s:e] for s, e, _, _ in parts)
        expected = spliced if strand == "+" else reverse_complement(spliced)
        assert seq == expected, tx_id
        assert "N" not in seq
        fields = header.split()
        assert fields[1] == "cdna" and fields[3].startswith("gene:") and tx_id.startswith(fields[3][5:])
        assert fields[2].endswith(f":{chrom}:{parts[0][0] + 1}:{parts[-1][1]}:{1 if strand == '+' else -1}")
        assert "gene_biotype:protein_coding" in header and "transcript_biotype:protein_coding" in header
        strands.add(strand)
    assert strands == {"+", "-"}


def _window(genome: dict[str, str], row) -> str:
    return gene_window(lambda c, lo, hi: genome[c][lo:hi], row.chrom, row.start0, row.end, row.strand, demo.DEMO_WINDOW)


def test_motifs_sit_exactly_where_planted_and_drive_expression(genome, truth):
    inside = truth[(truth.biotype == "protein_coding") & (truth.window_off_end == 0)]
    assert len(inside) > 50
    for row in inside.itertuples():
        window = _window(genome, row)
        for name, motif in demo.MOTIFS.items():
            planted = row.motifs.count(f"{name}@")
            assert window.count(motif) == planted, (row.gene_id, name)
            assert window.count(reverse_complement(motif)) == 0, (row.gene_id, name)
        assert window[: demo.DEMO_WINDOW.upstream_tss].count(demo.MOTIFS["TERM"]) == 0
    # the motifs appear nowhere else in the genome (both strands)
    total = {name: sum(s.count(m) + s.count(reverse_complement(m)) for s in genome.values()) for name, m in demo.MOTIFS.items()}
    planted = {name: int(truth.motifs.str.count(f"{name}@").sum()) for name in demo.MOTIFS}
    assert total == planted
    coding = truth[truth.biotype == "protein_coding"]
    present = pd.DataFrame({"ACT": coding.n_act > 0, "TERM": coding.has_term == 1, "REP": coding.has_rep == 1})
    whole = present[coding.window_off_end == 0]  # near a sequence end a motif may be left unplanted
    assert set(whole.itertuples(index=False, name=None)) == {tuple(m in g for m in present) for g in demo.MOTIF_GROUPS}
    y = coding.log_max_tpm_true
    score = sum(present[m] * effect for m, effect in demo.MOTIF_EFFECT.items())  # once per motif, not per copy
    assert np.corrcoef(score, y)[0, 1] > 0.9
    high, low = y >= y.quantile(0.75), y <= y.quantile(0.25)
    rule = (present.ACT | present.TERM) & ~present.REP
    assert rule[high].all() and not rule[low].any()  # the binary classes follow the rule
    for name in demo.MOTIFS:  # and no single motif separates them
        agree = (present.loc[high | low, name] == high[high | low]).mean()
        assert max(agree, 1 - agree) < 0.85, (name, agree)


def test_scaffold_near_end_genes_and_n_runs(genome, truth):
    assert set(genome) == {"1", "2", "3", "scaffold_1"}
    assert (truth.chrom == "scaffold_1").sum() >= 2
    off = []
    for row in truth.itertuples():
        (a, b), (c, d) = demo.DEMO_WINDOW.genomic_pieces(row.start0, row.end, row.strand)
        off.append(min(a, c) < 0 or max(b, d) > len(genome[row.chrom]))
    assert list(map(int, off)) == truth.window_off_end.tolist()
    assert sum(off) >= 3
    assert {row.chrom for row, o in zip(truth.itertuples(), off) if o} >= {"1", "2", "3"}
    runs = [m for s in genome.values() for m in re.finditer("N+", s)]
    assert len(runs) >= 3
    with_n = truth[truth.window_has_n == 1]
    assert len(with_n) >= 1
    for row in truth[truth.window_off_end == 0].itertuples():
        assert ("N" in _window(genome, row).replace("N" * demo.DEMO_WINDOW.spacer, "", 1)) == bool(row.window_has_n)


def test_reads_are_paired_phred33_and_come_from_transcripts(demo_dir):
    cdna = "|".join(seq for _, seq in _read_fasta(demo_dir / "cdna.fa.gz").values())

    def records(path):
        with gzip.open(path, "rt") as handle:
            lines = handle.read().splitlines()
        return [lines[i : i + 4] for i in range(0, len(lines), 4)]

    r1 = records(demo_dir / "reads" / "demo_pe_1.fastq.gz")
    r2 = records(demo_dir / "reads" / "demo_pe_2.fastq.gz")
    se = records(demo_dir / "reads" / "demo_se.fastq.gz")
    assert len(r1) == len(r2) == len(se) == PAIRS
    for a, b in zip(r1[:50], r2[:50]):
        assert a[0].endswith("/1") and b[0].endswith("/2") and a[0][:-2] == b[0][:-2]
    assert r1[0][0] == "@demo_pe.1/1"
    quals = np.array([[ord(c) - 33 for c in rec[3]] for rec in r1])
    assert quals.shape == (PAIRS, 75) and quals.min() >= 2 and quals.max() <= 40
    assert 0.1 < (quals[:, -1] < 20).mean() < 0.5  # some low-quality 3' tails to trim
    assert all(set(rec[1]) <= set("ACGT") for rec in r1)
    exact = sum(rec[1] in cdna or reverse_complement(rec[1]) in cdna for rec in r1[:300])
    assert exact > 200
    # transcripts of ncRNA genes shed reads too, but most reads come from the cDNA
    tpm = pd.read_csv(demo_dir / "truth" / "tpm.tsv", sep="\t")
    assert list(tpm.columns) == ["gene_id", "demo_pe", "demo_se", "DEMO0001"]
    assert np.allclose(tpm.iloc[:, 1:].sum(), 1e6, rtol=1e-3)


@pytest.mark.workflow  # runs kallisto
@pytest.mark.skipif(shutil.which("kallisto") is None, reason="kallisto not installed")
def test_kallisto_recovers_the_true_tpm(demo_dir, tmp_path):
    idx = tmp_path / "idx"
    subprocess.run(["kallisto", "index", "-i", str(idx), str(demo_dir / "cdna.fa.gz")], check=True, capture_output=True)
    reads = demo_dir / "reads"
    subprocess.run(
        ["kallisto", "quant", "-i", str(idx), "-o", str(tmp_path / "q"), str(reads / "demo_pe_1.fastq.gz"), str(reads / "demo_pe_2.fastq.gz")],
        check=True,
        capture_output=True,
    )
    ab = pd.read_csv(tmp_path / "q" / "abundance.tsv", sep="\t")
    ab["gene_id"] = ab.target_id.str.rsplit(".", n=1).str[0]
    got = ab.groupby("gene_id").tpm.sum()
    true = pd.read_csv(demo_dir / "truth" / "tpm.tsv", sep="\t", index_col=0)["demo_pe"]
    rho = pd.Series(got.loc[true.index].values).corr(pd.Series(true.values), method="spearman")
    assert rho > 0.85


def test_cli_writes_and_refuses_a_foreign_folder(tmp_path, capsys):
    out = tmp_path / "cli"
    assert demo.main(["--out", str(out), "--seed", "3", "--genes-per-chromosome", "5", "--read-pairs", "50"]) == 0
    assert json.loads((out / "demo.json").read_text())["genes_per_chromosome"] == 5
    # an earlier demo is replaced
    assert demo.main(["--out", str(out), "--seed", "4", "--genes-per-chromosome", "5", "--read-pairs", "50"]) == 0
    assert json.loads((out / "demo.json").read_text())["seed"] == 4
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("x")
    assert demo.main(["--out", str(foreign)]) == 2
    assert "refusing" in capsys.readouterr().err
    assert [p.name for p in foreign.iterdir()] == ["keep.txt"]
    assert demo.main(["--out", str(tmp_path / "bad"), "--genes-per-chromosome", "1"]) == 2
    assert not (tmp_path / "bad").exists()


def test_interrupted_run_leaves_nothing(tmp_path, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("interrupted")

    monkeypatch.setattr(demo, "simulate_run", boom)
    with pytest.raises(RuntimeError):
        demo.make_demo(tmp_path / "half", seed=1, genes_per_chromosome=5, read_pairs=10)
    assert list(tmp_path.iterdir()) == []


def test_demo_job_moves_only_the_listed_outputs(tmp_path: Path) -> None:
    out = tmp_path / "resources" / "demo"
    out.mkdir(parents=True)
    (out / "other.txt").write_text("another rule's file\n")  # e.g. the .sra: kept
    targets = [out / "genome.fa.gz", out / "truth" / "genes.tsv", out / "demo.json"]
    meta = demo.demo_job(targets, out / "demo.json", seed=1, genes_per_chromosome=5, read_pairs=10)
    assert all(path.is_file() for path in targets) and (out / "other.txt").is_file()
    assert not (out / "annotation.gff3.gz").exists()  # not listed: not moved
    assert json.loads((out / "demo.json").read_text())["n_genes"] == meta["n_genes"]
    assert sorted(p.name for p in out.parent.iterdir()) == ["demo"]  # the temporary folder is gone
