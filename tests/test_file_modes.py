"""Outputs follow the user's umask (a lab group reads them on a shared cluster), not mkstemp's 0600."""

from __future__ import annotations

import gzip
import os
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mtmixg.data.dataset import GeneWindows, save_windows
from mtmixg.data.labels import make_labels, save_labels
from mtmixg.data.references import fetch_reference
from mtmixg.core.window_spec import WindowSpec


@pytest.fixture
def group_umask():
    old = os.umask(0o002)
    yield 0o664
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_reference_genome_labels_and_windows_follow_umask(tmp_path: Path, group_umask: int) -> None:
    with gzip.open(tmp_path / "g.fa.gz", "wt") as handle:
        handle.write(">1\nACGTACGTAC\nGT\n")
    genome = fetch_reference("genome", str(tmp_path / "g.fa.gz"), "", tmp_path / "out/genome.fa", "x")
    assert genome.read_text() == ">1\nACGTACGTAC\nGT\n"
    table, thresholds = make_labels(pd.DataFrame({"r": [0.0, 9.0, 99.0, 999.0]}, index=list("ABCD")))
    save_labels(table, thresholds, tmp_path / "out/labels.tsv", tmp_path / "out/thresholds.tsv")
    spec = WindowSpec(upstream_tss=2, downstream_tss=2, spacer=1, upstream_tts=2, downstream_tts=2)
    genes = pd.DataFrame({"gene_id": ["A"], "chrom": ["1"], "start": [2], "end": [8], "strand": ["+"], "logMaxTPM": [2.0], "label": [1], "fold": ["1"]})
    save_windows(tmp_path / "out/windows", GeneWindows(np.zeros((1, spec.length), np.uint8), genes, spec))
    written = [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
    assert len(written) == 7  # genome.fa(.fai), labels, thresholds, windows.npy, genes.tsv, window.json
    assert {p.name: oct(mode(p)) for p in written} == {p.name: oct(group_umask) for p in written}


def test_umask_077_still_gives_private_files(tmp_path: Path) -> None:
    old = os.umask(0o077)
    try:
        table, thresholds = make_labels(pd.DataFrame({"r": [0.0, 9.0, 99.0, 999.0]}, index=list("ABCD")))
        save_labels(table, thresholds, tmp_path / "labels.tsv", tmp_path / "thresholds.tsv")
    finally:
        os.umask(old)
    assert mode(tmp_path / "labels.tsv") == 0o600
