"""TPM table reading, logMaxTPM, quartile labels and matching TPM genes to the annotation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mtmixg.data.labels import (
    ExpressionError,
    compare_thresholds,
    log_max_tpm,
    make_labels,
    match_to_annotation,
    quartile_labels,
    read_tpm,
    save_labels,
)


def write(tmp_path: Path, text: str, name: str = "tpm.tsv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_read_tpm_and_log_max(tmp_path: Path) -> None:
    tpm = read_tpm(write(tmp_path, "gene_id\tSRR1\tSRR2\nG1\t0\t9\nG2\t99\t3.5\nG3\t0\t0\n"))
    assert tpm.index.tolist() == ["G1", "G2", "G3"] and tpm.columns.tolist() == ["SRR1", "SRR2"]
    np.testing.assert_allclose(log_max_tpm(tpm).to_numpy(), [1.0, 2.0, 0.0])


def test_read_tpm_r_layout(tmp_path: Path) -> None:
    tpm = read_tpm(write(tmp_path, "SRR1\tSRR2\nG1\t1\t2\nG2\t3\t4\n"))
    assert tpm.index.tolist() == ["G1", "G2"] and tpm.loc["G2", "SRR2"] == 4


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("gene_id\tA\tB\nG1\t1\t2\nG2\t1\tx7\n", r"tpm\.tsv:3: column 'B' \(gene 'G2'\): 'x7' is not a finite number"),
        ("gene_id\tA\tB\nG1\t1\t2\nG2\t\t7\n", r"tpm\.tsv:3: column 'A' \(gene 'G2'\): '' is not a finite number"),
        ("gene_id\tA\nG1\t1\nG2\t-0.5\n", r"tpm\.tsv:3: column 'A' \(gene 'G2'\): negative TPM -0.5"),
        ("gene_id\tA\nG1\t1\nG2\t2\nG1\t3\n", r"tpm\.tsv: gene ID 'G1' appears on lines 2, 4"),
        ("gene_id\tA\nG1\tinf\n", r"tpm\.tsv:2: column 'A' \(gene 'G1'\): 'inf' is not a finite number"),
        ("gene_id\nG1\n", r"tpm\.tsv: needs a gene ID column and at least one run column"),
        ("", r"tpm\.tsv: empty file"),
    ],
)
def test_read_tpm_errors(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ExpressionError, match=message):
        read_tpm(write(tmp_path, text))


def test_quartile_labels_known_values() -> None:
    logmax = pd.Series([0.0, 1.0, 2.0, 3.0, 4.0], index=list("abcde"))
    labels, thresholds = quartile_labels(logmax)
    assert labels.tolist() == [-1, -1, 0, 1, 1]
    assert thresholds == {"p25": 1.0, "p75": 3.0, "n_genes": 5, "n_low": 2, "n_medium": 1, "n_high": 2}
    # interpolated percentiles: 8 values 1..8 -> p25 = 2.75, p75 = 6.25
    labels8, t8 = quartile_labels(pd.Series(np.arange(1.0, 9.0)))
    assert (t8["p25"], t8["p75"]) == (2.75, 6.25)
    assert labels8.tolist() == [-1, -1, 0, 0, 0, 0, 1, 1]


def test_quartile_labels_degenerate() -> None:
    with pytest.raises(ExpressionError, match="percentiles of logMaxTPM are equal"):
        quartile_labels(pd.Series([0.0] * 7 + [2.0]))


def test_make_and_save_labels(tmp_path: Path) -> None:
    tpm = pd.DataFrame({"r1": [0.0, 9.0, 99.0, 999.0], "r2": [0.0, 0.0, 0.0, 9999.0]}, index=["A", "B", "C", "D"])
    table, thresholds = make_labels(tpm)
    assert table.columns.tolist() == ["gene_id", "logMaxTPM", "label"]
    assert table["label"].tolist() == [-1, 0, 0, 1]
    np.testing.assert_allclose(table["logMaxTPM"], [0, 1, 2, 4])
    save_labels(table, thresholds, tmp_path / "out" / "labels.tsv", tmp_path / "out" / "thresholds.tsv")
    back = pd.read_csv(tmp_path / "out" / "labels.tsv", sep="\t")
    assert back["label"].tolist() == [-1, 0, 0, 1]
    thr = pd.read_csv(tmp_path / "out" / "thresholds.tsv", sep="\t")
    assert thr.columns.tolist() == ["p25", "p75", "n_genes", "n_low", "n_medium", "n_high"]
    assert thr.loc[0, "n_genes"] == 4 and thr.loc[0, "p25"] == pytest.approx(0.75)
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]


def test_match_zero_with_version_hint() -> None:
    with pytest.raises(ExpressionError) as err:
        match_to_annotation(["AT1G01010.1", "AT1G01020.1"], ["AT1G01010", "AT1G01020"], "tpm.tsv", "genes.gff3")
    message = str(err.value)
    assert "none of the 2 gene IDs of tpm.tsv is in genes.gff3" in message
    assert "AT1G01010.1" in message and "AT1G01010," in message
    assert "version suffix" in message


def test_match_zero_without_hint() -> None:
    with pytest.raises(ExpressionError) as err:
        match_to_annotation(["Solyc01g005000"], ["AT1G01010"], "tpm.tsv", "genes.gff3")
    assert "Solyc01g005000" in str(err.value) and "version suffix" not in str(err.value)


def test_match_partial_warning() -> None:
    tpm_genes = [f"G{i}" for i in range(30_000)]
    annotated = [f"G{i}" for i in range(1_234, 40_000)]
    matched, warning = match_to_annotation(tpm_genes, annotated)
    assert warning == "1,234 of 30,000 TPM genes are not in the annotation; they are dropped"
    assert matched == tpm_genes[1_234:]
    assert match_to_annotation(["A", "B"], ["B", "A", "C"]) == (["A", "B"], None)


def test_compare_thresholds_logs_both_and_warns_beyond_tolerance() -> None:
    ours = {"p25": 0.25, "p75": 1.60}
    line, far = compare_thresholds(ours, {"p25": 0.199, "p75": 1.621})
    assert not far and line == "thresholds: ours p25 0.250, p75 1.600; expected p25 0.199, p75 1.621 (diff +0.051, -0.021)"
    line, far = compare_thresholds(ours, {"p25": 0.0, "p75": 1.621})  # p25 0.25 off
    assert far and line.startswith("WARNING: ") and "p25 differ by more than 0.1" in line and "p75 differ" not in line
    line, far = compare_thresholds(ours, None)
    assert not far and "p25 0.250, p75 1.600" in line


def test_write_labels_warns_on_the_console_when_thresholds_differ(tmp_path: Path) -> None:
    import io

    from mtmixg.data.labels import write_labels

    tpm = write(tmp_path, "gene_id\tSRR1\n" + "".join(f"G{i}\t{i * i}\n" for i in range(20)))
    console, lines = io.StringIO(), []
    values = write_labels(tpm, tmp_path / "labels.tsv", tmp_path / "thresholds.tsv", None, "sp", log=lines.append,
                          console=console)
    assert values["n_genes"] == 20 and console.getvalue() == ""
    assert pd.read_csv(tmp_path / "labels.tsv", sep="\t")["label"].value_counts().to_dict() == {-1: 5, 0: 10, 1: 5}
    assert lines[-1].startswith("thresholds: p25")
    write_labels(tpm, tmp_path / "labels.tsv", tmp_path / "thresholds.tsv", {"p25": 0.0, "p75": 9.0}, "sp",
                 log=lines.append, console=console)
    assert console.getvalue().startswith("sp: WARNING: thresholds: ours")


def test_import_tpm_table_keeps_annotated_genes(tmp_path: Path) -> None:
    from mtmixg.data.labels import import_tpm_table

    gff = write(tmp_path, "1\tt\tgene\t1\t9\t.\t+\t.\tID=gene:G1;biotype=protein_coding\n"
                          "1\tt\tgene\t20\t29\t.\t+\t.\tID=gene:G3;biotype=lncRNA\n", "a.gff3")
    table = write(tmp_path, "gene_id\tSRR1\nG1\t1\nG2\t2\nG3\t3\n")
    lines = []
    kept = import_tpm_table(table, gff, tmp_path / "out.tsv", log=lines.append)
    assert kept.index.tolist() == ["G1", "G3"]
    assert read_tpm(tmp_path / "out.tsv").index.tolist() == ["G1", "G3"]
    assert lines[0] == f"2 of 3 genes of {table} are in the annotation" and lines[1].startswith("warning: ")
