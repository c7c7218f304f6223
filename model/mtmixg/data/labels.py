"""Expression labels: logMaxTPM and DeepCRE's quartile classes.

    logMaxTPM = log10(max TPM over runs + 1)
    label     = -1 (low)  when logMaxTPM <= p25
                 1 (high) when logMaxTPM >= p75
                 0 (medium) otherwise

Decision (DeepCRE's): p25 and p75 are computed over ALL genes of the TPM table (every gene
tximport reports), before any restriction to protein-coding annotated genes or to genes whose
window fits on the chromosome. So the thresholds depend only on the expression data, and the
labels of a gene never change when the annotation or the window size changes. Genes that are not
in the annotation are dropped afterwards (``match_to_annotation``) with a warning.
"""

from __future__ import annotations

import gzip
import io
import re
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TextIO

import numpy as np
import pandas as pd

from ..core.atomic import atomic_write
from ..core.log import log_stderr
from .gff import read_genes

LABEL_LOW, LABEL_MEDIUM, LABEL_HIGH = -1, 0, 1
LABEL_COLUMNS: tuple[str, ...] = ("gene_id", "logMaxTPM", "label")
DEEPCRE_LOGMAX = "logMaxTPM"
"""The last column of DeepCRE's comma-separated TPM tables (log10(max TPM + 1)); not a run."""
THRESHOLD_KEYS: tuple[str, ...] = ("p25", "p75", "n_genes", "n_low", "n_medium", "n_high")


class ExpressionError(ValueError):
    """A malformed TPM table or unusable expression data; the message names the file/line/column."""


def _read_text(path: Path) -> str:
    """The text of a plain or gzip table (gzip detected by its magic bytes, whatever the name)."""
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as err:
            raise ExpressionError(f"{path}: not a readable gzip file ({err}); check the download") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ExpressionError(f"{path}: not a text table ({err.reason} at byte {err.start})") from None


def _check_layout(path: Path, text: str) -> None:
    """ExpressionError naming the line when the header or every data line ends in a tab (an empty
    extra field that would shift the columns)."""
    lines = [(i, line) for i, line in enumerate(text.splitlines(), 1) if line.strip()]
    if lines and lines[0][1].endswith("\t"):
        raise ExpressionError(f"{path}:{lines[0][0]}: the header line ends in a tab (an empty column name); remove the trailing tab")
    data = lines[1:]
    if data and all(line.endswith("\t") for _, line in data):
        raise ExpressionError(f"{path}:{data[0][0]}: every data line ends in a tab (an empty last field); remove the trailing tabs")


def _separator(text: str) -> str:
    """',' when the header line is comma-separated (no tab, a comma), else a tab."""
    header = next((line for line in text.splitlines() if line.strip()), "")
    return "," if "\t" not in header and "," in header else "\t"


def read_tpm(path: str | Path) -> pd.DataFrame:
    """A TPM table (TSV, plain or gzip: first column gene IDs, one column per run) -> float64 DataFrame
    (genes x runs).

    Index: gene IDs (named gene_id); columns: run names. Also accepts R's write.table layout, whose
    header lacks the gene column, and DeepCRE's published tables (comma-separated, a last column
    logMaxTPM, which is left out: it is computed from the runs). Errors name file, line and column: a non-numeric, missing,
    infinite or negative value; a repeated gene ID; no run columns; no genes.
    """
    path = Path(path)
    text = _read_text(path)
    _check_layout(path, text)
    sep = _separator(text)
    try:
        raw = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, skip_blank_lines=False)
    except pd.errors.ParserError as err:
        raise ExpressionError(f"{path}: not a tab-separated table: {err}") from None
    except pd.errors.EmptyDataError:
        raise ExpressionError(f"{path}: empty file; expected a TSV with gene IDs and one TPM column per run") from None
    if not isinstance(raw.index, pd.RangeIndex):  # R layout: header one field short
        raw = raw.reset_index()
    if sep == "," and raw.columns[-1] == DEEPCRE_LOGMAX:  # DeepCRE's layout: a derived column, not a run
        raw = raw.iloc[:, :-1]
    if raw.shape[1] < 2:
        raise ExpressionError(
            f"{path}: needs a gene ID column and at least one run column (tab-separated); found columns {list(raw.columns)}"
        )
    blank = (raw.astype(str).apply(lambda c: c.str.strip()) == "").all(axis=1).to_numpy()
    filled = np.flatnonzero(~blank)
    end = int(filled[-1]) + 1 if len(filled) else 0
    raw = raw.iloc[:end]  # blank lines at the end of the file are no genes
    if blank[:end].any():
        raise ExpressionError(f"{path}:{int(np.flatnonzero(blank)[0]) + 2}: blank line inside the table; remove it")
    if raw.empty:
        raise ExpressionError(f"{path}: no genes (only a header line)")
    genes = raw.iloc[:, 0].astype(str).str.strip()
    dup = genes.duplicated(keep=False)
    if dup.any():
        gene = genes[dup].iloc[0]
        lines = [str(i + 2) for i in np.flatnonzero((genes == gene).to_numpy())]
        raise ExpressionError(f"{path}: gene ID {gene!r} appears on lines {', '.join(lines)}; gene IDs must be unique")
    values = {}
    for col in raw.columns[1:]:
        text = raw[col].astype(str).str.strip()
        num = pd.to_numeric(text, errors="coerce")
        bad = num.isna() | ~np.isfinite(num.fillna(0.0))
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise ExpressionError(
                f"{path}:{i + 2}: column {col!r} (gene {genes.iloc[i]!r}): {text.iloc[i]!r} is not a finite number"
            )
        if (num < 0).any():
            i = int(np.flatnonzero((num < 0).to_numpy())[0])
            raise ExpressionError(
                f"{path}:{i + 2}: column {col!r} (gene {genes.iloc[i]!r}): negative TPM {text.iloc[i]}"
            )
        values[str(col)] = num.to_numpy(dtype=np.float64)
    table = pd.DataFrame(values, index=pd.Index(genes.to_numpy(), name="gene_id"))
    return table


