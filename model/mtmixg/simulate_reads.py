"""Simulated Illumina reads from a transcriptome, written as gzipped Phred+33 FASTQ.

Fragments are drawn from transcripts in proportion to abundance x effective length, with a
normal fragment length; read 1 is the fragment's first `read_length` bases, read 2 the reverse
complement of its last ones (each fragment is flipped with probability 1/2: an unstranded
library). Reads carry a small substitution error rate; some get a low-quality 3' tail (with a
higher error rate there) so that quality trimming has something to do. All vectorised numpy.
"""

from __future__ import annotations

import gzip
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

_LETTERS = np.frombuffer(b"ACGTN", dtype=np.uint8)
_COMP = np.array([3, 2, 1, 0, 4], dtype=np.uint8)


@dataclass(frozen=True)
class RunSpec:
    """One sequencing run: name, layout ("paired" | "single"), read length and fragment sizes."""

    name: str
    layout: str
    read_length: int = 75
    fragment_mean: float = 200.0
    fragment_sd: float = 20.0

    def __post_init__(self) -> None:
        if self.layout not in ("paired", "single"):
            raise ValueError(f"run {self.name}: layout must be 'paired' or 'single', got {self.layout!r}")

    def to_dict(self) -> dict:
        return asdict(self)

    def fastq_names(self) -> list[str]:
        """File names of this run's FASTQ files (relative to the reads folder)."""
        if self.layout == "paired":
            return [f"{self.name}_1.fastq.gz", f"{self.name}_2.fastq.gz"]
        return [f"{self.name}.fastq.gz"]


def encode_dna(seq: str) -> np.ndarray:
    """DNA text -> uint8 codes (A C G T = 0..3, anything else 4 = N), upper or lower case. Shape (len,)."""
    table = np.full(256, 4, dtype=np.uint8)
    for i, base in enumerate(b"ACGT"):
        table[base] = table[base + 32] = i
    return table[np.frombuffer(seq.encode("ascii"), dtype=np.uint8)]


def isoform_shares(n_isoforms: int) -> np.ndarray:
    """How a gene's TPM is split over its isoforms (in annotation order): halving shares
    1/2, 1/4, ... normalised to sum 1, so the first (representative) isoform dominates. Shape (n,)."""
    share = 0.5 ** np.arange(n_isoforms, dtype=np.float64)
    return share / share.sum()


def effective_lengths(lengths: np.ndarray, fragment_mean: float) -> np.ndarray:
    """kallisto-style effective lengths: length - mean fragment + 1, at least 1. Shape (T,)."""
    return np.maximum(lengths.astype(np.float64) - fragment_mean + 1.0, 1.0)


def _length_table(run: RunSpec, longest: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fragment lengths read_length..longest with cumulative normal weight and cumulative
    weight x length: (lengths (K,), cum p (K,), cum p*f (K,)), for the truncated normal."""
    f = np.arange(run.read_length, max(longest, run.read_length) + 1, dtype=np.float64)
    p = np.exp(-0.5 * ((f - run.fragment_mean) / run.fragment_sd) ** 2)
    return f, np.cumsum(p), np.cumsum(p * f)


def truncated_effective_lengths(lengths: np.ndarray, run: RunSpec) -> np.ndarray:
    """kallisto's effective lengths: length - (mean of the fragment normal truncated to
    [read_length, length]) + 1; 0 for transcripts shorter than a read. Shape (T,)."""
    f, cum_p, cum_pf = _length_table(run, int(lengths.max()))
    at = np.clip(lengths - run.read_length, 0, len(f) - 1)
    mean = cum_pf[at] / np.maximum(cum_p[at], 1e-300)
    return np.where(lengths >= run.read_length, np.maximum(lengths - mean + 1.0, 1.0), 0.0)


def sample_fragments(
    rng: np.random.Generator,
    lengths: np.ndarray,
    abundance: np.ndarray,
    n: int,
    run: RunSpec,
    truncated: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw n fragments. Returns (transcript index (n,), start (n,), fragment length (n,)).

    truncated False (the demo): a transcript's weight is abundance x (length - mean + 1, at least
    1) and fragment lengths are normal, clipped to [read_length, length]. truncated True: weight is
    abundance x truncated_effective_lengths and fragment lengths follow the normal truncated to
    [read_length, length], so short transcripts give reads at the rate kallisto's model expects.
    Transcripts shorter than the read length give no fragments (a full-length read cannot come
    from them); raises ValueError when no transcript can give one.
    """
    long_enough = lengths >= run.read_length
    if truncated:
        weight = abundance * truncated_effective_lengths(lengths, run)
    else:
        weight = abundance * effective_lengths(lengths, run.fragment_mean) * long_enough
    if not weight.sum() > 0:
        raise ValueError(f"run {run.name}: no transcript with abundance > 0 is at least {run.read_length} bases long")
    prob = weight / weight.sum()
    tx = rng.choice(len(lengths), size=n, p=prob)
    if truncated:
        f, cum_p, _ = _length_table(run, int(lengths.max()))
        top = cum_p[np.clip(lengths[tx] - run.read_length, 0, len(f) - 1)]
        frag = f[np.minimum(np.searchsorted(cum_p, rng.random(n) * top), len(f) - 1)].astype(np.int64)
    else:
        frag = np.rint(rng.normal(run.fragment_mean, run.fragment_sd, size=n)).astype(np.int64)
        frag = np.clip(frag, run.read_length, lengths[tx])
    start = (rng.random(n) * (lengths[tx] - frag + 1)).astype(np.int64)
    return tx, start, frag


