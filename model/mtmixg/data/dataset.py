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
from ..core.window_spec import WindowSpec

GENE_COLUMNS: tuple[str, ...] = ("gene_id", "chrom", "start", "end", "strand", "logMaxTPM", "label", "fold")
WINDOWS_FILE = "windows.npy"
GENES_FILE = "genes.tsv"
SPEC_FILE = "window.json"


@dataclass(frozen=True)
class WindowsFiles:
    """The three files of a windows dataset, each at its own path (a rule's declared paths)."""

    windows: Path
    genes: Path
    spec: Path

    def __post_init__(self) -> None:
        for name in ("windows", "genes", "spec"):
            object.__setattr__(self, name, Path(getattr(self, name)))

    @classmethod
    def in_folder(cls, folder: str | Path) -> WindowsFiles:
        """The files of a windows folder, by their conventional names."""
        folder = Path(folder)
        return cls(folder / WINDOWS_FILE, folder / GENES_FILE, folder / SPEC_FILE)

    @classmethod
    def of(cls, where: str | Path | WindowsFiles) -> WindowsFiles:
        """where itself, or the files of the folder where."""
        return where if isinstance(where, WindowsFiles) else cls.in_folder(where)


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


def save_windows(folder: str | Path | WindowsFiles, windows: GeneWindows) -> None:
    """Write windows.npy, genes.tsv and window.json into folder, or to the paths of a WindowsFiles
    (each written atomically)."""
    files = WindowsFiles.of(folder)
    missing = [c for c in GENE_COLUMNS if c not in windows.genes.columns]
    if missing:
        raise ValueError(f"gene table lacks column(s): {', '.join(missing)}")

    def write_npy(tmp: str) -> None:
        with open(tmp, "wb") as handle:
            np.save(handle, np.ascontiguousarray(windows.codes, dtype=np.uint8))

    atomic_write(files.windows, write_npy)
    atomic_write(files.genes, lambda tmp: windows.genes.loc[:, list(GENE_COLUMNS)].to_csv(tmp, sep="\t", index=False))
    meta = {**windows.spec.to_dict(), "mtmixg_version": __version__}
    atomic_write(files.spec, lambda tmp: Path(tmp).write_text(json.dumps(meta, indent=2) + "\n"))


N_CODES = 5  # A, C, G, T, other


def digests(folder: str | Path | WindowsFiles) -> tuple[str, str]:
    """(dataset_digest: sha256 of the bytes of windows.npy then genes.tsv, what a model was trained
    on; sha256 of windows.npy alone), in one read."""
    files = WindowsFiles.of(folder)
    h = hashlib.sha256()
    codes = ""
    for path in (files.windows, files.genes):
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 22):
                h.update(chunk)
        if path == files.windows:
            codes = h.copy().hexdigest()
        h.update(b"\0")
    return h.hexdigest(), codes


def dataset_digest(folder: str | Path | WindowsFiles) -> str:
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


def load_windows(folder: str | Path | WindowsFiles, mmap: bool = True) -> GeneWindows:
    """Read a windows folder, or the files of a WindowsFiles; codes are memory-mapped unless mmap is
    False. ValueError naming the file when a code is outside 0..4. The result carries the dataset's
    dataset_digest."""
    files = WindowsFiles.of(folder)
    for path in (files.windows, files.genes, files.spec):
        if not path.is_file():
            what = "it" if isinstance(folder, WindowsFiles) else f"{folder} a windows folder"
            raise FileNotFoundError(f"{path}: missing; is {what} written by the workflow?")
    spec = read_spec(files.spec)
    try:
        codes = np.load(files.windows, mmap_mode="r" if mmap else None, allow_pickle=False)
    except (ValueError, OSError, EOFError) as err:
        raise ValueError(f"{files.windows}: not a readable .npy array ({str(err).splitlines()[0][:200]}); "
                         "rerun the windows rule") from None
    _check_codes(files.windows, codes)
    genes = pd.read_csv(files.genes, sep="\t", dtype={"gene_id": str, "chrom": str, "fold": str})
    missing = [c for c in GENE_COLUMNS if c not in genes.columns]
    if missing:
        raise ValueError(f"{files.genes}: lacks column(s) {', '.join(missing)}")
    return GeneWindows(codes, genes, spec, *digests(files))
