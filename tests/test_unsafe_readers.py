"""Files a user brings (genome, GFF3, VCF, TPM table) as a hostile user meets them (issue 19): each
gives one clear line or is read, never a traceback or a silently wrong answer.

Through the real `mtmixg` entry point (predict --genome, score-variants) on a tiny genome with an
untrained lone model, and through Snakemake on the tiny TPM-table species of test_workflow_data.py
(get_genome, import_tpm_table).
"""

from __future__ import annotations

import gzip
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pysam
import pytest
from training_data import SPEC, tiny_model

from mtmixg.checkpoint import save_model
from mtmixg.cli import main
from mtmixg.models.architectures import build_model
from workflow_helpers import no_leftovers as _no_leftovers
from workflow_helpers import run_tiny as _run

CHROMS = ("1", "2", "Mt")
GENES = [("gA", "1", 500, 1400, "+"), ("gB", "2", 1450, 2700, "-"), ("gM", "Mt", 700, 1600, "+")]


def _gff3(path: Path, genes: list[tuple[str, str, int, int, str]], rename: dict[str, str] | None = None) -> Path:
    rename = rename or {}
    path.write_text("##gff-version 3\n" + "".join(
        f"{rename.get(c, c)}\tt\tgene\t{s + 1}\t{e}\t.\t{st}\t.\tID=gene:{g};biotype=protein_coding\n"
        for g, c, s, e, st in genes))
    return path


@pytest.fixture(scope="module")
def kit(tmp_path_factory) -> dict:
    """A genome (records 1, 2, Mt), its GFF3, an untrained lone binary model of SPEC's window and
    an uncompressed VCF of SNPs in gA's window."""
    root = tmp_path_factory.mktemp("readers")
    rng = np.random.default_rng(7)
    seqs = {c: "".join(rng.choice(list("ACGT"), 3000)) for c in CHROMS}
    (root / "g.fa").write_text("".join(f">{c}\n{s}\n" for c, s in seqs.items()))
    _gff3(root / "a.gff3", GENES)
    cfg = tiny_model()
    save_model(root / "model" / "model.pt", build_model(cfg),
               {"task": "binary", "window": SPEC.to_dict(), "model": cfg.to_dict(), "fold": "all"})
    c1 = seqs["1"]
    records = [f"1\t{p}\ts{p}\t{c1[p - 1]}\t{'A' if c1[p - 1] != 'A' else 'C'}\t.\t.\t." for p in (460, 480, 1420)]
    (root / "v.vcf").write_text("##fileformat=VCFv4.2\n" + "".join(f"##contig=<ID={c},length=3000>\n" for c in CHROMS)
                                + "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n" + "\n".join(records) + "\n")
    return {"root": root, "seqs": seqs, "model": str(root / "model")}


def _message(stderr: str) -> str:
    """The one error line, last on stderr."""
    lines = stderr.splitlines()
    assert lines and lines[-1].startswith("mtmixg: error: "), stderr
    assert sum("error" in line.lower() for line in lines) == 1 and "Traceback" not in stderr, stderr
    return lines[-1]


def _predict(kit: dict, out: Path, genome: Path | None = None, gff3: Path | None = None) -> int:
    return main(["predict", kit["model"], "--genome", str(genome or kit["root"] / "g.fa"),
                 "--gff3", str(gff3 or kit["root"] / "a.gff3"), "--out", str(out)])


def _score(kit: dict, out: Path, genome: Path | None = None, gff3: Path | None = None, vcf: Path | None = None) -> int:
    return main(["score-variants", kit["model"], "--genome", str(genome or kit["root"] / "g.fa"),
                 "--gff3", str(gff3 or kit["root"] / "a.gff3"), "--vcf", str(vcf or kit["root"] / "v.vcf"),
                 "--out", str(out), "--threads", "1"])


# ------------------------------------------------------------------ GFF3 'chr1' against a genome with '1'
@pytest.mark.parametrize("command", ["predict", "score-variants"])
@pytest.mark.parametrize("genes", ["all", "some"])
def test_gff3_spelt_otherwise_names_both_spellings(kit, tmp_path, capsys, command, genes):
    """'chr1'/'chr2' vs '1'/'2': before, predict ran on the Mt gene only (or said 'no complete window')
    and score-variants wrote 0 rows 'outside every gene window', both exiting 0."""
    chosen = GENES if genes == "some" else GENES[:2]
    gff3 = _gff3(tmp_path / "chr.gff3", chosen, rename={"1": "chr1", "2": "chr2"})
    run = _predict if command == "predict" else _score
    capsys.readouterr()
    assert run(kit, tmp_path / "out.tsv", gff3=gff3) == 2
    message = _message(capsys.readouterr().err)
    assert f"mtmixg: error: chromosome names differ: the GFF3 {gff3} puts genes on 'chr1', 'chr2'" in message
    assert f"but the FASTA {kit['root'] / 'g.fa'} names its records '1', '2', 'Mt' ('chr1' vs '1', 'chr2' vs '2')" in message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chr.gff3"]