def log_max_tpm(tpm: pd.DataFrame) -> pd.Series:
    """genes x runs TPM -> Series logMaxTPM = log10(max over runs + 1), indexed by gene."""
    return np.log10(tpm.max(axis=1) + 1.0).rename("logMaxTPM")


def quartile_labels(logmax: pd.Series) -> tuple[pd.Series, dict]:
    """logMaxTPM (N,) -> (labels int8 (N,) in {-1, 0, 1}, thresholds dict).

    p25/p75 are numpy's linear-interpolated percentiles over all values given; low <= p25,
    high >= p75, medium in between. thresholds: p25, p75, n_genes, n_low, n_medium, n_high.
    Raises ExpressionError when p25 == p75 (e.g. most genes unexpressed): the classes would be
    meaningless.
    """
    values = logmax.to_numpy(dtype=np.float64)
    if values.size == 0:
        raise ExpressionError("no genes to label")
    p25, p75 = (float(v) for v in np.percentile(values, [25, 75]))
    if not p25 < p75:
        raise ExpressionError(
            f"25th and 75th percentiles of logMaxTPM are equal ({p25:.4g}); most genes have the same "
            "expression (unexpressed?), so low/high classes cannot be formed. Check the runs and the cDNA."
        )
    labels = np.where(values <= p25, LABEL_LOW, np.where(values >= p75, LABEL_HIGH, LABEL_MEDIUM)).astype(np.int8)
    thresholds = {
        "p25": p25,
        "p75": p75,
        "n_genes": int(values.size),
        "n_low": int((labels == LABEL_LOW).sum()),
        "n_medium": int((labels == LABEL_MEDIUM).sum()),
        "n_high": int((labels == LABEL_HIGH).sum()),
    }
    return pd.Series(labels, index=logmax.index, name="label"), thresholds


