"""The windows dataset of a species: one uint8 code array plus a gene table, on disk and in memory.

Folder layout (written by the workflow's windows rule):
    windows.npy   uint8 codes, shape (N, L)  (A,C,G,T = 0..3, other = 4)
    genes.tsv     gene_id, chrom, start, end, strand, logMaxTPM, label, fold  (row i <-> window i)
    window.json   the WindowSpec and the mtmixg version that wrote it
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import __version__
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

    def __post_init__(self) -> None:
        if self.codes.ndim != 2:
            raise ValueError(f"codes must have shape (N, L), got {self.codes.shape}")
        if len(self.genes) != self.codes.shape[0]:
            raise ValueError(f"{len(self.genes)} genes but {self.codes.shape[0]} windows")
        if self.codes.shape[1] != self.spec.length:
            raise ValueError(f"windows have length {self.codes.shape[1]}, the window spec says {self.spec.length}")

    def __len__(self) -> int:
        return self.codes.shape[0]


def _umask() -> int:
    """The process umask, read without changing it (Linux /proc), else set and restored."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _disk_full(folder: Path, err: BaseException) -> bool:
    """True when err is (or, for writers that lose the errno, looks like) a full disk or quota."""
    if isinstance(err, OSError) and err.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return True
    try:
        stat = os.statvfs(folder)
    except OSError:
        return False
    return stat.f_bavail * stat.f_frsize < (1 << 20)


def _atomic_write(path: Path, write) -> None:
    """Write through a temporary file in the same folder, then rename: never a half-written file.

    The file gets the mode a plain open() would give (0666 less the umask), not mkstemp's 0600,
    so a lab group can read results on a shared cluster. Errors name path, never the temporary file: a folder at path, or a full
    disk, is an OSError saying so.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "is a folder; give a file name", str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException as err:
        full = isinstance(err, Exception) and _disk_full(path.parent, err)
        Path(tmp).unlink(missing_ok=True)
        if full:
            raise OSError(errno.ENOSPC, "the disk is full (no space left on device); nothing was written, "
                          "free space and rerun", str(path)) from None
        if isinstance(err, OSError) and err.filename == tmp:
            raise OSError(err.errno, err.strerror, str(path)) from None
        raise


def save_windows(folder: str | Path, windows: GeneWindows) -> None:
    """Write windows.npy, genes.tsv and window.json into folder (each written atomically)."""
    folder = Path(folder)
    missing = [c for c in GENE_COLUMNS if c not in windows.genes.columns]
    if missing:
        raise ValueError(f"gene table lacks column(s): {', '.join(missing)}")

    def write_npy(tmp: str) -> None:
        with open(tmp, "wb") as handle:
            np.save(handle, np.ascontiguousarray(windows.codes, dtype=np.uint8))

    _atomic_write(folder / WINDOWS_FILE, write_npy)
    _atomic_write(folder / GENES_FILE, lambda tmp: windows.genes.loc[:, list(GENE_COLUMNS)].to_csv(tmp, sep="\t", index=False))
    meta = {**windows.spec.to_dict(), "mtmixg_version": __version__}
    _atomic_write(folder / SPEC_FILE, lambda tmp: Path(tmp).write_text(json.dumps(meta, indent=2) + "\n"))


N_CODES = 5  # A, C, G, T, other


def dataset_digest(folder: str | Path) -> str:
    """sha256 of the bytes of windows.npy then genes.tsv: what a model was trained on."""
    h = hashlib.sha256()
    for name in (WINDOWS_FILE, GENES_FILE):
        with open(Path(folder) / name, "rb") as handle:
            while chunk := handle.read(1 << 22):
                h.update(chunk)
        h.update(b"\0")
    return h.hexdigest()


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


def load_windows(folder: str | Path, mmap: bool = True) -> GeneWindows:
    """Read a windows folder; codes are memory-mapped unless mmap is False. ValueError naming the file
    when a code is outside 0..4. The result carries the folder's dataset_digest."""
    folder = Path(folder)
    for name in (WINDOWS_FILE, GENES_FILE, SPEC_FILE):
        if not (folder / name).is_file():
            raise FileNotFoundError(f"{folder / name}: missing; is {folder} a windows folder written by the workflow?")
    meta = json.loads((folder / SPEC_FILE).read_text())
    meta.pop("mtmixg_version", None)
    spec = WindowSpec.from_dict(meta)
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
    return GeneWindows(codes, genes, spec, dataset_digest(folder))
