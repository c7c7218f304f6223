"""FASTA files: validation, the .fai index and fast per-record reads as uint8 codes.

Two ways in:
- ``validate_fasta(path)`` streams a plain or gzip FASTA (genome or cDNA) once and checks that
  every record has a name and at least one sequence line of IUPAC nucleotide letters; the first
  problem raises FastaError naming the file, the line and the record.
- ``read_records(path)`` reads a small plain FASTA (gene windows) whole, with the same checks
  plus one record per id, each error naming the line.
- ``FastaIndex(path)`` gives random access to an *uncompressed* FASTA through its samtools-style
  ``.fai`` (built with pyfaidx when missing or older than the FASTA; built beside the FASTA when its
  folder is writable, else in a temporary folder and kept in memory). ``read_codes(name)`` reads one
  record straight from disk into uint8 codes (A,C,G,T=0..3, anything else 4) without building
  Python strings. Compressed genomes are refused with a hint: decompress them first
  (``decompress_fasta``, or ``gunzip -c genome.fa.gz > genome.fa``); a genome is read whole per
  chromosome anyway, so bgzip random access would buy nothing.
"""

from __future__ import annotations

import functools
import gzip
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .sequence import _CODES

IUPAC = "ACGTURYSWKMBDHVN"
_IUPAC_BYTES = (IUPAC + IUPAC.lower()).encode()
_IUPAC_OK = np.zeros(256, dtype=bool)
_IUPAC_OK[np.frombuffer(_IUPAC_BYTES, dtype=np.uint8)] = True
_PROTEIN_BYTES = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz*-"


class FastaError(ValueError):
    """A malformed or unusable FASTA; the message names the file (and line / record)."""


def not_utf8(path: str | Path, lineno: int, line: bytes) -> FastaError:
    """The error for a FASTA line that is not UTF-8 text (e.g. a Windows-1252 header)."""
    try:
        line.decode("utf-8")
        byte, col = line[-1], len(line)  # the line ends inside a character
    except UnicodeDecodeError as err:
        byte, col = line[err.start], err.start + 1
    what = "header" if line.startswith(b">") else "line"
    return FastaError(
        f"{path}:{lineno}: FASTA {what} is not UTF-8 text (byte 0x{byte:02x} at column {col}; Windows-1252 or "
        f"Latin-1?); convert the file to UTF-8, e.g. `iconv -f WINDOWS-1252 -t UTF-8 {Path(path).name} > fixed.fa`"
    )


