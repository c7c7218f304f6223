"""bench/gpu_check.sh --cpu-smoke runs to the end and prints its table (the GPU check's code paths
on the CPU at tiny sizes, so the script a GPU session runs once is known to finish)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_cpu_smoke_prints_the_table() -> None:
    env = {**os.environ, "PYTHON": sys.executable}
    done = subprocess.run(
        ["bash", str(REPO / "bench/gpu_check.sh"), "--cpu-smoke", "--skip-tests", "--archs", "cnn", "mtmixg"],
        capture_output=True, text=True, env=env, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    table = done.stdout
    assert "## GPU check: CPU (smoke run)" in table and "| check | setting | result |" in table, table
    for arch in ("cnn", "mtmixg"):
        rate = re.search(rf"^\| train step {arch} \| L 3020, batch 2, AMP off \| ([0-9.,]+) seq/s \|$", table, re.M)
        assert rate and float(rate[1].replace(",", "")) > 0, table
    epoch = re.search(r"^\| one epoch mtmixg \| 60 windows \((\d+) train\), batch 2, cpu \| .* kernel path (\w+) \|$", table, re.M)
    assert epoch and int(epoch[1]) > 0 and epoch[2] in ("numba", "pure"), table
