"""Attribution maps on disk, in the layout `modisco motifs` reads (np.load(f)["arr_0"], (N, 4, L)).

A maps folder is written whole or not at all (mtmixg.core.atomic.atomic_folder) and holds:
    ohe.npz       arr_0: the one-hot windows explained, int8 (N, 4, L)
    attr.npz      arr_0: hypothetical contributions, float16 (N, 4, L) (actual = attr * ohe)
    genes.tsv     gene_id, label, score (+ max_abs_delta for DeepLIFT/SHAP), one row per map
    explain.json  method, why, timings, deltas, model, fold, seed
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.atomic import atomic_folder, atomic_write

OHE_FILE = "ohe.npz"
ATTR_FILE = "attr.npz"
GENES_FILE = "genes.tsv"
INFO_FILE = "explain.json"


@dataclass(frozen=True)
class MapsFiles:
    """The four files of a maps set, each at its own path (a rule's declared paths)."""

    ohe: Path
    attr: Path
    genes: Path
    info: Path

    def __post_init__(self) -> None:
        for name in ("ohe", "attr", "genes", "info"):
            object.__setattr__(self, name, Path(getattr(self, name)))

    @classmethod
    def in_folder(cls, folder: str | Path) -> MapsFiles:
        """The files of a maps folder, by their conventional names."""
        folder = Path(folder)
        return cls(folder / OHE_FILE, folder / ATTR_FILE, folder / GENES_FILE, folder / INFO_FILE)


@dataclass
class Maps:
    """ohe int8 (N, 4, L), attr float32/float16 (N, 4, L), genes N rows, info a JSON dict."""

    ohe: np.ndarray
    attr: np.ndarray
    genes: pd.DataFrame
    info: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.ohe.shape != self.attr.shape or self.ohe.ndim != 3 or self.ohe.shape[1] != 4:
            raise ValueError(f"one-hot {self.ohe.shape} and maps {self.attr.shape} must both be (N, 4, L)")
        if len(self.genes) != self.ohe.shape[0]:
            raise ValueError(f"{len(self.genes)} genes but {self.ohe.shape[0]} maps")

    def contributions(self) -> np.ndarray:
        """Actual contribution of each position's base, float32 (N, L)."""
        return (self.attr.astype(np.float32) * self.ohe).sum(1)


def savez(path: Path, array: np.ndarray) -> None:
    def write(tmp: str) -> None:
        with open(tmp, "wb") as handle:
            np.savez_compressed(handle, array)

    atomic_write(path, write)


def _write_maps(files: MapsFiles, maps: Maps) -> None:
    """Each file atomically, explain.json last."""
    savez(files.ohe, maps.ohe.astype(np.int8))
    savez(files.attr, maps.attr.astype(np.float16))
    atomic_write(files.genes, lambda tmp: maps.genes.to_csv(tmp, sep="\t", index=False, float_format="%.6g"))
    atomic_write(files.info, lambda tmp: Path(tmp).write_text(json.dumps(maps.info, indent=2) + "\n"))


def save_maps(folder: str | Path | MapsFiles, maps: Maps) -> None:
    """Write the four files into folder, replacing it whole (an earlier maps folder is never mixed
    with this one, even when the run is killed mid-write), or to the paths of a MapsFiles."""
    if isinstance(folder, MapsFiles):
        _write_maps(folder, maps)
        return
    with atomic_folder(folder) as new:
        _write_maps(MapsFiles.in_folder(new), maps)


def load_maps(folder: str | Path | MapsFiles) -> Maps:
    """Read a maps folder, or the files of a MapsFiles; ValueError naming the missing or
    inconsistent file."""
    files = folder if isinstance(folder, MapsFiles) else MapsFiles.in_folder(folder)
    for path in (files.ohe, files.attr, files.genes, files.info):
        if not path.is_file():
            what = "it" if isinstance(folder, MapsFiles) else f"{folder} a maps folder"
            raise ValueError(f"{path}: missing; is {what} written by `mtmixg explain`?")
    with np.load(files.ohe) as f:
        ohe = f["arr_0"]
    with np.load(files.attr) as f:
        attr = f["arr_0"]
    genes = pd.read_csv(files.genes, sep="\t", dtype={"gene_id": str})
    info = json.loads(files.info.read_text())
    try:
        return Maps(ohe, attr, genes, info)
    except ValueError as err:
        where = folder if not isinstance(folder, MapsFiles) else files.info
        raise ValueError(f"{where}: {err}") from None
