"""GFF3 parsing: protein-coding genes, biotype keys, tx2gene from GFF3 and cDNA headers, bad input."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from mtmixg.data.gff import AnnotationError, protein_coding_genes, read_genes, tx2gene_from_cdna, tx2gene_from_gff3

ENSEMBL_GFF3 = """##gff-version 3
##sequence-region   1 1 30427671
#!genome-build TAIR10
1\ttair\tchromosome\t1\t30427671\t.\t.\t.\tID=chromosome:1;Alias=CP002684.1
1\tararport11\tgene\t3631\t5899\t.\t+\t.\tID=gene:AT1G01010;Name=NAC001;biotype=protein_coding;gene_id=AT1G01010
1\tararport11\tmRNA\t3631\t5899\t.\t+\t.\tID=transcript:AT1G01010.1;Parent=gene:AT1G01010;biotype=protein_coding
1\tararport11\texon\t3631\t3913\t.\t+\t.\tParent=transcript:AT1G01010.1;Name=AT1G01010.1.exon1
1\tararport11\tCDS\t3760\t3913\t.\t+\t0\tID=CDS:AT1G01010.1;Parent=transcript:AT1G01010.1
###
1\tararport11\tgene\t6788\t9130\t.\t-\t.\tID=gene:AT1G01020;biotype=protein_coding
1\tararport11\tmRNA\t6788\t8737\t.\t-\t.\tID=transcript:AT1G01020.1;Parent=gene:AT1G01020
1\tararport11\tmRNA\t6788\t9130\t.\t-\t.\tID=transcript:AT1G01020.2;Parent=gene:AT1G01020
1\tararport11\tncRNA_gene\t11101\t11372\t.\t+\t.\tID=gene:AT1G03987;biotype=ncRNA
1\tararport11\tncRNA\t11101\t11372\t.\t+\t.\tID=transcript:AT1G03987.1;Parent=gene:AT1G03987
Mt\tararport11\tgene\t273\t734\t.\t-\t.\tID=gene:ATMG00010;biotype=protein_coding
# a comment line
##FASTA
>1
ACGTACGT
"""


def write(tmp_path: Path, text: str, name: str = "a.gff3") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_ensembl_protein_coding_genes(tmp_path: Path) -> None:
    genes = protein_coding_genes(write(tmp_path, ENSEMBL_GFF3))
    assert list(genes.columns) == ["gene_id", "chrom", "start", "end", "strand", "biotype"]
    assert genes["gene_id"].tolist() == ["AT1G01010", "AT1G01020", "ATMG00010"]
    first = genes.iloc[0]
    assert (first["chrom"], first["start"], first["end"], first["strand"]) == ("1", 3630, 5899, "+")
    assert genes.iloc[1]["strand"] == "-" and genes.iloc[1]["start"] == 6787
    assert set(genes["biotype"]) == {"protein_coding"}


def test_gene_biotype_and_plain_ids_and_gzip(tmp_path: Path) -> None:
    text = (
        "##gff-version 3\n"
        "chr1\tsrc\tgene\t10\t20\t.\t+\t.\tID=G1;gene_biotype=protein_coding\n"
        "chr1\tsrc\tgene\t30\t40\t.\t-\t.\tID=G2;gene_biotype=lncRNA\n"
        "chr1\tsrc\tmRNA\t10\t20\t.\t+\t.\tID=G1.t1;Parent=G1\n"
        "chr1\tsrc\tlnc_RNA\t30\t40\t.\t-\t.\tID=G2.t1;Parent=G2\n"
    )
    path = tmp_path / "b.gff3.gz"
    with gzip.open(path, "wt") as handle:
        handle.write(text)
    genes = protein_coding_genes(path)
    assert genes["gene_id"].tolist() == ["G1"]
    assert genes.iloc[0]["start"] == 9 and genes.iloc[0]["end"] == 20
    assert read_genes(path)["biotype"].tolist() == ["protein_coding", "lncRNA"]
    tx = tx2gene_from_gff3(path)
    assert tx.values.tolist() == [["G1.t1", "G1"], ["G2.t1", "G2"]]


def test_tx2gene_from_gff3_all_transcripts_no_exons(tmp_path: Path) -> None:
    tx = tx2gene_from_gff3(write(tmp_path, ENSEMBL_GFF3))
    assert tx.values.tolist() == [
        ["AT1G01010.1", "AT1G01010"],
        ["AT1G01020.1", "AT1G01020"],
        ["AT1G01020.2", "AT1G01020"],
        ["AT1G03987.1", "AT1G03987"],
    ]


def test_tx2gene_from_cdna_headers(tmp_path: Path) -> None:
    cdna = write(
        tmp_path,
        ">AT1G01010.1 cdna chromosome:TAIR10:1:3631:5899:1 gene:AT1G01010 gene_biotype:protein_coding "
        "transcript_biotype:protein_coding gene_symbol:NAC001\nACGT\nAC\n"
        ">AT1G01020.2 cdna chromosome:TAIR10:1:6788:9130:-1 gene:AT1G01020 gene_biotype:protein_coding\nGG\n",
        "cdna.fa",
    )
    assert tx2gene_from_cdna(cdna).values.tolist() == [["AT1G01010.1", "AT1G01010"], ["AT1G01020.2", "AT1G01020"]]
    bad = write(tmp_path, ">T1 cdna chromosome:X:1:1:10:1\nACGT\n", "bad.fa")
    with pytest.raises(AnnotationError, match=r"bad\.fa:1: cDNA header has no 'gene:' field"):
        tx2gene_from_cdna(bad)


def test_no_protein_coding_genes(tmp_path: Path) -> None:
    path = write(tmp_path, "chr1\ts\tgene\t1\t9\t.\t+\t.\tID=gene:X;biotype=ncRNA\n")
    with pytest.raises(AnnotationError) as err:
        protein_coding_genes(path)
    assert str(err.value).startswith(
        f"{path}: no protein-coding genes (looked for biotype=protein_coding or "
        "gene_biotype=protein_coding in gene lines)"
    )
    assert "ncRNA" in str(err.value)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("chr1 s gene 1 9 . + . ID=G", r"a\.gff3:2: malformed GFF3 line: expected 9 tab-separated columns, found 1"),
        ("chr1\ts\tgene\t1\tten\t.\t+\t.\tID=G", r"a\.gff3:2: malformed GFF3 line: start/end must be integers, got '1' and 'ten'"),
        ("chr1\ts\tgene\t90\t9\t.\t+\t.\tID=G", r"a\.gff3:2: malformed GFF3 line: need 1 <= start <= end, got start=90 end=9"),
        ("chr1\ts\tgene\t1\t9\t.\tplus\t.\tID=G", r"a\.gff3:2: malformed GFF3 line: strand must be '\+', '-' or '\.', got 'plus'"),
    ],
)
def test_malformed_line_names_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    path = write(tmp_path, "##gff-version 3\n" + line + "\n")
    with pytest.raises(AnnotationError, match=message):
        protein_coding_genes(path)


def gene_line(seqid: str, start: int, end: int, strand: str, gene: str) -> str:
    return f"{seqid}\ts\tgene\t{start}\t{end}\t.\t{strand}\t.\tID=gene:{gene};biotype=protein_coding\n"


def test_discontinuous_gene_is_one_gene_spanning_its_parts(tmp_path: Path) -> None:
    # legal GFF3: one ID on several lines is one feature; parts on another scaffold/strand
    # (here the unconfigured 'scaf9') drop that gene with a warning, never stop the species
    text = (
        gene_line("1", 100, 200, "+", "G") + gene_line("1", 500, 900, "+", "H") + gene_line("1", 50, 80, "+", "G")
        + gene_line("scaf9", 10, 20, "-", "S") + gene_line("scaf9", 40, 90, "+", "S")
        + gene_line("scaf9", 10, 20, "-", "T") + gene_line("scaf9", 30, 40, "-", "T")
    )
    with pytest.warns(UserWarning, match=r"1 gene\(s\) with parts on different sequences or strands left out \(first: 'S', line 4\)"):
        genes = protein_coding_genes(write(tmp_path, text))
    assert genes.values.tolist() == [
        ["G", "1", 49, 200, "+", "protein_coding"],
        ["H", "1", 499, 900, "+", "protein_coding"],
        ["T", "scaf9", 9, 40, "-", "protein_coding"],
    ]


def test_build_tx2gene_prefers_the_gff3_then_the_cdna_headers(tmp_path: Path) -> None:
    from mtmixg.data.gff import MIN_GFF3_COVERAGE, build_tx2gene

    gff = write(tmp_path, ENSEMBL_GFF3)
    # the cDNA's transcripts: both of the GFF3's AT1G01020, and one the GFF3 lacks (3 of 4 covered = 75%)
    cdna = write(tmp_path, "".join(
        f">{tx} cdna chromosome:TAIR10:1:1:9:1 gene:{gene}\nACGT\n"
        for tx, gene in [("AT1G01020.1", "AT1G01020"), ("AT1G01020.2", "AT1G01020"), ("AT1G01010.1", "HDR1"),
                         ("NEW.1", "NEW")]), "cdna.fa")
    lines = []
    table = build_tx2gene(gff, cdna, tmp_path / "out.tsv", log=lines.append)
    assert MIN_GFF3_COVERAGE > 0.75 and "GFF3 tx2gene covers 75.0% of 4 cDNA transcripts" in lines
    assert table.values.tolist() == [["AT1G01020.1", "AT1G01020"], ["AT1G01020.2", "AT1G01020"],
                                     ["AT1G01010.1", "HDR1"], ["NEW.1", "NEW"]]  # the headers' genes
    # a lower coverage policy keeps the GFF3's table, restricted to the cDNA's transcripts
    table = build_tx2gene(gff, cdna, tmp_path / "out.tsv", min_gff3_coverage=0.7, log=lines.append)
    assert table.values.tolist() == [["AT1G01010.1", "AT1G01010"], ["AT1G01020.1", "AT1G01020"],
                                     ["AT1G01020.2", "AT1G01020"]]
    assert (tmp_path / "out.tsv").read_text().splitlines()[:2] == ["transcript_id\tgene_id", "AT1G01010.1\tAT1G01010"]


def test_build_tx2gene_without_a_common_transcript(tmp_path: Path) -> None:
    from mtmixg.data.gff import build_tx2gene

    gff = write(tmp_path, ENSEMBL_GFF3)
    cdna = write(tmp_path, ">X.1 cdna gene:X\nACGT\n", "cdna.fa")
    table = build_tx2gene(gff, cdna, tmp_path / "out.tsv", log=lambda line: None)
    assert table.values.tolist() == [["X.1", "X"]]
    bad = write(tmp_path, ">X.1 cdna gene:X\nACGT\n", "other.fa")
    with pytest.raises(AnnotationError, match="no transcript of .*other.fa maps to a gene"):
        build_tx2gene(gff, bad, tmp_path / "out.tsv", min_gff3_coverage=0.0, log=lambda line: None)
