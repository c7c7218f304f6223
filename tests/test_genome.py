"""FASTA validation/indexing and whole-genome window extraction."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mtmixg.data.fasta import FastaError, FastaIndex, decompress_fasta, validate_fasta
from mtmixg.data.genome import (
    REASON_NOT_CONFIGURED,
    REASON_NOT_IN_FASTA,
    REASON_OFF_END,
    check_chromosomes,
    extract_windows,
)
from mtmixg.data.gff import protein_coding_genes
from mtmixg.core.window_spec import WindowSpec
from mtmixg.data.sequence import encode, gene_window
from file_helpers import write_fasta

#                 0         1         2
#                 012345678901234567890123456
CHR1 = "ACGTAGGCTTCAGATNNACCGTATGCA"
CHR2 = "GGGGCCCCAAAATTTTGGGGCCCCAAAATTTT"
SMALL = WindowSpec(upstream_tss=3, downstream_tss=2, spacer=1, upstream_tts=2, downstream_tts=3)

GFF3 = """##gff-version 3
chr1\tt\tgene\t8\t14\t.\t+\t.\tID=gene:PLUS;biotype=protein_coding
chr1\tt\tgene\t18\t22\t.\t-\t.\tID=gene:MINUS;biotype=protein_coding
chr1\tt\tgene\t1\t5\t.\t+\t.\tID=gene:NEARSTART;biotype=protein_coding
chr1\tt\tgene\t20\t26\t.\t+\t.\tID=gene:NEAREND;biotype=protein_coding
scaf1\tt\tgene\t5\t10\t.\t+\t.\tID=gene:SCAF;biotype=protein_coding
chrX\tt\tgene\t5\t10\t.\t+\t.\tID=gene:NOSEQ;biotype=protein_coding
"""


@pytest.fixture()
def tiny(tmp_path: Path) -> tuple[Path, Path]:
    fasta = write_fasta(tmp_path / "g.fa", {"chr1": CHR1, "chr2": CHR2, "scaf1": "ACGTACGTACGTACGTACGT"}, width=10)
    gff = tmp_path / "g.gff3"
    gff.write_text(GFF3)
    return fasta, gff


def test_hand_computed_windows(tiny: tuple[Path, Path]) -> None:
    fasta, gff = tiny
    genes = protein_coding_genes(gff)
    codes, kept, skipped = extract_windows(fasta, genes, SMALL, chromosomes=["chr1", "chr2"])
    assert kept["gene_id"].tolist() == ["PLUS", "MINUS"]
    # plus gene [7, 14): TSS piece CHR1[4:9], spacer, TTS piece CHR1[12:17]
    plus = CHR1[4:9] + "N" + CHR1[12:17]
    assert plus == "AGGCTNGATNN"
    # minus gene [17, 22): TSS piece revcomp(CHR1[20:25]), TTS piece revcomp(CHR1[14:19])
    minus = "CATAC" + "N" + "GTNNA"
    assert CHR1[20:25] == "GTATG" and CHR1[14:19] == "TNNAC"
    assert codes.dtype == np.uint8 and codes.shape == (2, SMALL.length)
    np.testing.assert_array_equal(codes[0], encode(plus))
    np.testing.assert_array_equal(codes[1], encode(minus))
    np.testing.assert_array_equal(codes[0], [0, 2, 2, 1, 3, 4, 2, 0, 3, 4, 4])  # N runs -> 4
    assert codes[1, SMALL.tss_index] == 0  # complement of the T at the minus gene's TSS (base 21)
    reasons = dict(zip(skipped["gene_id"], skipped["reason"]))
    assert reasons == {
        "NEARSTART": REASON_OFF_END,
        "NEAREND": REASON_OFF_END,
        "SCAF": REASON_NOT_CONFIGURED,
        "NOSEQ": REASON_NOT_CONFIGURED,
    }
    assert list(skipped.columns) == ["gene_id", "chrom", "start", "end", "strand", "reason"]


def test_configured_chromosomes_skip_scaffolds(tiny: tuple[Path, Path]) -> None:
    fasta, gff = tiny
    genes = protein_coding_genes(gff)
    codes, kept, skipped = extract_windows(fasta, genes, SMALL, chromosomes=["chr1", "chr2"])
    assert kept["gene_id"].tolist() == ["PLUS", "MINUS"]
    reasons = dict(zip(skipped["gene_id"], skipped["reason"]))
    assert reasons["SCAF"] == REASON_NOT_CONFIGURED
    assert reasons["NOSEQ"] == REASON_NOT_CONFIGURED
    assert reasons["NEARSTART"] == REASON_OFF_END
    # without a chromosome list the scaffold gene's window fits and is kept; chrX has no sequence
    codes_all, kept_all, skipped_all = extract_windows(fasta, genes, SMALL)
    assert kept_all["gene_id"].tolist() == ["PLUS", "MINUS", "SCAF"]
    np.testing.assert_array_equal(codes_all[2], encode("CGTAC" + "N" + "ACGTA"))  # scaf1[1:6], scaf1[8:13]
    assert dict(zip(skipped_all["gene_id"], skipped_all["reason"]))["NOSEQ"] == REASON_NOT_IN_FASTA


def test_missing_configured_chromosome(tiny: tuple[Path, Path]) -> None:
    fasta, gff = tiny
    with pytest.raises(ValueError) as err:
        extract_windows(fasta, protein_coding_genes(gff), SMALL, chromosomes=["chr1", "chr9"])
    message = str(err.value)
    assert "'chr9'" in message and str(fasta) in message and "chr1, chr2, scaf1" in message
    check_chromosomes(fasta, ["chr2", "chr1"])  # present: no error


@pytest.mark.parametrize(("width", "newline", "spacer"), [(60, "\n", 20), (13, "\r\n", 0), (1000, "\n", 20)])
def test_matches_per_gene_reference(tmp_path: Path, width: int, newline: str, spacer: int) -> None:
    rng = np.random.default_rng(width + spacer)
    alphabet = np.array(list("ACGTacgtNRY"))
    weights = np.array([0.2, 0.2, 0.2, 0.2, 0.04, 0.04, 0.04, 0.04, 0.02, 0.01, 0.01])
    seqs = {}
    for i, n in enumerate([9000, 6001, 12345]):
        seq = rng.choice(alphabet, size=n, p=weights)
        seq[rng.integers(0, n - 300) :][:250] = "N"  # an N run
        seqs[f"c{i}"] = "".join(seq)
    fasta = write_fasta(tmp_path / "r.fa", seqs, width=width, newline=newline)
    spec = WindowSpec(upstream_tss=1000, downstream_tss=500, spacer=spacer, upstream_tts=500, downstream_tts=1000)
    rows = []
    for k in range(400):
        chrom = f"c{k % 3}"
        n = len(seqs[chrom])
        start = int(rng.integers(0, n - 50))
        end = int(min(n, start + rng.integers(1, 4000)))
        rows.append((f"g{k}", chrom, start, end, "+-"[k % 2]))
    genes = pd.DataFrame(rows, columns=["gene_id", "chrom", "start", "end", "strand"])
    codes, kept, skipped = extract_windows(fasta, genes, spec, chromosomes=["c0", "c1", "c2"])
    assert len(kept) + len(skipped) == len(genes) and len(kept) > 50 and len(skipped) > 50
    assert set(skipped["reason"]) == {REASON_OFF_END}

    def fetch(chrom: str, lo: int, hi: int) -> str:
        assert lo >= 0 and hi <= len(seqs[chrom])
        return seqs[chrom][lo:hi]

    expected = np.stack([encode(gene_window(fetch, g.chrom, g.start, g.end, g.strand, spec)) for g in kept.itertuples()])
    np.testing.assert_array_equal(codes, expected)
    assert {"+", "-"} <= set(kept["strand"])
    for g in skipped.itertuples():  # each skipped gene really runs off its chromosome
        pieces = spec.genomic_pieces(g.start, g.end, g.strand)
        assert any(lo < 0 or hi > len(seqs[g.chrom]) for lo, hi in pieces)


def test_validate_fasta_good_and_gzip(tmp_path: Path) -> None:
    plain = write_fasta(tmp_path / "ok.fa", {"a": "ACGTNRYacgt", "b": "GG"}, width=4)
    assert validate_fasta(plain) == {"a": 11, "b": 2}
    gz = tmp_path / "ok.fa.gz"
    gz.write_bytes(gzip.compress(plain.read_bytes()))
    assert validate_fasta(gz) == {"a": 11, "b": 2}
    with pytest.raises(FastaError, match="compressed FASTA; decompress it first"):
        FastaIndex(gz)
    out = decompress_fasta(gz, tmp_path / "dec" / "ok.fa")
    assert FastaIndex(out).lengths() == {"a": 11, "b": 2}


def test_garbled_record(tmp_path: Path) -> None:
    path = tmp_path / "bad.fa"
    path.write_text(">chr1\nACGT\n>chr2 desc\nACGT\nAC!T\nACGT\n")
    with pytest.raises(FastaError, match=r"bad\.fa:5: record 'chr2': character '!' \(column 3\) is not an IUPAC"):
        validate_fasta(path)
    index = FastaIndex(path)
    index.read_codes("chr1")
    with pytest.raises(FastaError, match=r"bad\.fa:5: record 'chr2': character '!' is not an IUPAC"):
        index.read_codes("chr2")


def test_truncated_last_record(tmp_path: Path) -> None:
    path = tmp_path / "trunc.fa"
    path.write_text(">chr1\nACGT\n>chr2\n")
    with pytest.raises(FastaError, match=r"trunc\.fa:3: the last record is truncated: record 'chr2' has a header but no sequence"):
        validate_fasta(path)
    empty_mid = tmp_path / "mid.fa"
    empty_mid.write_text(">chr1\n>chr2\nACGT\n")
    with pytest.raises(FastaError, match=r"mid\.fa:1: record 'chr1' has a header but no sequence line"):
        validate_fasta(empty_mid)


def test_other_fasta_errors(tmp_path: Path) -> None:
    cases = {
        "text.fa": ("ACGT\n>a\nAC\n", r"text\.fa:1: sequence text before the first '>' header"),
        "dup.fa": (">a\nAC\n>a\nGG\n", r"dup\.fa:3: record name 'a' appears twice"),
        "noname.fa": (">\nAC\n", r"noname\.fa:1: FASTA header without a record name"),
        "empty.fa": ("", r"empty\.fa: no FASTA records"),
    }
    for name, (text, message) in cases.items():
        (tmp_path / name).write_text(text)
        with pytest.raises(FastaError, match=message):
            validate_fasta(tmp_path / name)
    ragged = tmp_path / "ragged.fa"
    ragged.write_text(">a\nACGT\nACGTAA\nAC\n")
    with pytest.raises(FastaError, match=r"ragged\.fa: cannot index the FASTA"):
        FastaIndex(ragged)


def test_index_fetch_and_rebuild(tmp_path: Path) -> None:
    path = write_fasta(tmp_path / "f.fa", {"x": CHR1, "y": CHR2}, width=7)
    index = FastaIndex(path)
    assert index.names == ["x", "y"] and index.lengths() == {"x": len(CHR1), "y": len(CHR2)}
    assert index.fetch("x", 3, 20) == CHR1[3:20]
    np.testing.assert_array_equal(index.read_codes("y"), encode(CHR2))
    write_fasta(path, {"z": CHR2}, width=7)  # changed FASTA -> stale .fai is rebuilt
    import os

    os.utime(path.with_name("f.fa.fai"), (1, 1))
    assert FastaIndex(path).names == ["z"]


def test_window_boundaries_exact(tiny: tuple[Path, Path]) -> None:
    fasta, _ = tiny  # chr2 has 32 bases; SMALL needs 3 bases before and 3 after the gene
    rows = [
        ("P_FIT", 3, 29, "+"), ("P_START", 2, 29, "+"), ("P_END", 3, 30, "+"),
        ("M_FIT", 3, 29, "-"), ("M_START", 2, 29, "-"), ("M_END", 3, 30, "-"),
    ]
    genes = pd.DataFrame([(g, "chr2", s, e, st) for g, s, e, st in rows], columns=["gene_id", "chrom", "start", "end", "strand"])
    codes, kept, skipped = extract_windows(fasta, genes, SMALL)
    assert kept["gene_id"].tolist() == ["P_FIT", "M_FIT"]
    assert set(skipped["gene_id"]) == {"P_START", "P_END", "M_START", "M_END"}
    assert set(skipped["reason"]) == {REASON_OFF_END}
    np.testing.assert_array_equal(codes[0], encode(CHR2[0:5] + "N" + CHR2[27:32]))
    np.testing.assert_array_equal(codes[1], encode("AAAAT" + "N" + "GCCCC"))  # revcomp("ATTTT" = CHR2[27:32]), revcomp("GGGGC" = CHR2[0:5])
