"""The paper's species in the shipped config: each enabled species' runs have a source, and the
dry run plans every one of them (and matches the README's planned-jobs table).

config/samples.tsv gives each species' runs after a comment block "# <species>: source ...;
Layout SE|PE: <evidence>" (continued by lines starting "#   "). Nothing is downloaded.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from mtmixg.core.samples import read_sample_sheet
from workflow_helpers import REPO, job_counts, run_snakemake

SHIPPED = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
SHEET = REPO / "config" / "samples.tsv"
ENABLED = [name for name, entry in SHIPPED["species"].items() if entry.get("enabled", True)]
DISABLED = [name for name in SHIPPED["species"] if name not in ENABLED]
SERIES = re.compile(r"\b(E-MTAB-\d+|PRJ[A-Z]{2}\d+|GSE\d+|[SED]RP\d+)\b|https?://|huggingface\.co/|github")


def comment_blocks(path: Path) -> dict[str, str]:
    """'# <species>: ...' comment blocks of a sample sheet (with their '#   ' continuations)."""
    blocks: dict[str, str] = {}
    current = None
    for line in path.read_text().splitlines():
        head = re.match(r"^# (\w+): (.*)$", line)
        if head:
            current = head[1]
            blocks[current] = head[2]
        elif current and line.startswith("#   "):
            blocks[current] += " " + line[4:]
        else:
            current = None
    return blocks


def sheet_rows() -> dict[str, list[tuple[str, str]]]:
    """The shipped sheet read by the workflow's own reader -> {species: [(run, layout), ...]}."""
    sheet = read_sample_sheet(SHEET, list(SHIPPED["species"]), ENABLED)
    rows: dict[str, list[tuple[str, str]]] = {}
    for row in sheet.itertuples():
        rows.setdefault(row.species, []).append((row.run, row.layout))
    return rows


def test_every_enabled_species_has_runs_after_a_source_and_layout_comment() -> None:
    rows, blocks = sheet_rows(), comment_blocks(SHEET)
    for name in ENABLED:
        assert rows.get(name), f"{name} is enabled but has no run in {SHEET}"
        assert name in blocks, f"{name}: no '# {name}: source ...' comment in {SHEET}"
        text = blocks[name]
        assert "source" in text and SERIES.search(text), f"{name}: the comment names no source: {text}"
        stated = re.findall(r"Layout (SE|PE)\b", text)
        assert stated, f"{name}: the comment states no layout and its evidence: {text}"
        assert {layout for _, layout in rows[name]} == set(stated), (name, stated, rows[name])
    for name in DISABLED:  # a disabled species says why, in the sheet and in the config
        assert name not in rows and name in blocks, name
    config_text = (REPO / "config" / "config.yaml").read_text()
    for name in DISABLED:
        entry = config_text.split(f"  {name}:\n", 1)[1].split("enabled: false", 1)[0]
        assert "# disabled: " in entry, f"config/config.yaml: {name} is disabled without a reason line"


def readme_job_table() -> dict[str, int]:
    """README, 'Planned jobs of the shipped config' table -> {rule: jobs, 'total': n}."""
    readme = (REPO / "README.md").read_text()
    table = readme.split("Planned jobs of the shipped config", 1)[1].split("\n\n", 2)[1]
    jobs: dict[str, int] = {}
    for line in table.splitlines()[2:]:
        cells = [c.strip().strip("*") for c in line.strip().strip("|").split("|")]
        if cells[0] == "total":
            jobs["total"] = int(cells[-1])
            continue
        for names, counts in zip(cells[0::2], cells[1::2]):
            if not counts:
                continue
            names = re.sub(r"\s*\([^)]*\)", "", names)
            for rule, count in zip(names.split(" / "), counts.split(" / "), strict=True):
                jobs[rule.strip()] = int(count)
    return jobs


@pytest.mark.workflow  # a Snakemake dry run of the shipped config
def test_the_dry_run_plans_every_enabled_species_as_the_readme_says(tmp_path: Path) -> None:
    done = run_snakemake(tmp_path, "-n", cores=8, timeout=300)
    assert done.returncode == 0, done.output[-4000:]
    rows, blocks = sheet_rows(), comment_blocks(SHEET)
    assert sorted(ENABLED) == sorted(name for name in blocks if rows.get(name))
    counts = job_counts(done.output)
    for name in ENABLED:
        for run, _ in rows[name]:
            assert f"resources/sra/{run}/{run}.sra" in done.output, (name, run)
        assert f"results/{name}/windows/windows.npy" in done.output, name
    layouts = [layout for name in ENABLED for _, layout in rows[name]]
    assert counts["prefetch"] == counts["kallisto_quant"] == len(layouts)
    assert counts.get("fasterq_dump_pe", 0) == layouts.count("PE")
    assert counts.get("fasterq_dump_se", 0) == layouts.count("SE")
    assert counts["labels"] == counts["windows"] == counts["summary"] == len(ENABLED)
    seeds = len(SHIPPED["seeds"])
    pairs = len(ENABLED) * (len(ENABLED) - 1)
    assert counts.get("cross_species_predict", 0) == pairs * seeds * len(SHIPPED["cross_species"]["experiments"])
    left_out = [line for line in done.output.splitlines() if "left out of this run" in line]
    assert len(left_out) == (1 if DISABLED else 0) and all(name in left_out[0] for name in DISABLED)
    for name in DISABLED:
        assert f"results/{name}" not in done.output and f"resources/{name}" not in done.output
    table = readme_job_table()
    assert table.pop("total") == sum(counts.values()), "README: the planned-jobs total is not the dry run's"
    assert table == counts, "README: the planned-jobs table differs from the dry run's job stats"
