"""Data-half checks naming the config key: chromosome spellings, chromosomes unfit as test folds."""

from __future__ import annotations

import pandas as pd
import pytest

from mtmixg.data.datachecks import canonical_chromosome, check_chromosome_names, check_fold_classes

KEY = "species.x.chromosomes"


def test_canonical_chromosome() -> None:
    assert {canonical_chromosome(n) for n in ("1", "Chr1", "chr01", "Chromosome_1", "CHR1")} == {"1"}
    assert canonical_chromosome("Pt") == "pt" and canonical_chromosome("0") == "0"


def test_gff_spelling_differs_from_fasta_and_config() -> None:
    with pytest.raises(ValueError) as err:
        check_chromosome_names(["1", "2"], ["1", "2", "Mt"], ["Chr1", "Chr2", "scaf7"], KEY, gff="the GFF3 a.gff3")
    message = str(err.value)
    assert "'1'" in message and "'Chr1'" in message and KEY in message and "a.gff3" in message
    with pytest.raises(ValueError, match=r"say 'Chr1' but the GFF3 calls it '1'"):  # the other way round
        check_chromosome_names(["Chr1"], ["Chr1"], ["1"], KEY)


def test_config_spelling_differs_from_fasta() -> None:
    with pytest.raises(ValueError) as err:
        check_chromosome_names(["Chr1"], ["1", "2"], ["Chr1"], KEY, fasta="the FASTA g.fa")
    message = str(err.value)
    assert "says 'Chr1' (as the GFF3 does) but the FASTA g.fa calls it '1'" in message and KEY in message


def test_matching_or_unknown_names_pass() -> None:
    check_chromosome_names(["1", "2"], ["1", "2"], ["1", "2", "scaf9"], KEY)
    check_chromosome_names(["7"], ["1"], ["1"], KEY)  # absent everywhere: genome.check_chromosomes says so


def test_chromosome_without_genes_or_with_one_class() -> None:
    genes = pd.DataFrame({"chrom": ["1", "1", "2", "2", "3"], "label": [-1, 1, -1, 0, 1]})
    check_fold_classes(genes, ["1"], "binary", KEY)
    with pytest.raises(ValueError) as err:
        check_fold_classes(genes, ["1", "2", "3", "4"], "binary", KEY)
    message = str(err.value)
    assert "'2' (only low genes), '3' (only high genes), '4' (no genes)" in message and KEY in message
    assert "'1'" not in message
    check_fold_classes(genes, ["1", "2"], "ternary", KEY)  # low + medium are two ternary classes
