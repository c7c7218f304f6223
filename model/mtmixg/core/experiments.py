"""Experiments of the workflow: a name (an architecture or a sweep entry) -> (ModelConfig, TrainConfig).

The workflow config holds (see config/schemas/training.schema.yaml):
    task       "binary" | "ternary"
    architectures  names from ARCHITECTURES (cnn, cnn_mamba, cnn_attention, cnn_mixenc, mtmixg,
               deepcre): each is an experiment of that name
    model      ModelConfig keys shared by every experiment (not arch, seq_len, n_outputs, tss_index,
               tts_index); mask_codons (default: on for deepcre only) may be set here or per sweep entry
    training   TrainConfig keys (not device, require_gpu, allow_pure_kernels, threads) + "resources" (job resources)
    gpu        {"use": false | true | "auto", "per_job": int, "allow_pure_kernels": bool}
    sweep      [{name, arch (default mtmixg), model: {overrides}, training: {overrides}}, ...]

An experiment named like an architecture uses `model` + `training` as given; a sweep entry applies its
overrides on top of them. seq_len, tss_index and tts_index come from the configured window, n_outputs
from the task.

Each experiment is resolved once, when the workflow is planned (experiment_param): the whole
ModelConfig and TrainConfig, checked against the window, as canonical JSON. That string is the train
rule's param (a change reruns exactly the folds it changes) and the job trains exactly it
(read_experiment); only where it runs (device, require_gpu, threads: EXECUTION_KEYS) is the job's.
"""

from __future__ import annotations

import json
import math
from typing import Any

from .window_spec import WindowSpec
from .gpus import count_gpus
from .model_config import ModelConfig
from .names import ARCHITECTURES, check_task, n_outputs, name_problem
from .train_config import EXECUTION_KEYS, TrainConfig

DERIVED_MODEL_KEYS: tuple[str, ...] = ("arch", "seq_len", "n_outputs", "tss_index", "tts_index")
"""ModelConfig keys the workflow sets itself (from the experiment, the windows and the task)."""
DERIVED_TRAIN_KEYS: tuple[str, ...] = ("device", "require_gpu", "allow_pure_kernels", "threads")
"""TrainConfig keys the workflow sets itself (from `gpu` and the job's threads)."""
RESOURCE_KEY = "resources"
"""Key of `training` holding the job resources (threads, mem_mb, runtime); not a TrainConfig key."""
DEFAULT_SWEEP_ARCH = "mtmixg"
GPU_DEFAULTS: dict[str, Any] = {"use": "auto", "per_job": 1, "allow_pure_kernels": False}
"""Fallbacks of `gpu` (the schema's defaults; tests/test_schema_defaults.py checks that the two agree)."""


def sweep_names(config: dict) -> list[str]:
    """Names of the sweep entries, in config order."""
    return [str(entry["name"]) for entry in config.get("sweep") or []]


def experiment_names(config: dict) -> list[str]:
    """Every experiment of a config: the architectures, then the sweep entries. ValueError on a clash."""
    archs = [str(a) for a in config.get("architectures") or []]
    for a in archs:
        if a not in ARCHITECTURES:
            raise ValueError(
                f"config key 'architectures': unknown architecture '{a}'; choose from: {', '.join(ARCHITECTURES)}"
            )
    names = sweep_names(config)
    seen: set[str] = set()
    for n in names:
        if name_problem(n):
            raise ValueError(f"config key 'sweep': entry name {n!r} is not allowed: {name_problem(n)}")
        if n in ARCHITECTURES:
            raise ValueError(f"config key 'sweep': entry name '{n}' is an architecture name; give it another name")
        if n in seen:
            raise ValueError(f"config key 'sweep': entry name '{n}' appears twice; names must be unique")
        seen.add(n)
    return list(dict.fromkeys(archs)) + names


