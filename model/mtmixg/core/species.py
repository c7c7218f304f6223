"""The species of a workflow config: which take part, where their expression comes from, and the
checks on their entries that the JSON schema cannot express (each error names the config key)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .names import chromosome_problem, name_problem

REFERENCE_KEYS: tuple[str, ...] = ("genome", "annotation", "cdna", "tpm_table")
"""Reference paths that reach a shell: they may hold no whitespace."""


@dataclass(frozen=True)
class SpeciesPlan:
    """The species of a run, in config order."""

    enabled: list[str]
    disabled: list[str]
    """Ready entries with `enabled: false`: left out of everything, named in one line."""
    table: list[str]
    """Enabled species whose expression comes from a ready TPM table (no reads)."""
    reads: list[str]
    """Enabled species whose expression comes from the runs of the sample sheet."""

    def left_out_line(self) -> str:
        """The one line that names the disabled species ('' when there are none)."""
        if not self.disabled:
            return ""
        return (
            f"mtmixg: left out of this run (also of cross-species and the sweep): {', '.join(self.disabled)}, "
            "because their config entry says enabled: false (give their runs in the sample sheet, then set "
            "enabled: true)"
        )


def check_reference_paths(config: dict) -> None:
    """ValueError naming species.<name>.<key> for a reference path holding whitespace (run before
    the schema, whose message would not say why)."""
    for name, entry in (config.get("species") or {}).items():
        for key in REFERENCE_KEYS:
            value = entry.get(key) if isinstance(entry, dict) else None
            if isinstance(value, str) and re.search(r"\s", value):
                raise ValueError(
                    f"config key species.{name}.{key}: {value!r} holds a space; reference paths may not "
                    "contain spaces (rename the file or link it from a path without spaces)"
                )


def check_names(config: dict) -> None:
    """ValueError naming the config key of a species or chromosome name unfit to be a folder name
    (results/<species>/, a fold's models/.../<chromosome>/); run after the schema."""
    for name, entry in config["species"].items():
        problem = name_problem(name)
        if problem:
            raise ValueError(f"config key species: species name {name!r} is not allowed: {problem}")
        for chromosome in entry["chromosomes"]:
            problem = chromosome_problem(chromosome)
            if problem:
                raise ValueError(
                    f"config key species.{name}.chromosomes: chromosome {chromosome!r} is not allowed: {problem}"
                )


def plan_species(config: dict) -> SpeciesPlan:
    """The enabled / disabled species of a schema-validated config and their expression source.

    ValueError when every species is disabled, or when the blastp homology filter lacks a
    species' proteins (`pep`).
    """
    species = config["species"]
    enabled = [s for s in species if species[s].get("enabled", True)]
    if not enabled:
        raise ValueError("config key 'species': every species has enabled: false; enable at least one")
    homology = config.get("homology_filter") or {}
    if homology.get("enabled") and homology.get("method") == "blastp":
        for name in enabled:
            if not species[name].get("pep"):
                raise ValueError(
                    f"config species/{name}: homology_filter.method blastp needs the species' proteins: add "
                    "'pep' (Ensembl Plants pep/*.pep.all.fa.gz), or set homology_filter.method: blastn"
                )
    table = [s for s in enabled if species[s].get("tpm_table")]
    return SpeciesPlan(
        enabled=enabled,
        disabled=[s for s in species if s not in enabled],
        table=table,
        reads=[s for s in enabled if s not in table],
    )
