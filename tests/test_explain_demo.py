"""Proof on the demo species: the workflow's attribution maps and TF-MoDISco motifs (explain on
for the cnn experiment in config/demo/config.yaml) recover the planted motifs with their signs,
and the strongest attributions of held-out high genes sit on planted sites.

Uses the session's demo workflow run (conftest.demo_workflow). Planted sites are found by
scanning each window for the motifs: the demo genome is scrubbed of them elsewhere.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml

from mtmixg import demo
from mtmixg.interpret.maps import load_maps
from mtmixg.data.sequence import reverse_complement
from workflow_helpers import DEMO_CONFIG

SIGN = {"ACT": "+", "TERM": "+", "REP": "-"}
EXPERIMENT = "cnn"


@pytest.fixture(scope="module")
def results(demo_workflow):
    return demo_workflow["dir"] / "results" / "demo"


MIN_OVERLAP = 7
"""Bases of a 10-base planted motif that a consensus must cover: the consensus is trimmed to the
columns with >= 0.3 of the largest |contribution| (interpret.motifs.TRIM), and a motif's outer
bases may fall just under it (TERM's carried 0.23-0.29 in one demo run)."""


def _mismatches(consensus: str, motif: str) -> int:
    """Fewest mismatches of motif placed along consensus where they overlap by >= MIN_OVERLAP bases
    (len(motif) where they never do)."""
    best = len(motif)
    for shift in range(-len(motif) + 1, len(consensus)):
        pairs = [(consensus[shift + k], b) for k, b in enumerate(motif) if 0 <= shift + k < len(consensus)]
        if len(pairs) >= MIN_OVERLAP:
            best = min(best, sum(a != b for a, b in pairs))
    return best


def _best(table: pd.DataFrame, motif: str) -> pd.Series:
    """The motif row closest to motif or its reverse complement."""
    miss = [min(_mismatches(c, motif), _mismatches(c, reverse_complement(motif))) for c in table["consensus"]]
    return table.assign(mismatches=miss).sort_values(["mismatches", "n_seqlets"], ascending=[True, False]).iloc[0]


def _site_mask(ohe: np.ndarray) -> np.ndarray:
    """bool (N, L): positions covered by a planted motif (either strand) in one-hot (N, 4, L)."""
    seqs = ["".join("ACGTN"[i] for i in np.where(o.sum(0) > 0, o.argmax(0), 4)) for o in ohe]
    mask = np.zeros((len(ohe), ohe.shape[2]), dtype=bool)
    for g, seq in enumerate(seqs):
        for m in demo.MOTIFS.values():
            for word in (m, reverse_complement(m)):
                start = seq.find(word)
                while start >= 0:
                    mask[g, start : start + len(word)] = True
                    start = seq.find(word, start + 1)
    return mask


def test_maps_cover_held_out_genes_with_converged_deeplift(results):
    folds = sorted(p.name for p in (results / "attributions" / EXPERIMENT / "seed0").iterdir())
    assert folds == ["1", "2", "3"]
    explained = yaml.safe_load(DEMO_CONFIG.read_text())["explain"]["seeds"]  # a subset of the trained seeds
    assert sorted(p.name for p in (results / "attributions" / EXPERIMENT).iterdir()) == [f"seed{s}" for s in explained]
    for seed_dir in sorted((results / "attributions" / EXPERIMENT).iterdir()):
        for fold in folds:
            info = json.loads((seed_dir / fold / "explain.json").read_text())
            maps = load_maps(seed_dir / fold)
            pred = pd.read_csv(results / "models" / EXPERIMENT / seed_dir.name / fold / "predictions.tsv", sep="\t", dtype={"chrom": str})
            assert set(maps.genes["gene_id"]) == set(pred.loc[pred["set"] == "test", "gene_id"])
            assert set(maps.genes["chrom"].astype(str)) == {fold}  # no training gene explained
            assert info["method"] == "deeplift_shap" and info["max_abs_delta"] <= info["delta_tolerance"]
            print(f"\n{seed_dir.name} fold {fold}: {info['n_genes']} genes, {info['seconds']:.1f} s, max |delta| {info['max_abs_delta']:.1g}")


@pytest.mark.parametrize("name", ["ACT", "TERM", "REP"])
def test_discovery_recovers_planted_motif_with_its_sign(results, name):
    table = pd.read_csv(results / "motifs" / EXPERIMENT / "motifs.tsv", sep="\t")
    row = _best(table, demo.MOTIFS[name])
    print(f"\n{name}: {row['motif']} {row['consensus']} sign {row['sign']} mismatches {row['mismatches']} "
          f"{row['n_seqlets']} seqlets, TSS {row['n_TSS']} / TTS {row['n_TTS']}, best match {row['best_match']} q={row['best_q_value']:.2g}")
    assert row["mismatches"] <= 1 and row["sign"] == SIGN[name]
    near, far = ("n_TSS", "n_TTS") if demo.MOTIF_ANCHOR[name] == "TSS" else ("n_TTS", "n_TSS")
    assert row[near] > row[far]  # planted upstream of the TSS (ACT, REP) or downstream of the TTS (TERM)


def test_top_attributions_of_high_genes_lie_in_planted_sites(results):
    folder = results / "motifs" / EXPERIMENT
    with np.load(folder / "ohe.npz") as f:
        ohe = f["arr_0"]
    with np.load(folder / "attr.npz") as f:
        contrib = (f["arr_0"].astype(np.float32) * ohe).sum(1)
    genes = pd.read_csv(folder / "genes.tsv", sep="\t")
    high = np.flatnonzero(genes["label"].to_numpy() == 1)
    assert len(high) > 100
    sites = _site_mask(ohe[high])
    top = np.argsort(-np.abs(contrib[high]), axis=1)[:, :20]
    share = np.take_along_axis(sites, top, axis=1).mean(1)
    print(f"\n{(share >= 0.5).mean():.0%} of {len(high)} held-out high genes have >= 10 of their top 20 positions in planted sites")
    assert (share >= 0.5).mean() >= 0.6


def test_motif_outputs_for_the_report(results):
    folder = results / "motifs" / EXPERIMENT
    matches = pd.read_csv(folder / "matches.tsv", sep="\t")
    assert set(matches.columns) >= {"motif", "rank", "match_id", "p_value", "q_value"} and matches["database"].str.contains("JASPAR").all()
    profile = pd.read_csv(folder / "metaprofile.tsv", sep="\t")
    # ACT's slots (-150..-20 from the TSS) carry more mean |attribution| than the spacer and the far TTS end
    tss = profile[(profile["anchor"] == "TSS") & profile["offset"].between(-150, -10)]["mean_abs"].mean()
    assert tss > 5 * profile[profile["anchor"] == "spacer"]["mean_abs"].mean() + 1e-9
    assert (folder / "motifs.meme").read_text().startswith("MEME version 4")
    for name in ("metaprofile.png", "logos.png", "report/motifs.html"):
        assert (folder / name).stat().st_size > 1000
    info = json.loads((folder / "motifs.json").read_text())
    print(f"\nmotifs step: {info['n_genes']} genes, {info['n_motifs']} motifs in {info['seconds']:.0f} s")