def sweep_panels(config: dict) -> list[tuple[str, str, list[tuple[str, Any]]]]:
    """The panels of the sweep figure (paper Fig. 3): one per (architecture, swept key), in config order,
    each (arch, key, [(experiment, value), ...]) sorted by value, the architecture's own setting among
    them where it is trained. An entry's swept key is its first model override, else its
    first training override (pools follow cnn_blocks); an entry without overrides has no panel.

    ValueError naming the config key on an invalid setting (as resolve_experiment).
    """
    panels: dict[tuple[str, str], list[tuple[str, Any]]] = {}
    for entry in config.get("sweep") or []:
        name = str(entry["name"])
        key, value = next(iter((entry.get("model") or entry.get("training") or {}).items()), (None, None))
        if key is None:
            continue
        arch = experiment_arch(name, config)
        panels.setdefault((arch, key), []).append((name, value))
    trained = config.get("architectures") or []
    for (arch, key), points in panels.items():
        if arch in trained:
            model_cfg, train_cfg = resolve_experiment(arch, config)
            points.append((arch, getattr(model_cfg if hasattr(model_cfg, key) else train_cfg, key)))
        points.sort(key=lambda point: point[1])
    return [(arch, key, points) for (arch, key), points in panels.items()]


def experiment_arch(name: str, config: dict) -> str:
    """The architecture an experiment trains (its own name, or a sweep entry's `arch`)."""
    if name in ARCHITECTURES:
        return name
    return str(_sweep_entry(name, config).get("arch", DEFAULT_SWEEP_ARCH))


def _sweep_entry(name: str, config: dict) -> dict:
    for entry in config.get("sweep") or []:
        if str(entry.get("name")) == name:
            return entry
    known = ", ".join(list(ARCHITECTURES) + sweep_names(config))
    raise ValueError(
        f"unknown experiment '{name}': not an architecture (config key 'architectures') nor a 'sweep' entry name; known: {known}"
    )


def _check_keys(values: dict, forbidden: tuple[str, ...], where: str) -> None:
    bad = sorted(set(values) & set(forbidden))
    if bad:
        raise ValueError(f"config key '{where}': {', '.join(bad)} cannot be set here (the workflow derives it)")


def gpu_settings(config: dict) -> dict[str, Any]:
    """TrainConfig device keys from config `gpu`: use false -> cpu; true -> cuda, required; "auto"
    (the default); allow_pure_kernels as given (default false). Keys not given: GPU_DEFAULTS."""
    gpu = {**GPU_DEFAULTS, **(config.get("gpu") or {})}
    use, allow = gpu["use"], {"allow_pure_kernels": gpu["allow_pure_kernels"]}
    if use is True:
        return {"device": "cuda", "require_gpu": True, **allow}
    if use is False:
        return {"device": "cpu", "require_gpu": False, **allow}
    if use == "auto":
        return {"device": "auto", "require_gpu": False, **allow}
    raise ValueError(f"config key 'gpu.use': expected true, false or \"auto\", got {use!r}")


def gpus_per_job(config: dict, visible_gpus: int | None = None) -> int:
    """GPUs a training job asks for (resources gpu): gpu.per_job when gpu.use is true, or "auto"
    and this machine has a GPU (visible_gpus, default: count_gpus()); else 0.

    On a cluster "auto" looks at the submit host: set use: true there (README, GPUs).
    """
    gpu = {**GPU_DEFAULTS, **(config.get("gpu") or {})}
    use = gpu["use"]
    if use == "auto":
        use = (count_gpus() if visible_gpus is None else visible_gpus) > 0
    return int(gpu["per_job"]) if use is True else 0


def training_env(config: dict, visible_gpus: int | None = None) -> str:
    """The conda env file (in envs/) of the training jobs: PyTorch's CUDA build wherever a job
    asks for a GPU (gpu.use true, or "auto" on a machine with one), else the plain env."""
    return "pytorch-cuda.yaml" if gpus_per_job(config, visible_gpus) > 0 else "python.yaml"


def model_dict(name: str, config: dict) -> dict:
    """ModelConfig keys of an experiment, without seq_len (known once the windows exist)."""
    base = dict(config.get("model") or {})
    _check_keys(base, DERIVED_MODEL_KEYS, "model")
    legacy = (config.get("window") or {}).get("mask_codons")
    if legacy is not None and "mask_codons" not in base:
        base["mask_codons"] = bool(legacy)  # the former key window.mask_codons: every architecture
    if name not in ARCHITECTURES:
        over = dict(_sweep_entry(name, config).get("model") or {})
        _check_keys(over, DERIVED_MODEL_KEYS, f"sweep[{name}].model")
        base.update(over)
    base["arch"] = experiment_arch(name, config)
    base["n_outputs"] = n_outputs(check_task(config.get("task", "binary")))
    return base


