"""Motif databases as MEME files, and TOMTOM matching (memelite) with q-values.

The default database is JASPAR CORE plants from the SQLite file that the PyPI package pyjaspar
ships (no network). A user MEME file can replace it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..core.atomic import atomic_write

Motif = tuple[str, str, np.ndarray]  # (id, name, probabilities float (4, width), rows A, C, G, T)


def jaspar_plants() -> tuple[str, list[Motif]]:
    """(release, motifs) of JASPAR CORE plants from pyjaspar's local database."""
    from pyjaspar import jaspardb

    db = jaspardb()
    motifs = []
    for m in db.fetch_motifs(collection="CORE", tax_group=["plants"]):
        counts = np.array([m.counts[b] for b in "ACGT"], dtype=np.float64)
        motifs.append((m.matrix_id, m.name, counts / counts.sum(0, keepdims=True)))
    return db.release, motifs


def meme_text(motifs: list[Motif]) -> str:
    """MEME minimal format (version 4) of motifs."""
    lines = ["MEME version 4", "", "ALPHABET= ACGT", "", "strands: + -", "",
             "Background letter frequencies", "A 0.25 C 0.25 G 0.25 T 0.25", ""]  # fmt: skip
    for motif_id, name, prob in motifs:
        lines += [f"MOTIF {motif_id} {name}".rstrip(), f"letter-probability matrix: alength= 4 w= {prob.shape[1]} nsites= 20 E= 0"]
        lines += [" ".join(f"{v:.6f}" for v in col) for col in prob.T]
        lines.append("")
    return "\n".join(lines)


def write_meme(path: str | Path, motifs: list[Motif]) -> None:
    atomic_write(Path(path), lambda tmp: Path(tmp).write_text(meme_text(motifs)))


def read_meme(path: str | Path) -> list[Motif]:
    """Motifs of a MEME file; ValueError naming the file and line when it has none or a bad matrix."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such MEME file")
    motifs: list[Motif] = []
    lines = path.read_text(errors="replace").splitlines()
    i = 0
    while i < len(lines):
        words = lines[i].split()
        if words[:1] == ["MOTIF"] and len(words) >= 2:
            motif_id, name, start = words[1], " ".join(words[2:]), i + 1
            while i + 1 < len(lines) and not lines[i + 1].strip().startswith("letter-probability"):
                i += 1
                if i - start > 20:
                    raise ValueError(f"{path}:{start}: motif {motif_id} has no 'letter-probability matrix' line")
            i += 1
            rows = []
            while i + 1 < len(lines) and lines[i + 1].strip() and not lines[i + 1].split()[0].isalpha():
                i += 1
                try:
                    rows.append([float(v) for v in lines[i].split()])
                except ValueError:
                    raise ValueError(f"{path}:{i + 1}: not a row of 4 numbers: {lines[i].strip()[:60]}") from None
            if not rows or any(len(r) != 4 for r in rows):
                raise ValueError(f"{path}:{start}: motif {motif_id} needs rows of 4 probabilities (A C G T)")
            prob = np.array(rows).T
            motifs.append((motif_id, name, prob / prob.sum(0, keepdims=True)))
        i += 1
    if not motifs:
        raise ValueError(f"{path}: no MOTIF entries; give a MEME-format motif file")
    return motifs


def _bh(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg q-values of p-values (1-D)."""
    order = np.argsort(p)
    ranked = p[order] * len(p) / np.arange(1, len(p) + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty_like(q)
    out[order] = np.minimum(q, 1.0)
    return out


def match(queries: list[Motif], targets: list[Motif], n_best: int = 3) -> pd.DataFrame:
    """TOMTOM (memelite) of each query against all targets: its n_best matches by p-value.

    Columns: motif, rank, match_id, match_name, p_value, q_value (Benjamini-Hochberg over all
    targets of that query), strand (+ or - : the target matched its reverse complement).
    """
    from memelite import tomtom

    columns = ["motif", "rank", "match_id", "match_name", "p_value", "q_value", "strand"]
    if not queries:
        return pd.DataFrame(columns=columns)
    p, _scores, _offsets, _overlaps, strands = tomtom([q[2].astype(np.float32) for q in queries],
                                                      [t[2].astype(np.float32) for t in targets])
    rows = []
    for i, (qid, _, _) in enumerate(queries):
        pi = np.asarray(p[i], dtype=np.float64)
        qi = _bh(pi)
        for rank, j in enumerate(np.argsort(pi)[:n_best], 1):
            rows.append([qid, rank, targets[j][0], targets[j][1], pi[j], qi[j], "-" if strands[i, j] else "+"])
    return pd.DataFrame(rows, columns=columns)
