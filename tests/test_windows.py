"""mtmixg.data.windows.build_windows: the windows dataset of a species and its skipped.tsv."""

from __future__ import annotations


import numpy as np
import pandas as pd
import pytest

from mtmixg.data.dataset import load_windows
from mtmixg.data.genome import REASON_NOT_CONFIGURED, REASON_OFF_END
from mtmixg.data.sequence import encode
from mtmixg.data.windows import REASON_NO_EXPRESSION, build_windows
from windows_species import CHR1, SPEC

def test_kept_genes_folds_and_skipped_reasons(species: dict) -> None:
    build_windows(**species)
    gw = load_windows(species["windows"].parent)
    assert gw.genes["gene_id"].tolist() == ["A", "B", "C", "D"]
    assert gw.genes["fold"].tolist() == ["chr1", "chr1", "chr2", "chr2"]
    assert gw.genes["label"].tolist() == [1, -1, -1, 1]
    assert gw.spec == SPEC and gw.codes.shape == (4, SPEC.length)
    np.testing.assert_array_equal(gw.codes[0], encode(CHR1[4:9] + "N" + CHR1[12:17]))  # gene A, as mtmixg.data.genome
    skipped = pd.read_csv(species["skipped"], sep="\t")
    assert dict(zip(skipped["gene_id"], skipped["reason"])) == {
        "NEARSTART": REASON_OFF_END, "SCAF": REASON_NOT_CONFIGURED, "NOLABEL": REASON_NO_EXPRESSION}
    assert list(skipped.columns) == ["gene_id", "chrom", "start", "end", "strand", "reason"]


def test_chromosome_of_one_class_names_the_config_key(species: dict) -> None:
    species["labels"].write_text("gene_id\tlogMaxTPM\tlabel\nA\t1\t1\nB\t1\t1\nC\t1\t-1\nD\t1\t1\n")
    with pytest.raises(ValueError, match=r"'chr1' \(only high genes\).*species\.tiny\.chromosomes"):
        build_windows(**species)
    assert not species["skipped"].exists()


def test_no_labelled_gene_says_so(species: dict) -> None:
    species["labels"].write_text("gene_id\tlogMaxTPM\tlabel\nOTHER\t1\t1\n")
    with pytest.raises(ValueError, match="do the gene IDs match"):
        build_windows(**species)


def test_chromosome_spelt_otherwise(species: dict) -> None:
    with pytest.raises(ValueError, match=r"species\.tiny\.chromosomes"):
        build_windows(**{**species, "chromosomes": ["1", "chr2"]})
