"""Strict reading of configs: the config dataclasses (WindowSpec, ModelConfig, TrainConfig) from
dicts, YAML/JSON files whose keys are unique, and integers that are integers."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any, TypeVar

import yaml

T = TypeVar("T")


def from_dict_strict(cls: type[T], values: Mapping[str, Any], kind: str) -> T:
    """cls(**values), but an unknown key is a ValueError naming it (and the known ones).

    kind names the keys in the message, e.g. "model" -> "unknown model key(s): ...".
    """
    known = {f.name for f in fields(cls)}
    unknown = set(values) - known
    if unknown:
        raise ValueError(
            f"unknown {kind} key(s): {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}"
        )
    return cls(**values)


def check_integers(config: Any, schema: Mapping[str, Any]) -> None:
    """ValueError naming the first key whose value is a float (200.0) where the JSON schema says
    integer: JSON Schema counts 200.0 as an integer, Python code does not. Follows properties,
    additionalProperties, items, allOf and local $refs ("#/...")."""
    found = _float_integer(config, schema, schema, "")
    if found is not None:
        key, value = found
        raise ValueError(f"config key {key}: {value!r} is not an integer; write it without a decimal point")


def _float_integer(value: Any, schema: Any, root: Mapping[str, Any], key: str) -> tuple[str, float] | None:
    """(key, value) of the first float under an integer schema (keys dotted, [i] for list items)."""
    if not isinstance(schema, Mapping):
        return None
    if "$ref" in schema:
        target: Any = root
        for part in str(schema["$ref"]).removeprefix("#/").split("/"):
            target = target[part]
        return _float_integer(value, target, root, key)
    types = schema.get("type")
    types = types if isinstance(types, list) else [types]
    if isinstance(value, float) and "integer" in types and "number" not in types:
        return key, value
    subschemas: list[tuple[Any, Any, str]] = [(value, s, key) for s in schema.get("allOf", [])]
    if isinstance(value, Mapping):
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for name, item in value.items():
            child = f"{key}.{name}" if key else str(name)
            subschemas.append((item, properties.get(name, extra), child))
    if isinstance(value, list) and "items" in schema:
        subschemas += [(item, schema["items"], f"{key}[{i}]") for i, item in enumerate(value)]
    for item, subschema, child in subschemas:
        found = _float_integer(item, subschema, root, child)
        if found is not None:
            return found
    return None


def load_unique(text: str, path: str | Path) -> Any:
    """The YAML (path ends .yaml/.yml) or else JSON text of the file path; a key given twice in one
    mapping is a ValueError (see check_unique_keys). Parse errors stay yaml.YAMLError and
    json.JSONDecodeError."""
    check_unique_keys(text, path)
    if Path(path).suffix in (".yaml", ".yml"):
        return yaml.safe_load(text)
    return json.loads(text, object_pairs_hook=lambda pairs: _unique_pairs(pairs, path))


def check_unique_keys(text: str, path: str | Path) -> None:
    """ValueError naming path, the key and both lines when one mapping of the YAML or JSON text
    gives a key twice (PyYAML and json keep the last value without a word). Text YAML cannot
    parse is left to the caller's parser."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return
    stack, seen = [root], set()
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            stack += node.value
        elif isinstance(node, yaml.MappingNode):
            lines: dict[str, int] = {}
            for key, value in node.value:
                line = key.start_mark.line + 1
                if isinstance(key, yaml.ScalarNode) and key.value in lines:
                    raise ValueError(
                        f"{path}, line {line}: key {key.value!r} is given twice (also on line "
                        f"{lines[key.value]}); only one value can count, remove the other"
                    )
                if isinstance(key, yaml.ScalarNode):
                    lines[key.value] = line
                stack.append(value)


def _unique_pairs(pairs: list[tuple[str, Any]], path: str | Path) -> dict[str, Any]:
    """json's object_pairs_hook for JSON that YAML cannot read: a key given twice is a ValueError."""
    keys = [key for key, _ in pairs]
    for key in keys:
        if keys.count(key) > 1:
            raise ValueError(f"{path}: key {key!r} is given twice in one object; remove one")
    return dict(pairs)


RENAMED_KEYS: dict[str, str] = {
    "variants": "architectures",
    "cross_species.variants": "cross_species.experiments",
    "sweep[].variant": "sweep[].arch",
}
"""Workflow config keys renamed so that "variant" means only a VCF variant: old key -> new key
(README, "Keeping results from before the rename")."""


def check_renamed_keys(config: Mapping[str, Any]) -> None:
    """ValueError naming the first old key of RENAMED_KEYS that config still uses, and its new name."""
    for old, new in RENAMED_KEYS.items():
        if _has_key(config, old.split(".")):
            raise ValueError(f"config key '{old}' was renamed to '{new}'; rename it in your config")


def _has_key(value: Any, parts: list[str]) -> bool:
    """True when value holds the dotted key parts; a part 'name[]' looks into every list entry."""
    if not parts:
        return True
    head, rest = parts[0], parts[1:]
    if head.endswith("[]"):
        entries = value.get(head[:-2]) if isinstance(value, Mapping) else None
        return isinstance(entries, list) and any(_has_key(entry, rest) for entry in entries)
    return isinstance(value, Mapping) and head in value and _has_key(value[head], rest)
