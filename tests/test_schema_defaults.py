"""Each default of config/schemas/*.schema.yaml is one fact: where the package has a fallback or a
dataclass default for the same key, the two are equal, and the schema's keys and enums are the
dataclasses' and the core's. One walk visits every default, so a new one must be placed here."""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from mtmixg.core.experiments import (
    DERIVED_MODEL_KEYS,
    DERIVED_TRAIN_KEYS,
    GPU_DEFAULTS,
    RESOURCE_DEFAULTS,
    RESOURCE_KEY,
    experiment_arch,
    gpu_settings,
    gpus_per_job,
    job_resources,
    model_dict,
)
from mtmixg.core.model_config import ModelConfig
from mtmixg.core.names import TASKS
from mtmixg.core.species import plan_species
from mtmixg.core.train_config import TrainConfig
from mtmixg.data import homology
from mtmixg.core.window_spec import WindowSpec
from mtmixg.demo import make_demo

SCHEMAS = Path(__file__).resolve().parent.parent / "config" / "schemas"
TRAINING = yaml.safe_load((SCHEMAS / "training.schema.yaml").read_text())
CONFIG = yaml.safe_load((SCHEMAS / "config.schema.yaml").read_text())


def field_default(cls: type, name: str) -> Any:
    """A dataclass field's default (its factory called)."""
    f = {f.name: f for f in dataclasses.fields(cls)}[name]
    return f.default_factory() if f.default is dataclasses.MISSING else f.default


