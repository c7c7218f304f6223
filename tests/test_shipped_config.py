"""The shipped config (config/config.yaml + config/samples.tsv) plans and lints with no flags.

Only A. thaliana is enabled: its 14 E-MTAB-7978 leaf runs are prefetched and quantified, the sweep
runs for it alone, and tomato, sorghum and maize (enabled: false) get no job and one line that
says so. Nothing is downloaded: these are dry runs.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from workflow_helpers import REPO, job_counts, run_snakemake, write_config

pytestmark = pytest.mark.workflow  # Snakemake dry runs and --lint

SHIPPED = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
LEAF_RUNS = ["ERR3333392", "ERR3333393", *(f"ERR33334{n}" for n in range(13, 21)), *(f"ERR33334{n}" for n in range(22, 26))]
DISABLED = ["solanum_lycopersicum", "sorghum_bicolor", "zea_mays"]


def test_shipped_config_plans_the_enabled_species_only(tmp_path: Path) -> None:
    done = run_snakemake(tmp_path, "-n", cores=8, timeout=300)
    assert done.returncode == 0, done.output[-4000:]
    counts = job_counts(done.output)
    folds = len(SHIPPED["species"]["arabidopsis_thaliana"]["chromosomes"])
    experiments = len(SHIPPED["architectures"]) + len(SHIPPED["sweep"])  # the sweep: A. thaliana only
    assert counts["train"] == experiments * len(SHIPPED["seeds"]) * folds
    assert counts["prefetch"] == counts["fasterq_dump_pe"] == counts["kallisto_quant"] == 14
    assert counts["windows"] == counts["labels"] == counts["plot_sweep"] == 1
    assert not any(rule.startswith("cross") for rule in counts)  # one enabled species: no pairs
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
    (tmp_path / "tomato_tpm.tsv").write_text("gene_id\trun1\nSolyc01g005000\t1\n")
    config["species"]["solanum_lycopersicum"].update(enabled=True, tpm_table=str(tmp_path / "tomato_tpm.tsv"))
    done = run_snakemake(tmp_path / "work", "-n", configfile=write_config(tmp_path / "c.yaml", config), timeout=300)
    assert done.returncode == 0, done.output[-4000:]
    counts = job_counts(done.output)
    seeds, tomato_folds = len(config["seeds"]), len(config["species"]["solanum_lycopersicum"]["chromosomes"])
    at_folds = len(config["species"]["arabidopsis_thaliana"]["chromosomes"])
    archs, sweep = len(config["architectures"]), len(config["sweep"])
    # leave-one-chromosome-out: the sweep on A. thaliana only; plus one all-chromosome model per
    # cross-species experiment, seed and enabled species
    expected = (archs + sweep) * seeds * at_folds + archs * seeds * tomato_folds + 2 * seeds
    assert counts["train"] == expected
    assert counts["cross_species_predict"] == 2 * seeds  # A. thaliana <-> tomato only
    assert counts["plot_sweep"] == 1 and counts["summary"] == 2
    left_out = [line for line in done.output.splitlines() if "left out of this run" in line]
    assert len(left_out) == 1 and "sorghum_bicolor, zea_mays" in left_out[0] and "solanum" not in left_out[0]
