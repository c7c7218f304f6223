"""Strict construction of the config dataclasses (WindowSpec, ModelConfig, TrainConfig) from dicts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Any, TypeVar

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