def defaults(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted path of the key, default) of every default in a schema; `{}` on an object (it only
    lets the defaults inside fill in) is left out. Paths: properties' keys, '*' for
    additionalProperties, '[]' for items, '$defs.<name>' for definitions."""
    if not isinstance(node, dict):
        return
    if "default" in node and node["default"] != {}:
        yield path, node["default"]
    for key, child in (node.get("properties") or {}).items():
        yield from defaults(child, f"{path}.{key}" if path else key)
    for key, child in (node.get("$defs") or {}).items():
        yield from defaults(child, f"$defs.{key}")
    if isinstance(node.get("additionalProperties"), dict):
        yield from defaults(node["additionalProperties"], f"{path}.*")
    if isinstance(node.get("items"), dict):
        yield from defaults(node["items"], f"{path}[]")


def _species_enabled(default: bool) -> bool:
    """Whether plan_species takes a species without `enabled` as enabled (True) or not."""
    entry = {"genome": "g", "annotation": "a", "cdna": "c", "chromosomes": ["1"]}
    plan = plan_species({"species": {"a": {**entry, "enabled": not default}, "b": entry}})
    return "b" in plan.enabled


# schema path -> the package's value for that key when the config leaves it out
TRAINING_FALLBACKS: dict[str, Callable[[], Any]] = {
    "task": lambda: "binary" if model_dict("cnn", {})["n_outputs"] == 1 else "ternary",
    "sweep[].arch": lambda: experiment_arch("s", {"sweep": [{"name": "s"}]}),
    **{f"training.resources.{key}": (lambda key=key: job_resources({})[key]) for key in RESOURCE_DEFAULTS},
    **{f"gpu.{key}": (lambda key=key: GPU_DEFAULTS[key]) for key in GPU_DEFAULTS},
}
CONFIG_FALLBACKS: dict[str, Callable[[], Any]] = {
    "species.*.enabled": lambda: _species_enabled(True),
    **{f"window.{f.name}": (lambda name=f.name: field_default(WindowSpec, name)) for f in dataclasses.fields(WindowSpec)},
    "homology_filter.method": lambda: inspect.signature(homology.run_blast).parameters["method"].default,
    "homology_filter.evalue": lambda: homology.MAX_EVALUE,
    "homology_filter.bitscore": lambda: homology.MIN_BITSCORE,
    **{f"demo.{key}": (lambda key=key: inspect.signature(make_demo).parameters[key].default)
       for key in ("seed", "genes_per_chromosome", "read_pairs")},
}
# defaults that only the workflow applies: the rules read these keys from the validated config,
# and no package code has a fallback of its own for them
WORKFLOW_ONLY: dict[str, set[str]] = {
    "training": {"architectures", "seeds", "sweep", "cross_species.species", "cross_species.experiments", "plots.svg",
                 "explain.experiments", "explain.seeds", "explain.species", "explain.method", "explain.shuffles",
                 "explain.ism_window", "explain.max_seqlets", "explain.motif_db", "explain.threads"},
    "config": {"sra_command_prefix", "downloads_as_jobs", "sra.threads", "sra.max_size", "trimming.quality_type",
               "trimming.quality", "trimming.min_length", "kallisto.threads", "kallisto.single_fragment_length",
               "kallisto.single_fragment_sd", "tximport.ignore_tx_version", "homology_filter.enabled",
               "homology_filter.threads", "demo.enabled"},
}


def dataclass_fallback(path: str) -> Callable[[], Any] | None:
    """The dataclass default of a model / train key of the training schema ($defs or `training`)."""
    for prefix, cls in (("$defs.model.", ModelConfig), ("$defs.train.", TrainConfig), ("training.", TrainConfig)):
        name = path.removeprefix(prefix)
        if path.startswith(prefix) and name in {f.name for f in dataclasses.fields(cls)}:
            return lambda: field_default(cls, name)
    return None


@pytest.mark.parametrize(("schema", "fallbacks", "kind"),
                         [(TRAINING, TRAINING_FALLBACKS, "training"), (CONFIG, CONFIG_FALLBACKS, "config")])
def test_every_schema_default_equals_the_packages_fallback(schema: dict, fallbacks: dict, kind: str) -> None:
    found = dict(defaults(schema))
    assert found, "the walk found no defaults"
    unplaced = sorted(set(found) - set(fallbacks) - WORKFLOW_ONLY[kind]
                      - {p for p in found if dataclass_fallback(p)})
    assert unplaced == [], f"defaults with no fallback listed in this test: {unplaced}"
    assert sorted(set(fallbacks) - set(found)) == [], "a listed fallback has no default in the schema"
    wrong = {p: (v, (fallbacks.get(p) or dataclass_fallback(p))())
             for p, v in found.items() if p not in WORKFLOW_ONLY[kind]}
    assert {p: pair for p, pair in wrong.items() if pair[0] != pair[1]} == {}


def test_no_default_is_given_twice() -> None:
    """The training half's keys are only named in config.schema.yaml, their defaults live in
    training.schema.yaml."""
    training_keys = set(TRAINING["properties"])
    assert sorted(p for p, _ in defaults(CONFIG) if p.split(".")[0].split("[")[0] in training_keys) == []


def test_gpu_defaults_are_what_the_core_does_without_the_key() -> None:
    given = {"gpu": {key: spec["default"] for key, spec in TRAINING["properties"]["gpu"]["properties"].items()}}
    assert gpu_settings({}) == gpu_settings(given) == {"device": "auto", "require_gpu": False, "allow_pure_kernels": False}
    for visible in (0, 1):
        assert gpus_per_job({}, visible_gpus=visible) == gpus_per_job(given, visible_gpus=visible)
    assert GPU_DEFAULTS["allow_pure_kernels"] == field_default(TrainConfig, "allow_pure_kernels")


def test_model_and_train_keys_are_the_dataclasses() -> None:
    model_keys = {f.name for f in dataclasses.fields(ModelConfig)} - set(DERIVED_MODEL_KEYS)
    train_keys = {f.name for f in dataclasses.fields(TrainConfig)} - set(DERIVED_TRAIN_KEYS)
    assert set(TRAINING["$defs"]["model"]["properties"]) == model_keys
    assert set(TRAINING["$defs"]["train"]["properties"]) == train_keys
    assert set(TRAINING["properties"]["training"]["properties"]) == train_keys | {RESOURCE_KEY}
    window_keys = {f.name for f in dataclasses.fields(WindowSpec)}
    assert set(CONFIG["properties"]["window"]["properties"]) == window_keys | {"mask_codons"}  # the former key


def test_enums_are_the_cores() -> None:
    assert TRAINING["properties"]["task"]["enum"] == list(TASKS)
    assert CONFIG["properties"]["task"]["enum"] == list(TASKS)
    assert CONFIG["properties"]["homology_filter"]["properties"]["method"]["enum"] == list(homology.METHODS)
