"""Experiment resolution: architecture names, sweep overrides, GPU settings, errors naming the key."""

from __future__ import annotations

import json
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
    check_experiment_keys,
    config_window,
    experiment_names,
    experiment_param,
    execution_settings,
    gpus_per_job,
    job_resources,
    read_experiment,
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
        "architectures": ["cnn", "mtmixg"],
        "seeds": [0],
        "model": {"channels": 16, "heads": 2, "cnn_blocks": 3, "pools": [4, 4, 4], "fc_hidden": [32]},
        "training": {"epochs": 7, "lr": 1e-3, "warmup_epochs": 2,
                     "resources": {"threads": 3, "mem_mb": 1000, "runtime": 30}},
        "gpu": {"use": False, "per_job": 1},
        "sweep": [
            {"name": "blocks5", "model": {"cnn_blocks": 5, "pools": [2, 2, 2, 2, 2]}},
            {"name": "lr_low", "training": {"lr": 1e-5}},
            {"name": "cnn_k16", "arch": "cnn", "model": {"kernel_size": 16}},
        ],
    }
    cfg.update(extra)
    return cfg


def test_architecture_uses_shared_model_and_training() -> None:
    model, train = resolve_experiment("cnn", base_config(), seq_len=540)
    assert isinstance(model, ModelConfig) and isinstance(train, TrainConfig)
    assert (model.arch, model.seq_len, model.n_outputs, model.channels, model.cnn_blocks) == ("cnn", 540, 1, 16, 3)
    assert (train.epochs, train.lr, train.warmup_epochs) == (7, 1e-3, 2)
    assert (train.device, train.require_gpu) == ("cpu", False)


def test_ternary_sets_three_outputs() -> None:
    model, _ = resolve_experiment("mtmixg", base_config(task="ternary"))
    assert model.n_outputs == 3


def test_sweep_entry_overrides_on_top_of_base() -> None:
    cfg = base_config()
    model, train = resolve_experiment("blocks5", cfg)
    assert (model.arch, model.cnn_blocks, model.pools, model.channels) == ("mtmixg", 5, [2, 2, 2, 2, 2], 16)
    assert train.lr == 1e-3
    model, train = resolve_experiment("lr_low", cfg)
    assert (model.cnn_blocks, train.lr, train.epochs) == (3, 1e-5, 7)
    model, _ = resolve_experiment("cnn_k16", cfg)
    assert (model.arch, model.kernel_size) == ("cnn", 16)
    # the base config is not modified by resolving
    assert cfg["model"]["cnn_blocks"] == 3 and cfg["training"]["lr"] == 1e-3


def test_experiment_names_lists_architectures_then_sweep() -> None:
    assert experiment_names(base_config()) == ["cnn", "mtmixg", "blocks5", "lr_low", "cnn_k16"]


def test_unknown_name_names_the_keys() -> None:
    with pytest.raises(ValueError, match=r"unknown experiment 'nope'.*'architectures'.*'sweep'"):
        resolve_experiment("nope", base_config())


def test_sweep_name_clash_and_bad_architecture_rejected() -> None:
    with pytest.raises(ValueError, match=r"'sweep'.*'cnn' is an architecture name"):
        experiment_names(base_config(sweep=[{"name": "cnn"}]))
    with pytest.raises(ValueError, match=r"'sweep'.*'a' appears twice"):
        experiment_names(base_config(sweep=[{"name": "a"}, {"name": "a"}]))
    with pytest.raises(ValueError, match=r"'architectures'.*unknown architecture 'resnet'"):
        experiment_names(base_config(architectures=["resnet"]))


def test_explain_keys_name_only_configured_experiments_seeds_and_species() -> None:
    check_experiment_keys(base_config(explain={"experiments": ["cnn"], "seeds": [0], "species": ["demo"]}), ["demo"])
    with pytest.raises(ValueError, match=r"config key 'explain.seeds': 3 is not in 'seeds' \(0\)"):
        check_experiment_keys(base_config(explain={"experiments": ["cnn"], "seeds": [0, 3]}), ["demo"])
    with pytest.raises(ValueError, match=r"config key 'explain.experiments': 'resnet'"):
        check_experiment_keys(base_config(explain={"experiments": ["resnet"]}), ["demo"])
    with pytest.raises(ValueError, match=r"config key 'explain.species': 'rice'"):
        check_experiment_keys(base_config(explain={"species": ["rice"]}), ["demo"])


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


