"""mtmixg.core.samples.read_sample_sheet: every check names the sheet and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from mtmixg.core.samples import SampleSheetError, read_sample_sheet

HEADER = "species\tsample\tlayout\trun\tfq1\tfq2\n"


def sheet(tmp_path: Path, *rows: str, header: str = HEADER, bom: bool = False) -> Path:
    path = tmp_path / "samples.tsv"
    path.write_text(("\ufeff" if bom else "") + "# a comment\n" + header + "".join(r + "\n" for r in rows),
                    encoding="utf-8")
    return path


def read(path: Path | None, reads_species: tuple[str, ...] = ("ath",)):
    return read_sample_sheet(path, configured_species=["ath", "sly"], reads_species=list(reads_species))


def test_a_good_sheet_is_read_with_optional_columns_filled(tmp_path: Path) -> None:
    samples = read(sheet(tmp_path, "ath\tleaf1\tPE\tERR3333392", "ath\tleaf2\tSE\t\tr.fq.gz", bom=True))
    assert list(samples.index) == ["leaf1", "leaf2"]
    assert samples.loc["leaf1", "run"] == "ERR3333392" and samples.loc["leaf1", "fq1"] is None
    assert samples.loc["leaf2", "fq1"] == "r.fq.gz" and samples.loc["leaf2", "sra_file"] is None
    assert list(samples["line"]) == [3, 4]  # the comment and the header are lines 1 and 2


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("ath\tleaf 1\tPE\tERR1", r"line 3: sample name 'leaf 1' is not allowed"),
        ("tomato\tleaf1\tPE\tERR1", r"line 3: species 'tomato' of sample 'leaf1' is not in the config's species"),
        ("ath\tleaf1\tpaired\tERR1", r"line 3: layout of sample 'leaf1' must be SE or PE"),
        ("ath\tleaf1\tPE", r"line 3 \(sample leaf1\): give the reads"),
        ("ath\tleaf1\tPE\tREPLACE_ME", r"run 'REPLACE_ME' is not an SRA run accession"),
        ("ath\tleaf1\tPE\t\ta.fq.gz", r"layout PE needs fq2"),
        ("ath\tleaf1\tSE\t\ta.fq.gz\tb.fq.gz", r"layout SE but fq2 is given"),
        ("ath\tleaf1\tPE\tERR1\ta\tb\textra", r":3: 7 tab-separated fields but the header has 6"),
    ],
)
def test_bad_rows_are_refused_naming_the_line(tmp_path: Path, row: str, message: str) -> None:
    path = sheet(tmp_path, row)
    with pytest.raises(SampleSheetError, match=message) as err:
        read(path)
    assert str(path) in str(err.value)


def test_duplicate_samples_name_both_lines(tmp_path: Path) -> None:
    with pytest.raises(SampleSheetError, match=r"duplicate sample name\(s\): 'leaf1' \(lines 3, 4\)"):
        read(sheet(tmp_path, "ath\tleaf1\tPE\tERR1", "ath\tleaf1\tPE\tERR2"))


def test_missing_columns_and_missing_sheet(tmp_path: Path) -> None:
    with pytest.raises(SampleSheetError, match=r"header lacks column\(s\) layout"):
        read(sheet(tmp_path, "ath\tleaf1", header="species\tsample\n"))
    with pytest.raises(SampleSheetError, match=r"config key 'samples' is missing: species ath"):
        read(None)
    with pytest.raises(SampleSheetError, match=r"not found \(config key 'samples'\)"):
        read(tmp_path / "absent.tsv")
    # species that all take a TPM table need no sheet
    assert read(None, reads_species=()).empty