def train_dict(name: str, config: dict) -> dict:
    """TrainConfig keys of an experiment (training + sweep overrides + gpu settings)."""
    base = {k: v for k, v in (config.get("training") or {}).items() if k != RESOURCE_KEY}
    _check_keys(base, DERIVED_TRAIN_KEYS, "training")
    if name not in ARCHITECTURES:
        over = dict(_sweep_entry(name, config).get("training") or {})
        _check_keys(over, DERIVED_TRAIN_KEYS + (RESOURCE_KEY,), f"sweep[{name}].training")
        base.update(over)
    base.update(gpu_settings(config))
    return base


def config_window(config: dict) -> WindowSpec:
    """The configured window (config key `window`, less the former mask_codons), as the windows
    rule writes it to window.json. ValueError naming the key when it is invalid."""
    sizes = {k: v for k, v in (config.get("window") or {}).items() if k != "mask_codons"}
    try:
        return WindowSpec.from_dict(sizes)
    except (TypeError, ValueError) as err:
        raise ValueError(f"config key 'window': {err}") from None


def resolve_experiment(
    name: str, config: dict, seq_len: int | None = None, window: WindowSpec | None = None
) -> tuple[ModelConfig, TrainConfig]:
    """Experiment name -> (ModelConfig, TrainConfig). window: the models' input (seq_len, tss_index,
    tts_index from it; the model is then checked against it, ModelConfig.check_shapes); seq_len
    alone: the length only (default: ModelConfig's).

    ValueError naming the config key on an unknown name or an invalid setting.
    """
    if name not in ARCHITECTURES:
        _sweep_entry(name, config)  # unknown names fail here, naming the keys
    mdict = model_dict(name, config)
    if seq_len is not None:
        mdict["seq_len"] = int(seq_len)
    if window is not None:
        mdict.update(seq_len=window.length, tss_index=window.tss_index, tts_index=window.tts_index)
    where = "model" if name in ARCHITECTURES else f"model / sweep[{name}].model"
    try:
        model_cfg = ModelConfig.from_dict(mdict)
        if window is not None:
            model_cfg.check_shapes()
    except (TypeError, ValueError) as err:
        raise ValueError(f"config key '{where}': experiment '{name}': {err}") from None
    where = "training" if name in ARCHITECTURES else f"training / sweep[{name}].training"
    try:
        train_cfg = TrainConfig.from_dict(train_dict(name, config))
    except (TypeError, ValueError) as err:
        raise ValueError(f"config key '{where}': experiment '{name}': {err}") from None
    return model_cfg, train_cfg


def experiment_param(name: str, config: dict) -> str:
    """The experiment resolved for the configured window, as canonical JSON (sorted keys): task,
    the whole ModelConfig and the TrainConfig less EXECUTION_KEYS. The train rule's param: every
    setting that changes a model is in it, so a change reruns exactly the folds it changes.

    ValueError naming the config key when a setting is invalid or the model does not fit the window.
    """
    task = check_task(config.get("task", "binary"))
    model_cfg, train_cfg = resolve_experiment(name, config, window=config_window(config))
    train = {k: v for k, v in train_cfg.to_dict().items() if k not in EXECUTION_KEYS}
    return json.dumps({"task": task, "model": model_cfg.to_dict(), "train": train}, sort_keys=True)


def execution_settings(config: dict, threads: int) -> dict[str, Any]:
    """Where a training job runs (EXECUTION_KEYS): device and require_gpu from config `gpu`, and
    the job's threads. Not part of the experiment: changing them reruns nothing."""
    device = {k: v for k, v in gpu_settings(config).items() if k in EXECUTION_KEYS}
    return {**device, "threads": int(threads)}


