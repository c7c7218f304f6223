"""The windows dataset of a species: one uint8 code array plus a gene table, on disk and in memory.

Folder layout (written by the workflow's windows rule):
    windows.npy   uint8 codes, shape (N, L)  (A,C,G,T = 0..3, other = 4)
    genes.tsv     gene_id, chrom, start, end, strand, logMaxTPM, label, fold  (row i <-> window i)
    window.json   the WindowSpec and the mtmixg version that wrote it
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .. import __version__
from ..core.atomic import atomic_write
from .sequence import WindowSpec

GENE_COLUMNS: tuple[str, ...] = ("gene_id", "chrom", "start", "end", "strand", "logMaxTPM", "label", "fold")
WINDOWS_FILE = "windows.npy"
GENES_FILE = "genes.tsv"
SPEC_FILE = "window.json"


@dataclass
class GeneWindows:
    """Windows of a set of genes. codes: uint8 (N, L); genes: N rows with GENE_COLUMNS."""

    codes: np.ndarray
    genes: pd.DataFrame
    spec: WindowSpec
    digest: str | None = None  # dataset_digest of the folder it was loaded from
    codes_digest: str | None = None  # sha256 of its windows.npy alone

    def __post_init__(self) -> None:
        if self.codes.ndim != 2:
            raise ValueError(f"codes must have shape (N, L), got {self.codes.shape}")
        if len(self.genes) != self.codes.shape[0]:
            raise ValueError(f"{len(self.genes)} genes but {self.codes.shape[0]} windows")
        if self.codes.shape[1] != self.spec.length:
            raise ValueError(f"windows have length {self.codes.shape[1]}, the window spec says {self.spec.length}")

    def __len__(self) -> int:
        return self.codes.shape[0]


def save_windows(folder: str | Path, windows: GeneWindows) -> None:
    """Write windows.npy, genes.tsv and window.json into folder (each written atomically)."""
    folder = Path(folder)
    missing = [c for c in GENE_COLUMNS if c not in windows.genes.columns]
    if missing:
        raise ValueError(f"gene table lacks column(s): {', '.join(missing)}")

    def write_npy(tmp: str) -> None:
        with open(tmp, "wb") as handle:
            np.save(handle, np.ascontiguousarray(windows.codes, dtype=np.uint8))

    atomic_write(folder / WINDOWS_FILE, write_npy)
    atomic_write(folder / GENES_FILE, lambda tmp: windows.genes.loc[:, list(GENE_COLUMNS)].to_csv(tmp, sep="\t", index=False))
    meta = {**windows.spec.to_dict(), "mtmixg_version": __version__}
    atomic_write(folder / SPEC_FILE, lambda tmp: Path(tmp).write_text(json.dumps(meta, indent=2) + "\n"))


N_CODES = 5  # A, C, G, T, other


def digests(folder: str | Path) -> tuple[str, str]:
    """(dataset_digest: sha256 of the bytes of windows.npy then genes.tsv, what a model was trained
    on; sha256 of windows.npy alone), in one read."""
    h = hashlib.sha256()
    codes = ""
    for name in (WINDOWS_FILE, GENES_FILE):
        with open(Path(folder) / name, "rb") as handle:
            while chunk := handle.read(1 << 22):
                h.update(chunk)
        if name == WINDOWS_FILE:
            codes = h.copy().hexdigest()
        h.update(b"\0")
    return h.hexdigest(), codes


def dataset_digest(folder: str | Path) -> str:
    """sha256 of the bytes of windows.npy then genes.tsv: what a model was trained on."""
    return digests(folder)[0]


def genes_digest(genes: pd.DataFrame) -> str:
    """sha256 of a gene table's sorted (gene_id, fold) pairs: which genes a model trained and was
    tested on, whatever the table's number formatting."""
    pairs = zip(genes["gene_id"].astype(str), genes["fold"].fillna("").astype(str))
    return hashlib.sha256("".join(f"{g}\t{f}\n" for g, f in pairs).encode()).hexdigest()


def same_genes(meta: dict, gw: GeneWindows) -> bool:
    """True when gw holds the genes a model (its model.json dict) was trained and tested on: the
    same gene IDs and folds in the same order (a genes.tsv re-saved with other number formatting
    still matches); for a model.json from before genes_digest: the same bytes (dataset_digest)."""
    if meta.get("genes_digest") is not None:
        return meta["genes_digest"] == genes_digest(gw.genes)
    return meta.get("dataset_digest") is not None and meta["dataset_digest"] == gw.digest


def same_windows(meta: dict, gw: GeneWindows) -> bool:
    """same_genes, and the same windows.npy (for a model.json from before codes_digest: implied)."""
    return same_genes(meta, gw) and meta.get("codes_digest", gw.codes_digest) == gw.codes_digest


def _check_codes(path: Path, codes: np.ndarray) -> None:
    """ValueError naming the file, row and column of the first code outside 0..4."""
    if codes.dtype != np.uint8 or codes.ndim != 2:
        raise ValueError(f"{path}: expected a uint8 array of shape (genes, window length), got {codes.dtype} {codes.shape}")
    for start in range(0, codes.shape[0], 4096):
        block = np.asarray(codes[start : start + 4096])
        bad = np.argwhere(block >= N_CODES)
        if len(bad):
            r, c = bad[0]
            raise ValueError(f"{path}: row {start + r}, column {c} holds code {block[r, c]}; codes must be 0..4 "
                             "(A, C, G, T, other): the file is corrupt, rerun the windows rule")


def read_spec(path: str | Path) -> WindowSpec:
    """The WindowSpec of a window.json (the mtmixg version that wrote it is left aside)."""
    meta = json.loads(Path(path).read_text())
    meta.pop("mtmixg_version", None)
    return WindowSpec.from_dict(meta)


def load_windows(folder: str | Path, mmap: bool = True) -> GeneWindows:
    """Read a windows folder; codes are memory-mapped unless mmap is False. ValueError naming the file
    when a code is outside 0..4. The result carries the folder's dataset_digest."""
    folder = Path(folder)
    for name in (WINDOWS_FILE, GENES_FILE, SPEC_FILE):
        if not (folder / name).is_file():
            raise FileNotFoundError(f"{folder / name}: missing; is {folder} a windows folder written by the workflow?")
    spec = read_spec(folder / SPEC_FILE)
    try:
        codes = np.load(folder / WINDOWS_FILE, mmap_mode="r" if mmap else None, allow_pickle=False)
    except (ValueError, OSError, EOFError) as err:
        raise ValueError(f"{folder / WINDOWS_FILE}: not a readable .npy array ({str(err).splitlines()[0][:200]}); "
                         "rerun the windows rule") from None
    _check_codes(folder / WINDOWS_FILE, codes)
    genes = pd.read_csv(folder / GENES_FILE, sep="\t", dtype={"gene_id": str, "chrom": str, "fold": str})
    missing = [c for c in GENE_COLUMNS if c not in genes.columns]
    if missing:
        raise ValueError(f"{folder / GENES_FILE}: lacks column(s) {', '.join(missing)}")
    return GeneWindows(codes, genes, spec, *digests(folder))