@pytest.mark.parametrize("command", ["predict", "score-variants"])
def test_gff3_of_another_genome_is_one_line(kit, tmp_path, capsys, command):
    gff3 = _gff3(tmp_path / "other.gff3", GENES, rename={"1": "NC_003070.9", "2": "NC_003071.7", "Mt": "NC_037304.1"})
    run = _predict if command == "predict" else _score
    capsys.readouterr()
    assert run(kit, tmp_path / "out.tsv", gff3=gff3) == 2
    assert _message(capsys.readouterr().err) == (
        f"mtmixg: error: no gene sequence of the GFF3 {gff3} is a record of the FASTA {kit['root'] / 'g.fa'}: the GFF3 "
        "puts genes on 'NC_003070.9', 'NC_003071.7', 'NC_037304.1', the FASTA has '1', '2', 'Mt'; give the annotation "
        "of this genome")


@pytest.mark.parametrize("command", ["predict", "score-variants"])
def test_genes_on_sequences_the_genome_lacks_are_named(kit, tmp_path, capsys, command):
    """A partial overlap (genes on a scaffold the genome lacks) runs, and says which genes it skips."""
    gff3 = _gff3(tmp_path / "more.gff3", [*GENES, ("gS1", "scaffold_9", 10, 900, "+"), ("gS2", "scaffold_9", 1000, 1900, "-")])
    run = _predict if command == "predict" else _score
    capsys.readouterr()
    assert run(kit, tmp_path / "out.tsv", gff3=gff3) == 0
    err = capsys.readouterr().err
    assert (f"warning: 2 gene(s) of {gff3} skipped: their sequence is not a record of {kit['root'] / 'g.fa'}: "
            "'scaffold_9' (2 genes)") in err
    table = pd.read_csv(tmp_path / "out.tsv", sep="\t")
    assert "gS1" not in set(table["gene_id"]) and len(table) > 0


# ------------------------------------------------------------------ a plain-gzip (not bgzip) VCF
def test_plain_gzip_vcf_is_read_like_the_bgzipped_one(kit, tmp_path, capsys):
    plain, bgzipped = tmp_path / "plain.vcf.gz", tmp_path / "bgzip.vcf.gz"
    plain.write_bytes(gzip.compress((kit["root"] / "v.vcf").read_bytes()))
    pysam.tabix_compress(str(kit["root"] / "v.vcf"), str(bgzipped))
    assert _score(kit, tmp_path / "b.tsv", vcf=bgzipped) == 0
    assert _score(kit, tmp_path / "p.tsv", vcf=plain) == 0  # before: NotImplementedError traceback from pysam
    got, expected = (pd.read_csv(tmp_path / f"{n}.tsv", sep="\t") for n in ("p", "b"))
    assert len(got) >= 3 and set(got["id"]) == {"s460", "s480", "s1420"}
    pd.testing.assert_frame_equal(got, expected)
    with pysam.VariantFile(str(tmp_path / "plain.mtmixg.vcf.gz")) as annotated:  # default --vcf-out
        assert sum(1 for rec in annotated if rec.info.get("MTMIXG")) == 3


def test_corrupt_gzip_vcf_is_one_line(kit, tmp_path, capsys):
    broken = tmp_path / "t.vcf.gz"
    broken.write_bytes(gzip.compress((kit["root"] / "v.vcf").read_bytes())[:-20])
    capsys.readouterr()
    assert _score(kit, tmp_path / "out.tsv", vcf=broken) == 2
    assert _message(capsys.readouterr().err).startswith(f"mtmixg: error: {broken}: not a readable gzip file (")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.vcf.gz"]


# ------------------------------------------------------------------ Windows-1252 bytes in a FASTA header
def _cp1252_genome(kit: dict, folder: Path) -> Path:
    """The kit's genome with 'Mt' described in Windows-1252 ('Mitochondrion – café') on line 5."""
    path = folder / "w.fa"
    path.write_bytes(b"".join((f">{c}".encode() + (" Mitochondrion – café".encode("cp1252") if c == "Mt" else b"")
                               + b"\n" + s.encode() + b"\n") for c, s in kit["seqs"].items()))
    return path


