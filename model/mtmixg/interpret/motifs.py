"""Learned motifs of one species and experiment: TF-MoDISco over the held-out maps of every fold
and seed, where the motifs sit relative to the TSS and TTS, a meta-profile, JASPAR matches.

out_dir receives (or, given a MotifFiles, the paths it names):
    ohe.npz, attr.npz   the pooled maps (one per gene: the mean over seeds), modisco's input
    genes.tsv           their genes (row i <-> map i), with n_maps
    modisco.h5          `modisco motifs` with the window = the whole input
    report/             `modisco report-simple` (HTML, logos)
    motifs.meme         the motifs (trimmed position probability matrices)
    motifs.tsv          motif, sign, n_seqlets, consensus, width, sites near TSS / TTS, median
                        offsets, best database match and its q-value
    positions.tsv       one row per seqlet: motif, gene_id, anchor (TSS/TTS), offset of its
                        start from the anchor (bases, along the gene), strand
    matches.tsv         the best TOMTOM matches of each motif (jaspar.match)
    metaprofile.tsv     per window position: anchor, offset, mean contribution, mean |contribution|
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.atomic import atomic_write
from ..data.dataset import read_spec
from ..core.window_spec import WindowSpec
from . import jaspar
from .maps import ATTR_FILE, GENES_FILE, OHE_FILE, Maps, MapsFiles, savez, load_maps

TRIM = 0.3  # keep a motif's columns from the first to the last with >= TRIM * the largest |contribution|
_LETTERS = np.array(list("ACGT"))


@dataclass(frozen=True)
class MotifFiles:
    """The outputs of the motifs step, each at its own path (a rule's declared paths). work: the
    folder of modisco's input (ohe.npz, attr.npz), the pooled genes.tsv and database.meme."""

    table: Path
    matches: Path
    meme: Path
    positions: Path
    profile: Path
    h5: Path
    info: Path
    report: Path
    work: Path

    def __post_init__(self) -> None:
        for name, path in vars(self).items():
            object.__setattr__(self, name, Path(path))

    @classmethod
    def in_folder(cls, folder: str | Path) -> MotifFiles:
        """Every output in one folder, by its conventional name (the module docstring)."""
        folder = Path(folder)
        return cls(folder / "motifs.tsv", folder / "matches.tsv", folder / "motifs.meme", folder / "positions.tsv",
                   folder / "metaprofile.tsv", folder / "modisco.h5", folder / "motifs.json", folder / "report", folder)


def pool_maps(folders: Sequence[str | Path | MapsFiles]) -> Maps:
    """One map per gene over folds and seeds: maps of the same gene (other seeds) are averaged."""
    parts = [load_maps(f) for f in folders]
    if not parts:
        raise ValueError("no maps to pool")
    genes = pd.concat([p.genes.assign(map_part=i, map_row=np.arange(len(p.genes))) for i, p in enumerate(parts)], ignore_index=True)
    order = genes.groupby("gene_id", sort=False)
    first = order.head(1).reset_index(drop=True)
    length = {p.ohe.shape[2] for p in parts}
    if len(length) != 1:
        raise ValueError(f"maps of different window lengths {sorted(length)} cannot be pooled")
    ohe = np.stack([parts[r.map_part].ohe[r.map_row] for r in first.itertuples()])
    attr = np.zeros(ohe.shape, dtype=np.float32)
    n = np.zeros(len(first))
    index = pd.Series(np.arange(len(first)), index=first["gene_id"].to_numpy())
    for r in genes.itertuples():
        k = index[r.gene_id]
        attr[k] += parts[r.map_part].attr[r.map_row]
        n[k] += 1
    attr /= n[:, None, None]
    methods = sorted({p.info.get("method", "?") for p in parts})
    table = first.drop(columns=["map_part", "map_row"]).assign(n_maps=n.astype(int))
    return Maps(ohe, attr, table, {"methods": methods, "n_maps": len(genes), "n_genes": len(first)})


def window_coordinates(spec: WindowSpec) -> pd.DataFrame:
    """Per window position: anchor (TSS, spacer, TTS) and offset from it (0 = the TSS / TTS base)."""
    pos = np.arange(spec.length)
    tts_start = spec.tss_length + spec.spacer
    anchor = np.where(pos < spec.tss_length, "TSS", np.where(pos < tts_start, "spacer", "TTS"))
    offset = np.where(anchor == "TSS", pos - spec.upstream_tss, np.where(anchor == "TTS", pos - tts_start - spec.upstream_tts, 0))
    return pd.DataFrame({"position": pos, "anchor": anchor, "offset": offset})


def metaprofile(maps: Maps, spec: WindowSpec) -> pd.DataFrame:
    """Mean and mean absolute contribution per window position, over all genes."""
    contrib = maps.contributions()
    return window_coordinates(spec).assign(mean=contrib.mean(0), mean_abs=np.abs(contrib).mean(0))


def run_modisco(maps: Maps, work: Path, h5: Path, report: Path, max_seqlets: int, log=print) -> Path:
    """`modisco motifs` (window = whole input; its input files in work) -> h5, then `modisco
    report-simple` (logos) -> the folder report; returns h5."""
    exe = shutil.which("modisco") or str(Path(sys.executable).with_name("modisco"))
    length = maps.ohe.shape[2]
    savez(work / OHE_FILE, maps.ohe.astype(np.int8))
    savez(work / ATTR_FILE, maps.attr.astype(np.float16))
    tmp = h5.with_name(f".{h5.name}.tmp")
    cmd = [exe, "motifs", "-s", str(work / OHE_FILE), "-a", str(work / ATTR_FILE), "-n", str(max_seqlets),
           "-w", str(length - length % 2), "-o", str(tmp), "-v"]  # fmt: skip
    log("running " + " ".join(cmd))
    _run(cmd)
    tmp.replace(h5)
    shutil.rmtree(report, ignore_errors=True)
    # logos only: the database matches come from jaspar.match (report-simple's own TOMTOM
    # against ~900 JASPAR motifs costs minutes)
    cmd = [exe, "report-simple", "-i", str(h5), "-o", str(report)]
    log("running " + " ".join(cmd))
    _run(cmd)
    return h5


def _run(cmd: list[str]) -> None:
    done = subprocess.run(cmd, stdout=sys.stderr, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-1:] or ["no message"]
        raise RuntimeError(f"{Path(cmd[0]).name} {cmd[1]} failed (exit {done.returncode}): {tail[0]}")


def read_patterns(h5_path: Path) -> list[dict]:
    """Patterns of a modisco.h5: name, sign (+1 raises the score, -1 lowers it), trimmed
    probability matrix (4, w), consensus, trim start, and its seqlets (example_idx, start, end, is_revcomp)."""
    import h5py

    out = []
    with h5py.File(h5_path, "r") as f:
        for group, sign in (("pos_patterns", 1), ("neg_patterns", -1)):
            if group not in f:
                continue
            for name in sorted(f[group], key=lambda n: int(n.split("_")[1])):
                g = f[group][name]
                contrib = np.abs(g["contrib_scores"][:]).sum(1)
                keep = np.flatnonzero(contrib >= TRIM * contrib.max())
                lo, hi = int(keep[0]), int(keep[-1]) + 1
                prob = g["sequence"][lo:hi].T.astype(np.float64)
                prob = prob / prob.sum(0, keepdims=True)
                s = g["seqlets"]
                out.append({
                    "name": f"{group.split('_')[0]}_{name}", "sign": sign, "prob": prob, "trim_start": lo,
                    "consensus": "".join(_LETTERS[prob.argmax(0)]),
                    "seqlets": pd.DataFrame({k: s[k][:] for k in ("example_idx", "start", "end", "is_revcomp")}),
                })  # fmt: skip
    return out


def seqlet_positions(patterns: list[dict], genes: pd.Series, spec: WindowSpec) -> pd.DataFrame:
    """One row per seqlet: motif, gene_id, window position of the trimmed motif's start, anchor,
    offset from the anchor, strand (- : the motif reads on the reverse strand)."""
    coords = window_coordinates(spec)
    tts_start = spec.tss_length + spec.spacer
    base = {"TSS": spec.upstream_tss, "spacer": spec.tss_length, "TTS": tts_start + spec.upstream_tts}
    rows = []
    for p in patterns:
        s, width = p["seqlets"], p["prob"].shape[1]
        start = np.where(s["is_revcomp"], s["end"] - p["trim_start"] - width, s["start"] + p["trim_start"])
        start = np.clip(start, 0, spec.length - width)
        anchor = coords["anchor"].to_numpy()[start + width // 2]
        rows.append(pd.DataFrame({
            "motif": p["name"], "gene_id": genes.to_numpy()[s["example_idx"].to_numpy()], "position": start,
            "anchor": anchor, "offset": start - np.array([base[a] for a in anchor], dtype=np.int64),
            "strand": np.where(s["is_revcomp"], "-", "+"),
        }))  # fmt: skip
    cols = ["motif", "gene_id", "position", "anchor", "offset", "strand"]
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=cols)


def summarize(patterns: list[dict], positions: pd.DataFrame, matches: pd.DataFrame) -> pd.DataFrame:
    """motifs.tsv: one row per motif."""
    rows = []
    for p in patterns:
        at = positions[positions["motif"] == p["name"]]
        best = matches[(matches["motif"] == p["name"]) & (matches["rank"] == 1)]
        row = {"motif": p["name"], "sign": "+" if p["sign"] > 0 else "-", "n_seqlets": len(p["seqlets"]),
               "consensus": p["consensus"], "width": p["prob"].shape[1]}
        for anchor in ("TSS", "TTS"):
            near = at[at["anchor"] == anchor]
            row[f"n_{anchor}"] = len(near)
            row[f"median_offset_{anchor}"] = float(near["offset"].median()) if len(near) else np.nan
        row["best_match"] = f"{best['match_id'].iloc[0]} {best['match_name'].iloc[0]}" if len(best) else ""
        row["best_q_value"] = float(best["q_value"].iloc[0]) if len(best) else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


def find_motifs(
    map_folders: Sequence[str | Path | MapsFiles],
    spec: WindowSpec,
    out_dir: str | Path | MotifFiles,
    max_seqlets: int = 2000,
    meme_db: str | Path | None = None,
    n_matches: int = 3,
    log=lambda line: print(line, file=sys.stderr, flush=True),
) -> pd.DataFrame:
    """The whole motifs step (see the module docstring); returns motifs.tsv's table.

    map_folders: the maps (folders or their files); out_dir: the output folder or the outputs'
    paths; meme_db: a user MEME file that replaces JASPAR CORE plants.
    """
    out = out_dir if isinstance(out_dir, MotifFiles) else MotifFiles.in_folder(out_dir)
    for folder in {out.work, *(path.parent for path in vars(out).values())}:
        folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    maps = pool_maps(map_folders)
    if maps.ohe.shape[2] != spec.length:
        raise ValueError(f"maps of length {maps.ohe.shape[2]} do not fit the window spec ({spec.length})")
    log(f"motifs: {maps.info['n_genes']} genes, {maps.info['n_maps']} maps from {len(map_folders)} folds/seeds")
    if meme_db is None:
        release, database = jaspar.jaspar_plants()
        db_name = f"{release} CORE plants (pyjaspar)"
    else:
        database, db_name = jaspar.read_meme(meme_db), str(meme_db)
    jaspar.write_meme(out.work / "database.meme", database)
    h5 = run_modisco(maps, out.work, out.h5, out.report, max_seqlets, log)
    log(f"motifs: modisco done after {time.perf_counter() - started:.0f} s")
    patterns = read_patterns(h5)
    jaspar.write_meme(out.meme, [(p["name"], p["consensus"], p["prob"]) for p in patterns])
    positions = seqlet_positions(patterns, maps.genes["gene_id"], spec)
    matches = jaspar.match([(p["name"], p["consensus"], p["prob"]) for p in patterns], database, n_matches)
    matches.insert(1, "database", db_name)
    table = summarize(patterns, positions, matches)
    tables = ((out.work / GENES_FILE, maps.genes), (out.positions, positions), (out.matches, matches),
              (out.profile, metaprofile(maps, spec)))
    for path, frame in tables:
        atomic_write(path, lambda tmp, f=frame: f.to_csv(tmp, sep="\t", index=False, float_format="%.6g"))
    info = {**maps.info, "database": db_name, "n_motifs": len(patterns), "seconds": time.perf_counter() - started}
    atomic_write(out.info, lambda tmp: Path(tmp).write_text(json.dumps(info, indent=2) + "\n"))
    atomic_write(out.table, lambda tmp: table.to_csv(tmp, sep="\t", index=False, float_format="%.6g"))
    log(f"motifs: {len(patterns)} motifs in {info['seconds']:.0f} s")
    return table


def motifs_job(maps: Sequence[MapsFiles], spec: str | Path, out: MotifFiles, max_seqlets: int = 2000,
               meme_db: str | Path | None = None) -> pd.DataFrame:
    """TF-MoDISco motifs of one species and experiment (rule motifs): find_motifs.

    maps: the files of every (seed, fold) map; spec: the windows' window.json; out: the outputs'
    paths. Returns the table.
    """
    return find_motifs(list(maps), read_spec(spec), out, max_seqlets=max_seqlets, meme_db=meme_db)
