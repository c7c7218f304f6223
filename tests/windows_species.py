"""A tiny species to cut windows from (two chromosomes and a scaffold, a GFF3 of 7 genes, labels):
the keyword arguments of mtmixg.data.windows.build_windows (tests/test_windows.py, the `species`
fixture of tests/conftest.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from file_helpers import write_fasta
from mtmixg.core.window_spec import WindowSpec

SPEC = WindowSpec(upstream_tss=3, downstream_tss=2, spacer=1, upstream_tts=2, downstream_tts=3)
CHR1 = "ACGTAGGCTTCAGATCCACCGTATGCAGGATCCATTGACC"
CHR2 = "GGGGCCCCAAAATTTTGGGGCCCCAAAATTTT"
GFF3 = "##gff-version 3\n" + "".join(
    f"{chrom}\tt\tgene\t{start}\t{end}\t.\t{strand}\t.\tID=gene:{name};biotype=protein_coding\n"
    for chrom, start, end, strand, name in [
        ("chr1", 8, 14, "+", "A"),  # high
        ("chr1", 18, 22, "-", "B"),  # low
        ("chr1", 26, 32, "+", "NOLABEL"),  # window fits, no row in labels.tsv
        ("chr1", 1, 5, "+", "NEARSTART"),  # window off the chromosome start
        ("chr2", 8, 14, "+", "C"),  # low
        ("chr2", 18, 24, "-", "D"),  # high
        ("scaf1", 5, 10, "+", "SCAF"),  # not a configured chromosome
    ]
)
LABELS = {"A": 1, "B": -1, "C": -1, "D": 1, "NEARSTART": 1, "SCAF": -1}


def windows_species(tmp_path: Path) -> dict:
    """The tiny species' files in tmp_path and the keyword arguments of build_windows for them."""
    genome = write_fasta(tmp_path / "genome.fa", {"chr1": CHR1, "chr2": CHR2, "scaf1": "ACGTACGTACGTACGTACGT"})
    gff = tmp_path / "annotation.gff3"
    gff.write_text(GFF3)
    labels = tmp_path / "labels.tsv"
    pd.DataFrame({"gene_id": list(LABELS), "logMaxTPM": 1.0, "label": list(LABELS.values())}).to_csv(
        labels, sep="\t", index=False)
    return dict(genome=genome, gff=gff, labels=labels, spec=json.dumps(SPEC.to_dict()), chromosomes=["chr1", "chr2"],
                task="binary", species="tiny", windows=tmp_path / "out" / "windows.npy",
                genes_out=tmp_path / "out" / "genes.tsv", spec_out=tmp_path / "out" / "window.json",
                skipped=tmp_path / "out" / "skipped.tsv", log=lambda line: None)
