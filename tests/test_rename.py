"""Issue 20 item 3, one word one meaning: "variant" is only a VCF variant. Model architectures are
`arch` (config `architectures`), experiments `experiment` (the `{experiment}` wildcard). Files
written before the rename keep working: an old model.json (model key `variant`) loads, an old
metrics.json is summarised, and an old config key stops `snakemake -n` with one line naming the
new key."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from training_data import SPEC, tiny_model
from workflow_helpers import demo_config, run_snakemake, write_config


def test_a_model_json_from_before_the_rename_loads_with_its_architecture(tmp_path: Path) -> None:
    """A finished model whose model.json says `variant` (not `arch`) loads and predicts as saved."""
    from mtmixg.checkpoint import load_model, save_model
    from mtmixg.models.architectures import build_model
    from mtmixg.predict import predict

    cfg = tiny_model(arch="cnn")
    torch.manual_seed(0)
    model = build_model(cfg).eval()
    old = {("variant" if key == "arch" else key): value for key, value in cfg.to_dict().items()}
    path = tmp_path / "m" / "model.pt"
    save_model(path, model, {"model": old, "task": "binary", "window": SPEC.to_dict(), "fold": "chr1", "seed": 0})
    assert "variant" in json.loads(path.with_suffix(".json").read_text())["model"]
    loaded, meta = load_model(path)
    assert meta["model_config"].arch == "cnn" and meta["model_config"] == cfg
    codes = np.random.default_rng(0).integers(0, 5, (9, SPEC.length), dtype=np.uint8)
    assert np.array_equal(predict(loaded, codes, "binary"), predict(model, codes, "binary"))


def test_a_metrics_json_from_before_the_rename_gives_the_architecture(tmp_path: Path) -> None:
    """summary_folds.tsv's arch column of a sweep entry trained before the rename (its metrics.json
    says `variant`) is the architecture, not the entry's name."""
    from mtmixg.summary import fold_table

    path = tmp_path / "metrics.json"
    path.write_text(json.dumps({"variant": "cnn", "accuracy": 0.7, "auc": 0.8, "f1": 0.6, "failed": False}))
    folds = fold_table([{"experiment": "cnn_lr_low", "seed": 0, "fold": "1", "metrics": path}])
    assert list(folds["arch"]) == ["cnn"]


@pytest.mark.parametrize(
    ("change", "line"),
    [
        (lambda c: c.update(variants=c.pop("architectures")), "config key 'variants' was renamed to 'architectures'"),
        (lambda c: c["cross_species"].update(variants=c["cross_species"].pop("experiments")),
         "config key 'cross_species.variants' was renamed to 'cross_species.experiments'"),
        (lambda c: c.update(sweep=[{"name": "k16", "variant": "cnn", "model": {"kernel_size": 16}}]),
         "config key 'sweep[].variant' was renamed to 'sweep[].arch'"),
    ],
    ids=["variants", "cross_species.variants", "sweep[].variant"],
)  # fmt: skip
@pytest.mark.workflow
def test_an_old_config_key_stops_the_dry_run_naming_its_new_name(tmp_path: Path, change, line: str) -> None:
    config = demo_config()
    change(config)
    done = run_snakemake(tmp_path / "work", "-n", configfile=write_config(tmp_path / "config.yaml", config), timeout=300)
    assert done.returncode != 0, done.output[-3000:]
    assert f"{line}; rename it in your config" in done.output, done.output[-3000:]
    assert "Job stats:" not in done.output  # stopped while planning


def _second_paths() -> list[str]:
    """Imports (in the package, tests, bench and workflow scripts) that take an mtmixg class from a
    module other than the one that defines it: `file: from module import Class (defined in home)`."""
    import ast
    import importlib
    import inspect

    repo = Path(__file__).resolve().parents[1]
    found = []
    for path in sorted([*repo.glob("model/mtmixg/**/*.py"), *repo.glob("tests/*.py"), *repo.glob("bench/*.py"),
                        *repo.glob("workflow_scripts/*.py")]):
        package = ".".join(path.relative_to(repo / "model").with_suffix("").parts[:-1]) if "model" in path.parts else ""
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ImportFrom) or (node.level == 0 and not (node.module or "").startswith("mtmixg")):
                continue
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(part for part in (base, node.module or "") if part)
            try:
                source = importlib.import_module(module)
            except ImportError:
                continue  # a submodule import (from .ops import fused): not a class
            for alias in node.names:
                value = getattr(source, alias.name, None)
                if inspect.isclass(value) and value.__module__.startswith("mtmixg") and value.__module__ != module:
                    found.append(f"{path.relative_to(repo)}: from {module} import {alias.name} (defined in {value.__module__})")
    return found


def test_every_class_is_imported_from_the_module_that_defines_it() -> None:
    """One import path per class: no package __init__ or module re-exports a class for others."""
    assert _second_paths() == []


def test_variant_effect_runs_are_records_read_by_name(tmp_path: Path) -> None:
    """Rule variant_effects passes one record per model (seed, fold, model, meta), not two lists
    zipped by position: a record must carry every key, and its meta must be its model's model.json."""
    from mtmixg.variant_effects.models import run_models

    runs = [{"seed": s, "fold": f, "model": f"m/seed{s}/{f}/model.pt", "meta": f"m/seed{s}/{f}/model.json"}
            for s in (0, 1) for f in ("1", "2")]  # fmt: skip
    assert run_models(runs) == [run["model"] for run in runs]
    with pytest.raises(ValueError, match=r"run 1 .* lacks meta; each run record carries seed, fold, model, meta"):
        run_models([runs[0], {k: v for k, v in runs[1].items() if k != "meta"}])
    with pytest.raises(ValueError, match=r"m/seed1/1/model.json: not the model.json of m/seed0/1/model.pt"):
        run_models([{**runs[0], "meta": runs[2]["meta"]}])