@pytest.mark.parametrize("command", ["predict", "score-variants"])
def test_windows_1252_genome_header_names_file_and_line(kit, tmp_path, capsys, command):
    genome = _cp1252_genome(kit, tmp_path)
    run = _predict if command == "predict" else _score
    capsys.readouterr()
    assert run(kit, tmp_path / "out.tsv", genome=genome) == 2  # before: "'utf-8' codec can't decode byte 0x96 ..."
    assert _message(capsys.readouterr().err) == (
        f"mtmixg: error: {genome}:5: FASTA header is not UTF-8 text (byte 0x96 at column 19; Windows-1252 or "
        "Latin-1?); convert the file to UTF-8, e.g. `iconv -f WINDOWS-1252 -t UTF-8 w.fa > fixed.fa`")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.fa"]


def test_workflow_genome_with_windows_1252_header_names_file_and_line(tiny: dict) -> None:
    genome = tiny["dir"] / "genome.fa"
    genome.write_bytes(b"".join(f">{c} ".encode() + "Arabidopsis – chromosome".encode("cp1252") + b"\n" + s.encode() + b"\n"
                                for c, s in tiny["genome"].items()))
    done = _run(tiny, "resources/tiny/genome.fa")
    assert done.returncode != 0
    log = (tiny["dir"] / "work/logs/tiny/references/genome.log").read_text()
    assert f"{genome}:1: FASTA header is not UTF-8 text (byte 0x96 at column 16;" in log, log
    assert "UnicodeDecodeError" not in log
    assert _no_leftovers(tiny["dir"] / "work/resources/tiny") == []


# ------------------------------------------------------------------ a gzipped TPM table
def test_workflow_reads_a_gzipped_tpm_table(tiny: dict) -> None:
    table = tiny["dir"] / "tpm.tsv"
    gz = tiny["dir"] / "tpm.tsv.gz"
    gz.write_bytes(gzip.compress(table.read_bytes()))
    table.unlink()
    tiny["config"]["species"]["tiny"]["tpm_table"] = str(gz)
    done = _run(tiny, "results/tiny/expression/tpm.tsv")  # before: "tpm.tsv.gz: not a text table"
    assert done.returncode == 0, done.output
    out = pd.read_csv(tiny["dir"] / "work/results/tiny/expression/tpm.tsv", sep="\t", index_col=0)
    assert out["run1"].to_dict() == {"G1": 1.0, "G2": 10.0, "G3": 100.0, "G4": 1000.0}


# ------------------------------------------------------------------ a read-only genome folder without .fai
@pytest.fixture
def read_only(tmp_path):
    """(folder, lock): lock() makes the folder one nothing can be created in, even by root
    (chattr +i; else chmod 555), or skips the test where neither works; undone at teardown."""
    folder = tmp_path / "ro"
    folder.mkdir()
    locked: list[str] = []

    def lock() -> Path:
        if subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode == 0:
            locked.append("chattr")
        else:
            folder.chmod(0o555)
            locked.append("chmod")
        try:
            (folder / "probe").touch()
        except OSError:
            return folder
        pytest.skip("cannot make a read-only folder here (root without chattr)")

    yield folder, lock
    if "chattr" in locked:
        subprocess.run(["chattr", "-i", str(folder)], check=True)
    folder.chmod(0o755)


@pytest.mark.parametrize("command", ["predict", "score-variants"])
def test_read_only_genome_folder_without_fai_works(kit, tmp_path, capsys, read_only, command):
    folder, lock = read_only
    shutil.copy(kit["root"] / "g.fa", folder / "g.fa")
    lock()
    run = _predict if command == "predict" else _score
    assert run(kit, tmp_path / "ro.tsv", genome=folder / "g.fa") == 0, capsys.readouterr().err  # before: pyfaidx's advice
    assert sorted(p.name for p in folder.iterdir()) == ["g.fa"]  # nothing written beside the genome
    shutil.copy(kit["root"] / "g.fa", tmp_path / "g.fa")
    assert run(kit, tmp_path / "rw.tsv", genome=tmp_path / "g.fa") == 0
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "ro.tsv", sep="\t"), pd.read_csv(tmp_path / "rw.tsv", sep="\t"))
