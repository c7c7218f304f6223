"""Figures of the motifs step: the meta-profile along the window and the motif logos."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..plots import plt  # Agg backend
from .jaspar import Motif


def metaprofile_figure(profile: pd.DataFrame, title: str):
    """Mean contribution per window position (metaprofile.tsv), TSS and TTS marked."""
    fig, ax = plt.subplots(figsize=(10, 3))
    ax.plot(profile["position"], profile["mean"], lw=0.8, color="C0", label="mean contribution")
    ax.plot(profile["position"], profile["mean_abs"], lw=0.8, color="C1", alpha=0.7, label="mean |contribution|")
    for anchor in ("TSS", "TTS"):
        at = profile[(profile["anchor"] == anchor) & (profile["offset"] == 0)]
        if len(at):
            ax.axvline(int(at["position"].iloc[0]), color="grey", ls="--", lw=0.8)
            ax.text(int(at["position"].iloc[0]) + 3, 0.97, anchor, ha="left", va="top", fontsize=8, transform=ax.get_xaxis_transform())
    ax.axhline(0, color="black", lw=0.5)
    ax.set_xlabel("window position (bases, 5' -> 3' along the gene)")
    ax.set_ylabel("attribution")
    ax.set_title(title)
    ax.legend(loc="upper right", fontsize=8, frameon=False)
    return fig


def logos_figure(motifs: list[Motif], table: pd.DataFrame, title: str):
    """One information-content logo per motif (motifs.meme), with sign, sites and best match."""
    import logomaker

    n = max(len(motifs), 1)
    fig, axes = plt.subplots(n, 1, figsize=(8, 1.6 * n), squeeze=False)
    rows = table.set_index("motif") if len(table) else None
    for ax, (name, _, prob) in zip(axes[:, 0], motifs):
        ic = prob * (2 + np.sum(prob * np.log2(np.clip(prob, 1e-9, 1)), axis=0))
        logomaker.Logo(pd.DataFrame(ic.T, columns=list("ACGT")), ax=ax)
        ax.set_ylim(0, 2)
        ax.set_ylabel("bits")
        if rows is not None and name in rows.index:
            r = rows.loc[name]
            ax.set_title(f"{name} ({r['sign']}), {r['n_seqlets']} sites, TSS {r['n_TSS']} / TTS {r['n_TTS']}; "
                         f"best match {r['best_match'] or '-'} (q={r['best_q_value']:.2g})", fontsize=8)
    if not motifs:
        axes[0, 0].text(0.5, 0.5, "no motifs found", ha="center")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def motif_figures(profile: str | Path, table: str | Path, meme: str | Path, species: str, experiment: str,
                  profile_png: str | Path, logos_png: str | Path) -> None:
    """Meta-profile and motif logos of one species and experiment (rule motif_figures): reads
    metaprofile.tsv, motifs.tsv and motifs.meme of the motifs step, writes the two PNGs."""
    from ..plots import save_figure
    from .jaspar import read_meme

    title = f"({species}, {experiment})"
    save_figure(metaprofile_figure(pd.read_csv(profile, sep="\t"), f"Mean attribution of held-out genes {title}"),
                profile_png)
    motifs_table = pd.read_csv(table, sep="\t")
    motifs = read_meme(meme) if len(motifs_table) else []
    save_figure(logos_figure(motifs, motifs_table, f"Learned motifs {title}"), logos_png)
