"""Leave-one-chromosome-out folds: a gene's fold is its chromosome (the fold it is tested in)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd


def assign_folds(genes: pd.DataFrame, chromosomes: Sequence[str]) -> pd.Series:
    """Fold of each gene = its chromosome, for genes on the configured chromosomes.

    genes: DataFrame with a 'chrom' column (N rows). chromosomes: the configured list; its order is
    the fold order. Returns a str Series (N,) aligned with genes, named 'fold'. A gene on a
    chromosome outside the list raises ValueError (extract_windows skips those genes first).
    """
    order = [str(c) for c in chromosomes]
    if len(set(order)) != len(order):
        raise ValueError(f"chromosome list has duplicates: {order}")
    chrom = genes["chrom"].astype(str)
    outside = ~chrom.isin(order)
    if outside.any():
        names = sorted(set(chrom[outside]))
        raise ValueError(
            f"{int(outside.sum())} gene(s) on chromosome(s) not in the configured list {order}: {', '.join(names[:10])}"
        )
    return chrom.rename("fold")

