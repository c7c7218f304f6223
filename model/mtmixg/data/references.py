"""Reference files of a species: fetch (download or local), verify, decompress, validate.

``fetch_reference(kind, source, sha256, output, species)`` is what the workflow's get_genome /
get_annotation / get_cdna / get_pep rules run. source is an https:// or ftp:// URL, a file:// URL
(file:///abs/path, or file://relative/path) or a plain path; plain or gzip. The result is written
decompressed through a temporary file in the output's folder and renamed into place only once it
validated (mtmixg.data.fasta for FASTA, mtmixg.data.gff for GFF3), so a bad input leaves no output behind.
A genome also gets its .fai index (output + '.fai').
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
import urllib.request
from pathlib import Path

from .fasta import FastaError, build_fai, decompress_fasta, rewrap_fasta, validate_fasta
from .gff import protein_coding_genes

KINDS: tuple[str, ...] = ("genome", "annotation", "cdna", "pep")
REMOTE_SCHEMES: tuple[str, ...] = ("http://", "https://", "ftp://")


class ReferenceError(ValueError):
    """A reference file that cannot be used; the message names species, file and what to fix."""


def local_path(source: str) -> Path | None:
    """Path of a file:// URL or plain path; None for a remote URL."""
    if source.startswith(REMOTE_SCHEMES):
        return None
    return Path(source[len("file://") :] if source.startswith("file://") else source)


def sha256sum(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def download(url: str, dest: Path, timeout: float = 60.0) -> None:
    """Download url to dest (through dest + '.part', renamed when complete)."""
    part = dest.with_name(dest.name + ".part")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(part, "wb") as out:
            shutil.copyfileobj(response, out, length=1 << 22)
        os.replace(part, dest)
    except BaseException:
        part.unlink(missing_ok=True)
        raise


def obtain(kind: str, source: str, sha256: str, tmp: Path, species: str) -> Path:
    """The file of source: downloaded into tmp (remote) or the local file, its SHA-256 checked when
    given. ReferenceError naming species/<species>/<kind> or species/<species>/sha256/<kind>."""
    path = local_path(source)
    if path is None:
        path = tmp / "download"
        print(f"{species} {kind}: downloading {source}", file=sys.stderr)
        download(source, path)
    elif not path.is_file():
        raise ReferenceError(f"species {species}: {kind} file {path} not found (config species/{species}/{kind})")
    if sha256:
        actual = sha256sum(path)
        if actual.lower() != sha256.lower():
            raise ReferenceError(
                f"species {species}: {kind} file {source}: SHA-256 mismatch: expected {sha256.lower()}, "
                f"got {actual}. The file is corrupt or changed; delete it / fix species/{species}/sha256/{kind}."
            )
        print(f"{species} {kind}: SHA-256 ok ({actual})", file=sys.stderr)
    return path


def fetch_table(source: str, sha256: str, output: str | Path, species: str) -> Path:
    """Fetch a species' tpm_table (download or local, SHA-256 checked when given) into output as
    it is (plain or gzip; rule import_tpm_table reads and checks it)."""
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=output.parent, prefix=f".{output.name}.") as tmp:
        path = obtain("tpm_table", source, sha256, Path(tmp), species)
        staged = Path(tmp) / output.name
        shutil.copyfile(path, staged)
        os.replace(staged, output)
    return output


def fetch_reference(kind: str, source: str, sha256: str, output: str | Path, species: str) -> Path:
    """Fetch one reference file of a species into output (decompressed, validated).

    kind: 'genome' | 'annotation' | 'cdna' | 'pep' (proteins). sha256: expected digest of the source file as given
    (compressed if compressed), '' to skip the check. Raises ReferenceError on a checksum
    mismatch, a missing local file, or an invalid FASTA/GFF3 (the validator's message, which
    names file and line).
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=output.parent, prefix=f".{output.name}.") as tmp:
        path = obtain(kind, source, sha256, Path(tmp), species)
        staged = Path(tmp) / output.name
        if kind == "annotation":
            genes = protein_coding_genes(path)
            decompress_fasta(path, staged)  # a plain copy of the (possibly gzip) text file
            print(f"{species} annotation: {len(genes)} protein-coding genes", file=sys.stderr)
        else:
            lengths = validate_fasta(path, protein=kind == "pep", utf8=kind == "genome")
            unit = "residues" if kind == "pep" else "bases"
            print(f"{species} {kind}: {len(lengths)} records, {sum(lengths.values()):,} {unit}", file=sys.stderr)
            decompress_fasta(path, staged)
        if kind == "genome":
            try:
                fai = build_fai(staged)
            except FastaError:  # lines of unequal length or blank lines inside: rewrap, then index
                rewrap_fasta(path, staged)
                print(f"{species} genome: {source} has lines of unequal length; rewrapped to 60 letters per line",
                      file=sys.stderr)
                fai = build_fai(staged)
            os.replace(staged, output)
            os.replace(fai, Path(str(output) + ".fai"))
        else:
            os.replace(staged, output)
    return output