def _errors_and_quality(rng: np.random.Generator, codes: np.ndarray, error_rate: float, tail_fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """Add substitutions and make Phred+33 qualities. codes: uint8 (n, L). Returns letters, quals.

    Qualities are 30-40; a tail_fraction of reads get a 3' tail of Q 2-12 (8 to L/2 bases, 5% errors
    there), and 1% of those are low-quality over their whole length.
    """
    n, length = codes.shape
    qual = rng.integers(30, 41, size=(n, length), dtype=np.uint8)
    rate = np.full((n, length), error_rate)
    has_tail = rng.random(n) < tail_fraction
    tail_len = rng.integers(8, max(9, length // 2), size=n)
    tail_len[rng.random(n) < 0.01] = length  # ~1% of reads are bad throughout: trimming drops them
    in_tail = has_tail[:, None] & (np.arange(length)[None, :] >= (length - tail_len)[:, None])
    qual[in_tail] = rng.integers(2, 13, size=int(in_tail.sum()), dtype=np.uint8)
    rate[in_tail] = 0.05
    err = rng.random((n, length)) < rate
    shift = rng.integers(1, 4, size=int(err.sum()), dtype=np.uint8)
    out = codes.copy()
    out[err] = (out[err] + shift) % 4
    return _LETTERS[out], qual + 33


def _write_fastq_gz(path: Path, run: str, mate: str, letters: np.ndarray, quals: np.ndarray) -> None:
    """Write reads (letters, quals: uint8 (n, L)) as gzipped FASTQ, atomically and reproducibly.

    Read names are `@{run}.{i}/{mate}` (i from 1): latf-load (FASTQ -> .sra) rejects `@x 1/1`.
    """
    n, length = letters.shape
    seq = letters.tobytes()
    qual = quals.tobytes()
    parts = []
    for i in range(n):
        a = i * length
        parts.append(b"@%s.%d/%s\n%s\n+\n%s\n" % (run.encode(), i + 1, mate.encode(), seq[a : a + length], qual[a : a + length]))
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=1, mtime=0) as gz:
            gz.write(b"".join(parts))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def simulate_run(
    rng: np.random.Generator,
    transcriptome: np.ndarray,
    offsets: np.ndarray,
    lengths: np.ndarray,
    abundance: np.ndarray,
    n: int,
    run: RunSpec,
    folder: Path,
    error_rate: float = 0.002,
    tail_fraction: float = 0.25,
    truncated: bool = False,
) -> list[Path]:
    """Simulate n reads (pairs) of one run into folder; returns the FASTQ paths written.

    transcriptome: uint8 codes of all transcripts concatenated (transcript orientation);
    offsets/lengths: (T,) start and length of each transcript in it; abundance: (T,) relative
    molar abundance (proportional to TPM); truncated: the fragment model (sample_fragments).
    """
    folder.mkdir(parents=True, exist_ok=True)
    tx, start, frag = sample_fragments(rng, lengths, abundance, n, run, truncated)
    r = run.read_length
    cols = np.arange(r)
    base = offsets[tx] + start
    first = transcriptome[base[:, None] + cols[None, :]]
    last_start = base + frag - r
    second = _COMP[transcriptome[last_start[:, None] + cols[None, :]]][:, ::-1]
    flip = rng.random(n) < 0.5
    r1 = np.where(flip[:, None], second, first)
    r2 = np.where(flip[:, None], first, second)
    names = run.fastq_names()
    paths = [folder / name for name in names]
    letters, quals = _errors_and_quality(rng, r1, error_rate, tail_fraction)
    _write_fastq_gz(paths[0], run.name, "1", letters, quals)
    if run.layout == "paired":
        letters, quals = _errors_and_quality(rng, np.ascontiguousarray(r2), error_rate, tail_fraction)
        _write_fastq_gz(paths[1], run.name, "2", letters, quals)
    return paths