def first_non_utf8_line(path: str | Path) -> tuple[int, bytes] | None:
    """(line number, line) of the first line of a plain or gzip file that is not UTF-8; None if all are."""
    with _open_binary(Path(path)) as handle:
        for lineno, line in enumerate(handle, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                return lineno, line.rstrip(b"\r\n")
    return None


def _check_utf8(path: Path) -> None:
    """FastaError (not_utf8) naming the first line of path that is not UTF-8 text, if any."""
    found = first_non_utf8_line(path)
    if found:
        raise not_utf8(path, *found)


def is_gzip(path: str | Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(2) == b"\x1f\x8b"


def _open_binary(path: Path):
    return gzip.open(path, "rb") if is_gzip(path) else open(path, "rb")


def validate_fasta(path: str | Path, protein: bool = False, utf8: bool = False) -> dict[str, int]:
    """Check a (plain or gzip) nucleotide FASTA in one pass; return {record name: length}.

    protein: the records are proteins (amino-acid letters, '*' and '-' allowed). utf8: every
    header must be UTF-8 text (a genome: pyfaidx reads headers as UTF-8). Errors (FastaError,
    naming file, line and record): a header that is not UTF-8 (with utf8; not_utf8), text before
    the first header, a header without a name, a repeated name, a sequence line with a non-IUPAC
    character, a record with no sequence line (also a truncated last record), an empty file.
    """
    path = Path(path)
    lengths: dict[str, int] = {}
    name: str | None = None
    header_line = 0
    n_lines = 0

    def close_record() -> None:
        if name is not None and n_lines == 0:
            where = "the last record is truncated: " if last else ""
            raise FastaError(
                f"{path}:{header_line}: {where}record {name!r} has a header but no sequence line"
            )

    last = False
    with _open_binary(path) as handle:
        for lineno, raw in enumerate(handle, start=1):
            line = raw.rstrip(b"\r\n")
            if b"\r" in line:
                raise FastaError(
                    f"{path}:{lineno}: lines end in a lone carriage return (CR, classic Mac line endings); "
                    "convert them to LF, e.g. `tr '\\r' '\\n' < in.fa > out.fa`"
                )
            if line.startswith(b">"):
                close_record()
                if utf8:
                    try:
                        line.decode("utf-8")
                    except UnicodeDecodeError:
                        raise not_utf8(path, lineno, line) from None
                fields = line[1:].split()
                if not fields:
                    raise FastaError(f"{path}:{lineno}: FASTA header without a record name")
                name = fields[0].decode("utf-8", errors="replace")
                if name in lengths:
                    raise FastaError(f"{path}:{lineno}: record name {name!r} appears twice")
                lengths[name] = 0
                header_line, n_lines = lineno, 0
                continue
            stripped = line.strip()
            if not stripped:
                continue
            if name is None:
                raise FastaError(f"{path}:{lineno}: sequence text before the first '>' header; is this a FASTA file?")
            bad = stripped.translate(None, _PROTEIN_BYTES if protein else _IUPAC_BYTES)
            if bad:
                char = chr(bad[0])
                col = stripped.index(bad[:1]) + 1
                raise FastaError(
                    f"{path}:{lineno}: record {name!r}: character {char!r} (column {col}) is not an "
                    f"{'amino-acid' if protein else 'IUPAC nucleotide'} letter; the record is garbled"
                )
            lengths[name] += len(stripped)
            n_lines += 1
    last = True
    close_record()
    if not lengths:
        raise FastaError(f"{path}: no FASTA records (empty file?)")
    return lengths


def decompress_fasta(src: str | Path, dst: str | Path) -> Path:
    """Write a gzip (or bgzip) FASTA uncompressed to dst, atomically. Returns dst."""
    from ..core.atomic import atomic_write

    src, dst = Path(src), Path(dst)

    def write(tmp: str) -> None:
        with open(tmp, "wb") as out, _open_binary(src) as inp:
            shutil.copyfileobj(inp, out, length=1 << 22)

    atomic_write(dst, write)
    return dst


def rewrap_fasta(src: str | Path, dst: str | Path, width: int = 60) -> Path:
    """Write a (plain or gzip) FASTA to dst with every sequence line `width` letters long (the last
    of a record shorter) and no blank lines, atomically; streams, holding one line at a time."""
    from ..core.atomic import atomic_write

    src, dst = Path(src), Path(dst)

    def write(tmp: str) -> None:
        with open(tmp, "wb") as out, _open_binary(src) as inp:
            pending = b""
            for raw in inp:
                line = raw.strip()
                if line.startswith(b">"):
                    if pending:
                        out.write(pending + b"\n")
                    pending = b""
                    out.write(line + b"\n")
                    continue
                pending += line
                full = len(pending) - len(pending) % width
                for i in range(0, full, width):
                    out.write(pending[i : i + width] + b"\n")
                pending = pending[full:]
            if pending:
                out.write(pending + b"\n")

    atomic_write(dst, write)
    return dst


@dataclass(frozen=True)
class FaiEntry:
    """One .fai line: record length, byte offset of its first base, bases and bytes per line."""

    name: str
    length: int
    offset: int
    line_bases: int
    line_bytes: int


def _fresh(fai: Path, path: Path) -> bool:
    return fai.is_file() and fai.stat().st_mtime >= path.stat().st_mtime


def build_fai(path: str | Path, fai: str | Path | None = None) -> Path:
    """Build the FASTA's index fai (default: path + '.fai', beside it) with pyfaidx unless it exists
    and is newer than the FASTA. Returns its path. FastaError for a compressed FASTA, lines pyfaidx
    cannot index, or a line that is not UTF-8 text (not_utf8: file and line)."""
    path = Path(path)
    fai = Path(str(path) + ".fai") if fai is None else Path(fai)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: FASTA file not found")
    if is_gzip(path):
        raise FastaError(
            f"{path}: compressed FASTA; decompress it first (gunzip -c {path.name} > {path.stem}, "
            "or mtmixg.data.fasta.decompress_fasta)"
        )
    if _fresh(fai, path):
        return fai
    import pyfaidx

    try:
        pyfaidx.Faidx(str(path), indexname=str(fai), build_index=True, rebuild=True).close()
    except pyfaidx.FastaIndexingError as err:
        fai.unlink(missing_ok=True)
        raise FastaError(
            f"{path}: cannot index the FASTA: {err} (records need equal-length lines and no blank lines "
            "inside; rewrap it, e.g. `seqkit seq -w 60` or `samtools faidx`)"
        ) from None
    except UnicodeDecodeError:  # pyfaidx decodes every line as UTF-8
        fai.unlink(missing_ok=True)
        _check_utf8(path)
        raise
    return fai


def _writable(folder: Path) -> bool:
    """Can a file be created in folder? (tried, not guessed from mode bits: root, read-only mounts)"""
    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def read_fai(fai: Path, fasta: Path) -> dict[str, FaiEntry]:
    """The entries of a .fai; a name that is not UTF-8 is reported at its FASTA header (not_utf8)."""
    entries: dict[str, FaiEntry] = {}
    with open(fai, "rb") as handle:
        for raw in handle:
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                _check_utf8(fasta)
                raise FastaError(f"{fai}: index line {raw.strip()!r} is not UTF-8 text; delete the .fai to rebuild it") from None
            cols = line.rstrip("\n").split("\t")
            if len(cols) < 5:
                raise FastaError(f"{fai}: malformed index line {line.strip()!r}; delete the .fai to rebuild it")
            entries[cols[0]] = FaiEntry(cols[0], *(int(c) for c in cols[1:5]))
    return entries


@functools.lru_cache(maxsize=4)
def _index_in_memory(path: Path, version: tuple[str, int, int]) -> dict[str, FaiEntry]:
    """The index of a FASTA whose folder cannot hold its .fai: built in a temporary folder, read,
    deleted; cached per file version (real path, size, mtime) so one run indexes it once."""
    with tempfile.TemporaryDirectory(prefix="mtmixg-fai.") as tmp:
        return read_fai(build_fai(path, Path(tmp) / (path.name + ".fai")), path)


def load_index(path: str | Path) -> dict[str, FaiEntry]:
    """The .fai entries of an uncompressed FASTA: its .fai beside it (built there when missing or
    stale), or, when its folder is not writable, an index built in a temporary folder."""
    path = Path(path)
    beside = Path(str(path) + ".fai")
    if path.is_file() and not is_gzip(path) and not _fresh(beside, path) and not _writable(path.parent):
        stat = path.stat()
        return dict(_index_in_memory(path, (str(path.resolve()), stat.st_size, stat.st_mtime_ns)))
    return read_fai(build_fai(path), path)


class FastaIndex:
    """Random access to an uncompressed FASTA by record name, through its .fai.

    Memory: reading a record holds its raw bytes plus its (L,) uint8 codes, nothing else.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.entries: dict[str, FaiEntry] = load_index(self.path)

    @property
    def names(self) -> list[str]:
        """Record names in file order."""
        return list(self.entries)

    def lengths(self) -> dict[str, int]:
        return {name: e.length for name, e in self.entries.items()}

    def __contains__(self, name: str) -> bool:
        return name in self.entries

    def read_raw(self, name: str) -> np.ndarray:
        """The letters of one record as uint8 ASCII bytes, shape (length,), line ends removed."""
        if name not in self.entries:
            raise KeyError(f"{self.path}: no record {name!r}")
        e = self.entries[name]
        if e.length == 0:
            raise FastaError(f"{self.path}: record {name!r} has a header but no sequence (truncated?)")
        full, rest = divmod(e.length, e.line_bases)
        span = full * e.line_bytes + rest
        with open(self.path, "rb") as handle:
            raw = np.fromfile(handle, dtype=np.uint8, count=span, offset=e.offset)
        if raw.size != span:
            raise FastaError(f"{self.path}: record {name!r} is shorter than its .fai says (truncated file?)")
        if e.line_bytes == e.line_bases:
            return raw
        letters = np.empty(e.length, dtype=np.uint8)
        body = raw[: full * e.line_bytes].reshape(full, e.line_bytes)
        letters[: full * e.line_bases].reshape(full, e.line_bases)[:] = body[:, : e.line_bases]
        letters[full * e.line_bases :] = raw[full * e.line_bytes :]
        return letters

    def read_letters(self, name: str) -> np.ndarray:
        """read_raw + a check that every byte is an IUPAC letter (any case).

        A byte that is no IUPAC letter (a garbled record) raises FastaError with its line number.
        """
        letters = self.read_raw(name)
        chunk = 1 << 24  # check in 16 MiB pieces: bounded temporary memory
        for lo in range(0, letters.size, chunk):
            ok = _IUPAC_OK[letters[lo : lo + chunk]]
            if not ok.all():
                pos = lo + int(np.argmin(ok))
                self._report_bad(name, pos, int(letters[pos]))
        return letters

    def read_codes(self, name: str) -> np.ndarray:
        """One record as uint8 codes, shape (length,): A,C,G,T (any case) = 0..3, other IUPAC = 4."""
        return _CODES[self.read_letters(name)]

    def _report_bad(self, name: str, pos: int, byte: int) -> None:
        e = self.entries[name]
        file_pos = e.offset + (pos // e.line_bases) * e.line_bytes + pos % e.line_bases
        with open(self.path, "rb") as handle:
            lineno = handle.read(file_pos).count(b"\n") + 1
        raise FastaError(
            f"{self.path}:{lineno}: record {name!r}: character {chr(byte)!r} is not an IUPAC nucleotide "
            "letter; the record is garbled"
        )

    def fetch(self, name: str, lo: int, hi: int) -> str:
        """Letters of [lo, hi) (0-based, half-open) of a record; for tests and small look-ups."""
        e = self.entries[name]
        if lo < 0 or hi > e.length or lo > hi:
            raise ValueError(f"{name}:{lo}-{hi} is outside the record (length {e.length})")
        return self.read_raw(name)[lo:hi].tobytes().decode("ascii")


def iter_records(path: str | Path) -> Iterator[tuple[str, str]]:
    """Stream (name, sequence) from a plain or gzip FASTA; for small files such as cDNA sets."""
    name: str | None = None
    chunks: list[bytes] = []
    with _open_binary(Path(path)) as handle:
        for raw in handle:
            if raw.startswith(b">"):
                if name is not None:
                    yield name, b"".join(chunks).decode("ascii", errors="replace")
                fields = raw[1:].split()
                name, chunks = (fields[0].decode() if fields else ""), []
            else:
                chunks.append(raw.strip())
    if name is not None:
        yield name, b"".join(chunks).decode("ascii", errors="replace")


_NOT_IUPAC = str.maketrans("", "", IUPAC + IUPAC.lower())


def read_records(path: str | Path) -> list[tuple[str, str, int]]:
    """Records of a small plain FASTA (e.g. gene windows to predict) as (id, sequence, header line
    number), checked. ValueError naming the file when it holds no records, a sequence before the
    first header, an empty record, a repeated id or a letter that is no IUPAC nucleotide code (any
    case)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such FASTA file")
    records: list[tuple[str, list[str], int]] = []
    seen: set[str] = set()
    with open(path, encoding="ascii", errors="replace") as handle:
        for lineno, line in enumerate(handle, 1):
            line = line.strip()
            if not line:
                continue
            if line.startswith(">"):
                name = line[1:].split()[0] if line[1:].split() else ""
                if not name:
                    raise ValueError(f"{path}:{lineno}: FASTA header without a name")
                if name in seen:
                    raise ValueError(f"{path}:{lineno}: record '{name}' appears twice; give every gene one record")
                seen.add(name)
                records.append((name, [], lineno))
            elif not records:
                raise ValueError(f"{path}:{lineno}: sequence before the first '>' header; is this a FASTA file?")
            else:
                bad = line.translate(_NOT_IUPAC)
                if bad:
                    raise ValueError(
                        f"{path}:{lineno}: record '{records[-1][0]}': character {bad[0]!r} (column {line.index(bad[0]) + 1}) "
                        "is not an IUPAC nucleotide letter; give DNA windows (ACGT, IUPAC codes, any case), not protein or text"
                    )
                records[-1][1].append(line)
    if not records:
        raise ValueError(f"{path}: no FASTA records; give one '>gene_id' record per gene window")
    out = []
    for name, parts, lineno in records:
        seq = "".join(parts)
        if not seq:
            raise ValueError(f"{path}:{lineno}: record '{name}' has no sequence")
        out.append((name, seq, lineno))
    return out