def read_experiment(param: str, execution: dict[str, Any]) -> tuple[str, ModelConfig, TrainConfig]:
    """(task, ModelConfig, TrainConfig) of an experiment_param, run with execution
    (execution_settings)."""
    experiment = json.loads(param)
    train = {**experiment["train"], **execution}
    return experiment["task"], ModelConfig.from_dict(experiment["model"]), TrainConfig.from_dict(train)


RESOURCE_DEFAULTS: dict[str, int | float] = {
    "threads": 4,
    "mem_mb": 16000,
    "runtime": 720,
    "retries": 2,
    "runtime_growth": 1.25,
}
"""Fallbacks of `training.resources` (the schema's defaults; tests/test_experiments.py checks that
the two agree). runtime: minutes of the first attempt; retries: further attempts after a failed
or killed job (each continues from the resume state); runtime_growth: runtime factor per attempt."""


def job_resources(config: dict) -> dict[str, int | float]:
    """Resources of one training job from `training.resources` (threads, mem_mb, runtime in
    minutes, retries, runtime_growth), RESOURCE_DEFAULTS for keys not given."""
    res = (config.get("training") or {}).get(RESOURCE_KEY) or {}
    values = {key: res.get(key, default) for key, default in RESOURCE_DEFAULTS.items()}
    return {key: float(v) if key == "runtime_growth" else int(v) for key, v in values.items()}


def attempt_runtime(resources: dict, attempt: int) -> int:
    """Minutes of a training job's attempt (1, 2, ...): runtime * runtime_growth ** (attempt - 1),
    rounded up, so a job stopped at its time limit gets longer for the attempt that continues it."""
    return math.ceil(resources["runtime"] * resources["runtime_growth"] ** (max(int(attempt), 1) - 1))


def sweep_species(config: dict, species: list[str]) -> list[str]:
    """The species the sweep runs for: config sweep_species (default: the first of species, the
    enabled ones; the paper names no species for its sweep), less the disabled ones.

    ValueError naming the key for a name that is not a configured species.
    """
    configured = config.get("species") or {}
    for name in config.get("sweep_species") or []:
        if str(name) not in configured:
            raise ValueError(
                f"config key 'sweep_species': {name!r} is not a configured species ({', '.join(configured)})"
            )
    return [str(s) for s in config.get("sweep_species") or species[:1] if str(s) in species]


def species_experiments(config: dict, species: str, swept: list[str]) -> list[str]:
    """The experiments of a species: the architectures, plus the sweep entries where species is swept."""
    return list(dict.fromkeys(str(a) for a in config["architectures"])) + (
        sweep_names(config) if species in swept else []
    )


def check_experiment_keys(config: dict, species: list[str]) -> None:
    """The keys that name experiments or species must name configured ones; ValueError naming the key.

    experiment_names checks architectures and sweep; this checks cross_species and explain.
    """
    experiments = experiment_names(config)
    configured = list(config.get("species") or {})
    cross = config.get("cross_species") or {}
    for name in cross.get("species") or []:
        if str(name) not in configured:
            raise ValueError(
                f"config key 'cross_species.species': {name!r} is not a configured species ({', '.join(configured)})"
            )
    for name in cross.get("experiments") or []:
        if str(name) not in config["architectures"]:
            raise ValueError(
                f"config key 'cross_species.experiments': {name!r} is not in 'architectures' "
                f"({', '.join(config['architectures'])}); "
                "the matrix's diagonal needs its leave-one-chromosome-out runs"
            )
    explain = config.get("explain") or {}
    for name in explain.get("experiments") or []:
        if name not in experiments:
            raise ValueError(
                f"config key 'explain.experiments': {name!r} is not an experiment ({', '.join(experiments)})"
            )
    for seed in explain.get("seeds") or []:
        if seed not in config["seeds"]:
            raise ValueError(
                f"config key 'explain.seeds': {seed!r} is not in 'seeds' ({', '.join(map(str, config['seeds']))})"
            )
    for name in explain.get("species") or []:
        if name not in species:
            raise ValueError(
                f"config key 'explain.species': {name!r} is not a configured species ({', '.join(species)})"
            )