def make_labels(tpm: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """TPM table -> (DataFrame(gene_id, logMaxTPM, label) over all its genes, thresholds)."""
    logmax = log_max_tpm(tpm)
    labels, thresholds = quartile_labels(logmax)
    table = pd.DataFrame({"gene_id": logmax.index.astype(str), "logMaxTPM": logmax.to_numpy(), "label": labels.to_numpy()})
    return table, thresholds


THRESHOLD_TOLERANCE = 0.1  # |ours - expected| above this warns (logMaxTPM units)


def compare_thresholds(thresholds: dict, expected: dict | None) -> tuple[str, bool]:
    """Our p25/p75 beside expected (published) ones -> (one log line, whether one differs by more
    than THRESHOLD_TOLERANCE). expected None/empty: (our values only, False)."""
    ours = f"p25 {thresholds['p25']:.3f}, p75 {thresholds['p75']:.3f}"
    if not expected:
        return f"thresholds: {ours} (no expected_thresholds in the config)", False
    diffs = {k: thresholds[k] - float(expected[k]) for k in ("p25", "p75")}
    far = [k for k, d in diffs.items() if abs(d) > THRESHOLD_TOLERANCE]
    line = (
        f"thresholds: ours {ours}; expected p25 {float(expected['p25']):.3f}, p75 {float(expected['p75']):.3f}"
        f" (diff {diffs['p25']:+.3f}, {diffs['p75']:+.3f})"
    )
    if far:
        line = (
            f"WARNING: {line}: {' and '.join(far)} differ by more than {THRESHOLD_TOLERANCE} from "
            "the expected values (other runs or tissue than the published ones?)"
        )
    return line, bool(far)


def save_labels(table: pd.DataFrame, thresholds: dict, labels_path: str | Path, thresholds_path: str | Path) -> None:
    """Write labels.tsv (gene_id, logMaxTPM, label) and thresholds.tsv (one row), atomically."""
    atomic_write(Path(labels_path), lambda tmp: table.loc[:, list(LABEL_COLUMNS)].to_csv(tmp, sep="\t", index=False))
    row = pd.DataFrame([{k: thresholds[k] for k in THRESHOLD_KEYS}])
    atomic_write(Path(thresholds_path), lambda tmp: row.to_csv(tmp, sep="\t", index=False))


def _normalise(gene_id: str) -> str:
    return re.sub(r"\.\d+$", "", gene_id.removeprefix("gene:"))


def match_to_annotation(
    tpm_genes: Iterable[str],
    annotated_genes: Iterable[str],
    tpm_path: str | Path = "TPM table",
    annotation_path: str | Path = "annotation",
) -> tuple[list[str], str | None]:
    """Genes of the TPM table that are in the annotation -> (matched IDs in TPM order, warning or None).

    No match at all raises ExpressionError naming both files, showing example IDs of each and, when
    it explains the mismatch, a hint (version suffix '.1' or 'gene:' prefix). A partial match
    returns a warning such as "1,234 of 30,000 TPM genes are not in the annotation; they are dropped".
    """
    tpm_list = [str(g) for g in tpm_genes]
    annotated = {str(g) for g in annotated_genes}
    matched = [g for g in tpm_list if g in annotated]
    if not matched:
        ex_tpm = ", ".join(tpm_list[:3]) or "(none)"
        ex_ann = ", ".join(sorted(annotated)[:3]) or "(none)"
        hint = ""
        norm_ann = {_normalise(g) for g in annotated}
        if any(_normalise(g) in norm_ann for g in tpm_list):
            hint = (
                " The IDs match once a version suffix ('.1') or a 'gene:' prefix is removed: the tx2gene table "
                "probably maps to transcript IDs or prefixed IDs; build it from the same Ensembl release as the GFF3."
            )
        raise ExpressionError(
            f"none of the {len(tpm_list):,} gene IDs of {tpm_path} is in {annotation_path} "
            f"({len(annotated):,} genes). TPM IDs look like: {ex_tpm}; annotation IDs look like: {ex_ann}.{hint}"
        )
    dropped = len(tpm_list) - len(matched)
    warning = None
    if dropped:
        warning = f"{dropped:,} of {len(tpm_list):,} TPM genes are not in the annotation; they are dropped"
    return matched, warning


def write_labels(
    tpm: str | Path,
    labels: str | Path,
    thresholds: str | Path,
    expected: dict | None = None,
    species: str = "",
    log: Callable[[str], None] = log_stderr,
    console: TextIO | None = None,
) -> dict:
    """TPM table -> labels.tsv and thresholds.tsv (make_labels, save_labels); returns the thresholds.

    The thresholds are logged beside expected ones (compare_thresholds); when they differ by more
    than THRESHOLD_TOLERANCE the line also goes to console (default: the process's own stderr,
    sys.__stderr__, which a workflow job does not redirect to its log), prefixed by species.
    """
    table, values = make_labels(read_tpm(tpm))
    save_labels(table, values, labels, thresholds)
    log(f"labels: {values}")
    line, far = compare_thresholds(values, expected)
    log(line)
    if far:
        print(f"{species}: {line}", file=console if console is not None else sys.__stderr__, flush=True)
    return values


def import_tpm_table(
    table: str | Path, gff: str | Path, out: str | Path, log: Callable[[str], None] = log_stderr
) -> pd.DataFrame:
    """A ready TPM table -> out, with the genes of the GFF3's annotation only (match_to_annotation);
    returns the written table."""
    tpm = read_tpm(table)
    matched, warning = match_to_annotation(tpm.index, read_genes(gff)["gene_id"], table, gff)
    log(f"{len(matched)} of {len(tpm)} genes of {table} are in the annotation")
    if warning:
        log(f"warning: {warning}")
    kept = tpm.loc[matched]
    atomic_write(Path(out), lambda tmp: kept.to_csv(tmp, sep="\t"))
    return kept
