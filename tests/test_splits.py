"""Fold splits: the test chromosome never leaks into training or validation."""

import numpy as np
import pandas as pd
import pytest

from mtmixg.splits import make_split


def _genes(n=600, seed=0):
    rng = np.random.default_rng(seed)
    chrom = rng.choice(["1", "2", "3", "4"], n)
    fold = chrom.astype(object)
    fold[(chrom == "2") & (rng.random(n) < 0.2)] = np.nan  # chr2 genes with homologs elsewhere: no fold
    return pd.DataFrame({"gene_id": [f"g{i}" for i in range(n)], "chrom": chrom,
                         "label": rng.choice([-1, 0, 1], n, p=[0.2, 0.5, 0.3]), "fold": fold})


@pytest.mark.parametrize("fold", ["1", "2", "4"])
@pytest.mark.parametrize("task", ["binary", "ternary"])
def test_test_chromosome_never_in_train_or_val(fold, task):
    g = _genes()
    s = make_split(g, fold, task, val_fraction=0.15, seed=3, balance=True)
    assert len(s.test) and len(s.train) and len(s.val)
    assert (g.loc[s.test, "fold"] == fold).all()
    for part in (s.train, s.val):
        assert not (g.loc[part, "chrom"] == fold).any()
        assert not (g.loc[part, "fold"] == fold).any()
    assert not set(s.train) & set(s.val) and not set(s.train) & set(s.test) and not set(s.val) & set(s.test)
    used = g.loc[np.concatenate([s.train, s.val, s.test]), "label"]
    assert (0 in set(used)) == (task == "ternary")
    # unfolded genes of the test chromosome are in no set
    assert not (g.loc[np.concatenate([s.train, s.val]), "chrom"] == fold).any()


def test_balancing_equal_classes_and_validation_fraction():
    g = _genes()
    s = make_split(g, "3", "ternary", val_fraction=0.1, seed=1, balance=True)
    counts = g.loc[s.train, "label"].value_counts()
    assert len(counts) == 3 and counts.nunique() == 1
    pool = ((g["chrom"] != "3") & (g["fold"] != "3")).sum()
    assert abs(len(s.val) - 0.1 * pool) <= 3
    u = make_split(g, "3", "ternary", val_fraction=0.1, seed=1, balance=False)
    assert u.train.size > s.train.size and g.loc[u.train, "label"].value_counts().nunique() > 1
    np.testing.assert_array_equal(u.val, s.val)


def test_seeded():
    g = _genes()
    a, b, c = (make_split(g, "1", "binary", seed=s) for s in (5, 5, 6))
    np.testing.assert_array_equal(a.train, b.train)
    np.testing.assert_array_equal(a.val, b.val)
    assert not np.array_equal(a.val, c.val)


def test_no_fold_uses_all_chromosomes():
    g = _genes()
    s = make_split(g, None, "binary", seed=0, balance=False)
    assert len(s.test) == 0
    assert set(g.loc[s.train, "chrom"]) == {"1", "2", "3", "4"}
    assert len(s.train) + len(s.val) == g["label"].isin([-1, 1]).sum()


def test_unknown_fold():
    with pytest.raises(ValueError, match="fold 'chrX'.*1, 2, 3, 4"):
        make_split(_genes(), "chrX", "binary")


def test_test_eligible_mask_keeps_homologs_out_of_every_set():
    g = _genes()
    rng = np.random.default_rng(9)
    eligible = rng.random(len(g)) < 0.7
    s = make_split(g, "1", "binary", seed=0, test_eligible=eligible)
    full = make_split(g, "1", "binary", seed=0)
    assert eligible[s.test].all() and len(s.test) < len(full.test)
    np.testing.assert_array_equal(s.test, np.intersect1d(full.test, np.flatnonzero(eligible)))
    # the excluded genes of the test chromosome are in no set; training is unchanged
    assert not (g.loc[np.concatenate([s.train, s.val]), "chrom"] == "1").any()
    np.testing.assert_array_equal(s.train, full.train)


def test_every_class_with_two_genes_gets_a_validation_gene():
    g = pd.DataFrame({"gene_id": [f"g{i}" for i in range(12)], "chrom": ["1"] * 4 + ["2"] * 8,
                      "label": [-1, 1, -1, 1] + [-1] * 6 + [1] * 2, "fold": ["1"] * 4 + ["2"] * 8})
    s = make_split(g, "1", "binary", val_fraction=0.1, seed=0, balance=False)
    assert set(g.loc[s.val, "label"]) == {-1, 1}
