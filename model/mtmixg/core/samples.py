"""The sample sheet: one row per sequencing run of a species, read and checked line by line."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd

from .names import name_problem

SRA_RUN = re.compile(r"^[SED]RR[0-9]+$")
"""An SRA run accession the workflow can download."""
READ_COLUMNS: tuple[str, ...] = ("run", "fq1", "fq2", "sra_file", "fragment_length_mean", "fragment_length_sd")
"""Optional columns; absent ones are added as None."""
SOURCE_COLUMNS: tuple[str, ...] = ("fq1", "fq2", "sra_file", "run")
"""Columns naming a run's reads: no two samples may share a value of them."""


class SampleSheetError(ValueError):
    """A sample sheet the workflow cannot use; the message names the sheet and line."""


def read_sample_sheet(
    path: Path | None, configured_species: list[str], reads_species: list[str]
) -> pd.DataFrame:
    """The sample sheet (TSV, '#' comments) -> DataFrame of str (None where empty).

    Checks, each naming the sheet and line: sample names, run accessions and .sra file names
    (mtmixg.core.names.name_problem), unique samples, species known to the config, a source of
    reads per row, no FASTQ, .sra file or run under two samples.
    """
    if path is None and reads_species:
        raise SampleSheetError(
            f"config key 'samples' is missing: species {', '.join(reads_species)} have no "
            "tpm_table, so their expression comes from the runs of a sample sheet"
        )
    if path is not None and not Path(path).is_file() and reads_species:
        raise SampleSheetError(f"sample sheet {path} not found (config key 'samples')")
    header, rows, lines = None, [], []
    # utf-8-sig: a byte-order mark (spreadsheet exports) is not part of the first column name
    exists = path is not None and Path(path).is_file()
    text = Path(path).read_text(encoding="utf-8-sig") if exists else ""
    for lineno, line in enumerate(text.splitlines(keepends=True), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = [f.strip() for f in line.rstrip("\r\n").split("\t")]
        if header is None:
            header = fields
            continue
        if len(fields) > len(header):
            raise SampleSheetError(
                f"{path}:{lineno}: {len(fields)} tab-separated fields but the header has "
                f"{len(header)} ({', '.join(header)})"
            )
        fields += [""] * (len(header) - len(fields))
        rows.append([f or None for f in fields])
        lines.append(lineno)
    if header is None:
        header = ["species", "sample", "layout"]
    missing = [c for c in ("species", "sample", "layout") if c not in header]
    if missing:
        raise SampleSheetError(
            f"{path}: the header lacks column(s) {', '.join(missing)}; "
            "see config/schemas/samples.schema.yaml"
        )
    sheet = pd.DataFrame(rows, columns=header, dtype=object)
    sheet["line"] = lines
    for row in sheet.itertuples():
        where = f"sample sheet {path}, line {row.line}"
        if row.sample is None or name_problem(row.sample):
            raise SampleSheetError(
                f"{where}: sample name {row.sample!r} is not allowed: {name_problem(row.sample or '')}"
            )
        if row.species not in configured_species:
            raise SampleSheetError(
                f"{where}: species {row.species!r} of sample {row.sample!r} is not in the config's "
                f"species ({', '.join(configured_species)})"
            )
        if row.layout not in ("SE", "PE"):
            raise SampleSheetError(
                f"{where}: layout of sample {row.sample!r} must be SE or PE, got {row.layout!r}"
            )
    duplicated = sheet[sheet["sample"].duplicated(keep=False)]
    if not duplicated.empty:
        names = ", ".join(
            f"{name!r} (lines {', '.join(map(str, group['line']))})"
            for name, group in duplicated.groupby("sample")
        )
        raise SampleSheetError(f"sample sheet {path}: duplicate sample name(s): {names}")
    for column in READ_COLUMNS:
        if column not in sheet.columns:
            sheet[column] = None
    for row in sheet.itertuples():
        where = f"sample sheet {path}, line {row.line} (sample {row.sample})"
        if row.run is not None and name_problem(row.run):
            raise SampleSheetError(f"{where}: run {row.run!r} is not an SRA accession: {name_problem(row.run)}")
        if row.sra_file is not None and name_problem(Path(row.sra_file).name):
            raise SampleSheetError(
                f"{where}: sra_file {row.sra_file!r}: the file name is not allowed: "
                f"{name_problem(Path(row.sra_file).name)} (rename the file)"
            )
        if row.fq1 is None and row.sra_file is None and row.run is None:
            raise SampleSheetError(
                f"{where}: give the reads: fq1 (and fq2), sra_file or run"
            )
        if row.fq1 is None and row.sra_file is None and not SRA_RUN.match(row.run):
            raise SampleSheetError(
                f"{where}: run {row.run!r} is not an SRA run accession (SRR, ERR or DRR and "
                "digits) to download; put a real run there (REPLACE_ME rows are placeholders), "
                "or give local reads with fq1/fq2 or sra_file"
            )
        if row.fq1 is not None and row.layout == "PE" and row.fq2 is None:
            raise SampleSheetError(f"{where}: layout PE needs fq2 besides fq1")
        if row.fq2 is not None and row.layout == "SE":
            raise SampleSheetError(f"{where}: layout SE but fq2 is given")
    check_shared_sources(sheet, path)
    return sheet.set_index("sample", drop=False)


def check_shared_sources(sheet: pd.DataFrame, path: Path | None) -> None:
    """SampleSheetError naming both lines when two samples (or fq1 and fq2 of one) give the same
    FASTQ or .sra file, or two samples the same run: one run counted twice weighs twice in every
    gene's expression."""
    seen: dict[tuple[str, str], tuple[int, str, str]] = {}
    for row in sheet.itertuples():
        for column in SOURCE_COLUMNS:
            value = getattr(row, column)
            if value is None:
                continue
            kind = "run" if column == "run" else "file"
            key = (kind, value if kind == "run" else os.path.normpath(value))
            if key in seen:
                line, sample, first = seen[key]
                lines = f"line {line}" if line == row.line else f"lines {line} and {row.line}"
                raise SampleSheetError(
                    f"sample sheet {path}, {lines}: {first} of sample {sample!r} and {column} of sample "
                    f"{row.sample!r} are the same {kind} {value!r}; give each run once"
                )
            seen[key] = (row.line, row.sample, column)
