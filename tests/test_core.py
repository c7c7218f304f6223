"""The torch-free core (and the data half): importing it, and planning the demo and the shipped
config, never import torch; the config schema holds the architecture list once, and it is the core's."""

from __future__ import annotations

import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import mtmixg.core
import mtmixg.data
from mtmixg.core.names import ARCHITECTURES

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "config" / "schemas" / "training.schema.yaml"

# a meta-path finder that refuses torch: any import of it fails loudly instead of going unnoticed
NO_TORCH = """
import sys

class NoTorch:
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ImportError(f"{name} imported where torch must not be")

sys.meta_path.insert(0, NoTorch())
"""


def run_without_torch(code: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {"PYTHONPATH": str(ROOT / "model"), "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-c", NO_TORCH + code], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_the_blocker_does_block_torch(tmp_path: Path) -> None:
    done = run_without_torch("import mtmixg.fit", tmp_path)
    assert done.returncode != 0 and "torch imported where torch must not be" in done.stderr


def test_importing_every_core_and_data_module_does_not_import_torch(tmp_path: Path) -> None:
    names = [m.name for m in pkgutil.iter_modules(mtmixg.core.__path__, "mtmixg.core.")]
    assert {"mtmixg.core.experiments", "mtmixg.core.samples", "mtmixg.core.atomic"} <= set(names)
    names += [m.name for m in pkgutil.iter_modules(mtmixg.data.__path__, "mtmixg.data.")]
    assert {"mtmixg.data.windows", "mtmixg.data.labels", "mtmixg.data.gff"} <= set(names)
    done = run_without_torch("".join(f"import {n}\n" for n in names), tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.mark.workflow  # runs Snakemake
@pytest.mark.parametrize(
    ("config", "training_jobs"),
    [("config/demo/config.yaml", r"^train\s+12$"), ("config/config.yaml", r"^train\s+1110$")],
)
def test_snakemake_plans_without_torch(tmp_path: Path, config: str, training_jobs: str) -> None:
    code = f"""
from snakemake.cli import main
sys.argv = ["snakemake", "-s", {str(ROOT / "Snakefile")!r}, "-d", {str(tmp_path)!r}, "-n", "--cores", "1",
            "--configfile", {str(ROOT / config)!r}]
main()
"""
    done = run_without_torch(code, tmp_path)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    assert re.search(training_jobs, done.stdout, re.M), done.stdout[-2000:]


def schema_arch_enums(node: object) -> list[list[str]]:
    """Every enum in the schema that lists a model architecture."""
    found = []
    if isinstance(node, dict):
        if isinstance(node.get("enum"), list) and "mtmixg" in node["enum"]:
            found.append(node["enum"])
        for value in node.values():
            found += schema_arch_enums(value)
    elif isinstance(node, list):
        for value in node:
            found += schema_arch_enums(value)
    return found


def test_schema_holds_the_architecture_list_once_and_it_is_the_cores() -> None:
    schema = yaml.safe_load(SCHEMA.read_text())
    assert schema_arch_enums(schema) == [list(ARCHITECTURES)]
    assert schema["$defs"]["arch"]["enum"] == list(ARCHITECTURES)
