"""Experiment resolution: variant names, sweep overrides, GPU settings, errors naming the key."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest
import yaml

from mtmixg.core.experiments import (
    DERIVED_MODEL_KEYS,
    DERIVED_TRAIN_KEYS,
    RESOURCE_DEFAULTS,
    RESOURCE_KEY,
    attempt_runtime,
    experiment_names,
    gpus_per_job,
    job_resources,
    resolve_experiment,
    training_env,
)
from mtmixg.core.model_config import ModelConfig
from mtmixg.core.train_config import TrainConfig

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "config" / "schemas" / "training.schema.yaml"


def base_config(**extra) -> dict:
    cfg = {
        "task": "binary",
        "variants": ["cnn", "mtmixg"],
        "seeds": [0],
        "model": {"channels": 16, "heads": 2, "cnn_blocks": 3, "pools": [4, 4, 4], "fc_hidden": [32]},
        "training": {"epochs": 7, "lr": 1e-3, "warmup_epochs": 2,
                     "resources": {"threads": 3, "mem_mb": 1000, "runtime": 30}},
        "gpu": {"use": False, "per_job": 1},
        "sweep": [
            {"name": "blocks5", "model": {"cnn_blocks": 5, "pools": [2, 2, 2, 2, 2]}},
            {"name": "lr_low", "training": {"lr": 1e-5}},
            {"name": "cnn_k16", "variant": "cnn", "model": {"kernel_size": 16}},
        ],
    }
    cfg.update(extra)
    return cfg


def test_variant_uses_shared_model_and_training() -> None:
    model, train = resolve_experiment("cnn", base_config(), seq_len=540)
    assert isinstance(model, ModelConfig) and isinstance(train, TrainConfig)
    assert (model.variant, model.seq_len, model.n_outputs, model.channels, model.cnn_blocks) == ("cnn", 540, 1, 16, 3)
    assert (train.epochs, train.lr, train.warmup_epochs) == (7, 1e-3, 2)
    assert (train.device, train.require_gpu) == ("cpu", False)


def test_ternary_sets_three_outputs() -> None:
    model, _ = resolve_experiment("mtmixg", base_config(task="ternary"))
    assert model.n_outputs == 3


def test_sweep_entry_overrides_on_top_of_base() -> None:
    cfg = base_config()
    model, train = resolve_experiment("blocks5", cfg)
    assert (model.variant, model.cnn_blocks, model.pools, model.channels) == ("mtmixg", 5, [2, 2, 2, 2, 2], 16)
    assert train.lr == 1e-3
    model, train = resolve_experiment("lr_low", cfg)
    assert (model.cnn_blocks, train.lr, train.epochs) == (3, 1e-5, 7)
    model, _ = resolve_experiment("cnn_k16", cfg)
    assert (model.variant, model.kernel_size) == ("cnn", 16)
    # the base config is not modified by resolving
    assert cfg["model"]["cnn_blocks"] == 3 and cfg["training"]["lr"] == 1e-3


def test_experiment_names_lists_variants_then_sweep() -> None:
    assert experiment_names(base_config()) == ["cnn", "mtmixg", "blocks5", "lr_low", "cnn_k16"]


def test_unknown_name_names_the_keys() -> None:
    with pytest.raises(ValueError, match=r"unknown experiment 'nope'.*'variants'.*'sweep'"):
        resolve_experiment("nope", base_config())


def test_sweep_name_clash_and_bad_variant_rejected() -> None:
    with pytest.raises(ValueError, match=r"'sweep'.*'cnn' is a model variant"):
        experiment_names(base_config(sweep=[{"name": "cnn"}]))
    with pytest.raises(ValueError, match=r"'sweep'.*'a' appears twice"):
        experiment_names(base_config(sweep=[{"name": "a"}, {"name": "a"}]))
    with pytest.raises(ValueError, match=r"'variants'.*unknown variant 'resnet'"):
        experiment_names(base_config(variants=["resnet"]))


def test_invalid_values_name_the_config_key() -> None:
    with pytest.raises(ValueError, match=r"config key 'training'.*unknown train key.*epochz"):
        resolve_experiment("cnn", base_config(training={"epochz": 3}))
    with pytest.raises(ValueError, match=r"sweep\[bad\]\.model.*pools"):
        resolve_experiment("bad", base_config(sweep=[{"name": "bad", "model": {"cnn_blocks": 4}}]))
    with pytest.raises(ValueError, match=r"'model'.*seq_len.*derives"):
        resolve_experiment("cnn", base_config(model={"seq_len": 10}))
    with pytest.raises(ValueError, match=r"'training'.*device.*derives"):
        resolve_experiment("cnn", base_config(training={"device": "cuda"}))


def test_gpu_settings_and_resources() -> None:
    _, train = resolve_experiment("cnn", base_config(gpu={"use": True, "per_job": 2}))
    assert (train.device, train.require_gpu) == ("cuda", True)
    assert gpus_per_job(base_config(gpu={"use": True, "per_job": 2})) == 2
    _, train = resolve_experiment("cnn", base_config(gpu={"use": "auto"}))
    assert (train.device, train.require_gpu) == ("auto", False)
    # auto: the README's behaviour - per_job GPUs where this machine has one, in the CUDA env
    auto = base_config(gpu={"use": "auto", "per_job": 1})
    assert (gpus_per_job(auto, visible_gpus=0), training_env(auto, visible_gpus=0)) == (0, "python.yaml")
    assert (gpus_per_job(auto, visible_gpus=2), training_env(auto, visible_gpus=2)) == (1, "pytorch-cuda.yaml")
    assert training_env(base_config(gpu={"use": True, "per_job": 2})) == "pytorch-cuda.yaml"
    assert gpus_per_job(base_config()) == 0
    assert training_env(base_config()) == "python.yaml"
    assert job_resources(base_config()) == {"threads": 3, "mem_mb": 1000, "runtime": 30, "retries": 2,
                                            "runtime_growth": 1.25}
    with pytest.raises(ValueError, match=r"'gpu.use'"):
        resolve_experiment("cnn", base_config(gpu={"use": "yes"}))


def test_schema_training_keys_match_trainconfig() -> None:
    """Every training key the schema allows is a TrainConfig field the workflow may set (and back)."""
    schema = yaml.safe_load(SCHEMA.read_text())
    allowed = set(schema["properties"]["training"]["properties"]) - {RESOURCE_KEY}
    settable = {f.name for f in fields(TrainConfig)} - set(DERIVED_TRAIN_KEYS)
    assert allowed == settable
    assert set(schema["$defs"]["train"]["properties"]) == settable
    model_allowed = set(schema["$defs"]["model"]["properties"])
    assert model_allowed == {f.name for f in fields(ModelConfig)} - set(DERIVED_MODEL_KEYS)


def test_mask_codons_is_an_experiment_setting_and_the_former_window_key_still_works() -> None:
    assert resolve_experiment("cnn", base_config(), seq_len=540)[0].mask_codons is False
    assert resolve_experiment("deepcre", base_config(), seq_len=540)[0].mask_codons is True
    off = base_config(model={"mask_codons": False})
    assert resolve_experiment("deepcre", off, seq_len=540)[0].mask_codons is False
    legacy = base_config(window={"mask_codons": True})
    assert resolve_experiment("cnn", legacy, seq_len=540)[0].mask_codons is True
    with pytest.raises(ValueError, match="tss_index"):
        resolve_experiment("cnn", base_config(model={"tss_index": 5}))


def test_training_resources_schema_defaults_are_the_core_fallbacks() -> None:
    """training.resources: each default lives in the schema and in RESOURCE_DEFAULTS; they agree."""
    schema = yaml.safe_load(SCHEMA.read_text())
    props = schema["properties"]["training"]["properties"][RESOURCE_KEY]["properties"]
    assert {key: value["default"] for key, value in props.items()} == RESOURCE_DEFAULTS
    assert job_resources({}) == RESOURCE_DEFAULTS


def test_runtime_grows_per_attempt() -> None:
    res = job_resources({"training": {"resources": {"runtime": 100, "runtime_growth": 1.5, "retries": 3}}})
    assert res["retries"] == 3
    assert [attempt_runtime(res, k) for k in (1, 2, 3, 4)] == [100, 150, 225, 338]
    flat = job_resources({"training": {"resources": {"runtime": 240, "runtime_growth": 1}}})
    assert [attempt_runtime(flat, k) for k in (1, 2, 3)] == [240, 240, 240]
    assert [attempt_runtime(job_resources({}), k) for k in (1, 2, 3)] == [720, 900, 1125]
