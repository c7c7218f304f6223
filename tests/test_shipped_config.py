"""The shipped config (config/config.yaml + config/samples.tsv) plans and lints with no flags.

A. thaliana, tomato and maize are enabled: their leaf runs are prefetched and quantified, the sweep
runs for A. thaliana alone, cross-species pairs every enabled species, and sorghum (enabled: false)
gets no job and one line that says so. Nothing is downloaded: these are dry runs.
tests/test_shipped_species.py checks each species' runs, their sources and the README's job table.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from workflow_helpers import REPO, job_counts, run_snakemake, write_config

pytestmark = pytest.mark.workflow  # Snakemake dry runs and --lint

SHIPPED = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
LEAF_RUNS = ["ERR3333392", "ERR3333393", *(f"ERR33334{n}" for n in range(13, 21)), *(f"ERR33334{n}" for n in range(22, 26))]
LEAF_RUNS += ["SRR404309", "SRR404310", "ERR2096663", "ERR2096664", "ERR2096665"]  # tomato (SE), maize (PE)
ENABLED = ["arabidopsis_thaliana", "solanum_lycopersicum", "zea_mays"]
DISABLED = ["sorghum_bicolor"]


def test_shipped_config_plans_the_enabled_species_only(tmp_path: Path) -> None:
    done = run_snakemake(tmp_path, "-n", cores=8, timeout=300)
    assert done.returncode == 0, done.output[-4000:]
    counts = job_counts(done.output)
    species, seeds = SHIPPED["species"], len(SHIPPED["seeds"])
    folds = sum(len(species[name]["chromosomes"]) for name in ENABLED)
    sweep = len(SHIPPED["sweep"]) * seeds * len(species["arabidopsis_thaliana"]["chromosomes"])  # A. thaliana only
    all_chromosome = len(SHIPPED["cross_species"]["experiments"]) * seeds * len(ENABLED)
    assert counts["train"] == len(SHIPPED["architectures"]) * seeds * folds + sweep + all_chromosome
    assert counts["prefetch"] == counts["kallisto_quant"] == len(LEAF_RUNS)
    assert counts["fasterq_dump_pe"] == 17 and counts["fasterq_dump_se"] == 2
    assert counts["windows"] == counts["labels"] == 3 and counts["plot_sweep"] == 1
    assert counts["cross_species_predict"] == 3 * 2 * seeds and counts["cross_species_heatmap"] == 1
    for run in LEAF_RUNS:
        assert f"resources/sra/{run}/{run}.sra" in done.output
    left_out = [line for line in done.output.splitlines() if "left out of this run" in line]
    assert len(left_out) == 1 and all(name in left_out[0] for name in DISABLED), left_out
    assert "enabled: false" in left_out[0]
    for name in DISABLED:  # no job, no path of a disabled species
        assert f"results/{name}" not in done.output and f"resources/{name}" not in done.output
    assert "REPLACE_ME" not in done.output


def test_shipped_config_lints(tmp_path: Path) -> None:
    done = run_snakemake(tmp_path, "--lint", timeout=300)
    assert done.returncode == 0, done.output[-4000:]


def test_enabling_a_species_adds_it_to_cross_species_but_not_to_the_sweep(tmp_path: Path) -> None:
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config["samples"] = str(REPO / "config" / "samples.tsv")
    for name in ("solanum_lycopersicum", "zea_mays"):  # A. thaliana and sorghum only
        config["species"][name]["enabled"] = False
    (tmp_path / "sorghum_tpm.tsv").write_text("gene_id\trun1\nSORBI_3001G000100\t1\n")
    config["species"]["sorghum_bicolor"].update(enabled=True, tpm_table=str(tmp_path / "sorghum_tpm.tsv"))
    done = run_snakemake(tmp_path / "work", "-n", configfile=write_config(tmp_path / "c.yaml", config), timeout=300)
    assert done.returncode == 0, done.output[-4000:]
    counts = job_counts(done.output)
    seeds, sorghum_folds = len(config["seeds"]), len(config["species"]["sorghum_bicolor"]["chromosomes"])
    at_folds = len(config["species"]["arabidopsis_thaliana"]["chromosomes"])
    archs, sweep = len(config["architectures"]), len(config["sweep"])
    # leave-one-chromosome-out: the sweep on A. thaliana only; plus one all-chromosome model per
    # cross-species experiment, seed and enabled species
    expected = (archs + sweep) * seeds * at_folds + archs * seeds * sorghum_folds + 2 * seeds
    assert counts["train"] == expected
    assert counts["cross_species_predict"] == 2 * seeds  # A. thaliana <-> sorghum only
    assert counts["plot_sweep"] == 1 and counts["summary"] == 2
    left_out = [line for line in done.output.splitlines() if "left out of this run" in line]
    assert len(left_out) == 1 and "solanum_lycopersicum, zea_mays" in left_out[0] and "sorghum" not in left_out[0]
