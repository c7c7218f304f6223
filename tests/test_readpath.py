"""The workflow's read path on real sequence: reads simulated from 200 real A. thaliana genes
(tests/data/readpath) at their real leaf TPMs go through Snakemake (sickle, kallisto, tximport
lengthScaledTPM, labels), and the gene logMaxTPM and labels come back close to the table's.
The small version of bench/bench_readpath.py (which runs the whole development set)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench" / "bench_readpath.py"
SUBSET = REPO / "tests" / "data" / "readpath"


@pytest.mark.workflow
def test_read_path_recovers_real_expression(tmp_path: Path) -> None:
    """4 runs (2 PE, 2 SE), 50,000 fragments each: Spearman of logMaxTPM >= 0.97, >= 92 % of the
    low/medium/high labels agree, p75 within 0.05 of the renormalised table's (p25 sits where a
    gene has a few reads per run at this depth: within 0.3)."""
    figures = tmp_path / "figures.json"
    cmd = [sys.executable, str(BENCH), str(SUBSET), "--work", str(tmp_path / "work"), "--runs", "4",
           "--fragments", "50000", "--json", str(figures)]
    done = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    fig = json.loads(figures.read_text())
    assert fig["genes_compared"] == fig["genes_table"] == 200, fig
    assert fig["spearman"] >= 0.97, done.stdout
    assert fig["label_agreement"] >= 0.92, done.stdout
    assert abs(fig["p75_ours"] - fig["p75_table_renormed"]) <= 0.05, done.stdout
    assert abs(fig["p25_ours"] - fig["p25_table_renormed"]) <= 0.3, done.stdout