# ------------------------------------------------------------------ the experiment resolved once (plan time)

WINDOW = {"upstream_tss": 200, "downstream_tss": 100, "spacer": 20, "upstream_tts": 100, "downstream_tts": 200}


def planned(**extra) -> dict:
    """base_config with the demo's 620-base window."""
    return base_config(**{"window": dict(WINDOW), **extra})


def test_experiment_param_is_the_whole_experiment_for_the_configured_window() -> None:
    param = json.loads(experiment_param("blocks5", planned()))
    assert param["task"] == "binary"
    assert param["model"] == ModelConfig(arch="mtmixg", seq_len=620, tss_index=200, tts_index=419, channels=16,
                                         heads=2, cnn_blocks=5, pools=[2, 2, 2, 2, 2], fc_hidden=[32]).to_dict()
    assert param["train"] == {k: v for k, v in TrainConfig(epochs=7, lr=1e-3, warmup_epochs=2).to_dict().items()
                              if k not in ("device", "require_gpu", "threads")}  # fmt: skip


def test_the_job_reads_back_exactly_the_planned_experiment() -> None:
    config = planned(gpu={"use": True, "per_job": 1, "allow_pure_kernels": True})
    task, model, train = read_experiment(experiment_param("lr_low", config), execution_settings(config, 3))
    assert (task, model, train) == (
        "binary", *resolve_experiment("lr_low", config, window=config_window(config))[:1],
        TrainConfig(epochs=7, lr=1e-5, warmup_epochs=2, device="cuda", require_gpu=True, allow_pure_kernels=True, threads=3),
    )


def test_window_mask_codons_changes_the_param_of_the_experiments_it_changes_only() -> None:
    before = {name: experiment_param(name, planned(architectures=["cnn", "deepcre"])) for name in ("cnn", "deepcre")}
    masked = planned(architectures=["cnn", "deepcre"], window={**WINDOW, "mask_codons": True})
    after = {name: experiment_param(name, masked) for name in ("cnn", "deepcre")}
    assert after["deepcre"] == before["deepcre"]  # deepcre masks already
    assert after["cnn"] != before["cnn"] and json.loads(after["cnn"])["model"]["mask_codons"] is True


def test_where_a_job_runs_and_the_config_key_order_change_no_param() -> None:
    param = experiment_param("mtmixg", planned())
    assert experiment_param("mtmixg", planned(gpu={"use": "auto", "per_job": 4})) == param
    assert experiment_param("mtmixg", planned(training={**base_config()["training"], "resources": {"threads": 9}})) == param
    reordered = planned(model=dict(reversed(list(base_config()["model"].items()))))
    assert experiment_param("mtmixg", reordered) == param
    # allow_pure_kernels changes how a Mamba model trains (a resume state refuses it): in the param
    assert experiment_param("mtmixg", planned(gpu={"use": False, "allow_pure_kernels": True})) != param
    assert experiment_param("mtmixg", planned(window={**WINDOW, "spacer": 30})) != param


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ({"cnn_blocks": 3, "pools": [4, 4]}, "model keys 'pools' and 'cnn_blocks': pools has 2 entries but cnn_blocks is 3"),
        ({"heads": 3}, "model key 'heads': 3 does not divide the attention branch's 8 channels (channels 16 / 2)"),
        ({"pools": [16, 16, 16]}, "model key 'pools': pools [16, 16, 16] reduce a sequence of length 620 to nothing at block 3"),
        ({"pools": [4, 0, 4]}, "model key 'pools': pool sizes must be integers >= 1, got 0 at position 1"),
    ],
)
def test_a_model_that_does_not_fit_the_window_names_the_key(model: dict, message: str) -> None:
    with pytest.raises(ValueError) as err:
        experiment_param("mtmixg", planned(model={**base_config()["model"], **model}))
    assert str(err.value).startswith(f"config key 'model': experiment 'mtmixg': {message}"), str(err.value)


def test_a_sweep_entry_that_does_not_fit_names_its_key_and_the_window_is_checked() -> None:
    with pytest.raises(ValueError, match=r"^config key 'model / sweep\[big\]\.model': experiment 'big': model key 'pools'"):
        experiment_param("big", planned(sweep=[{"name": "big", "model": {"pools": [64, 64, 64]}}]))
    with pytest.raises(ValueError, match=r"^config key 'window': .*upstream_tss"):
        experiment_param("cnn", planned(window={**WINDOW, "upstream_tss": -1}))
