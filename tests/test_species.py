"""mtmixg.core.species: which species take part, and the checks that name their config key."""

from __future__ import annotations

import pytest

from mtmixg.core.species import check_reference_paths, plan_species


def config(**species) -> dict:
    return {"species": species, "homology_filter": {"enabled": False, "method": "blastp"}}


def test_plan_splits_enabled_disabled_reads_and_table_species() -> None:
    plan = plan_species(config(ath={}, sly={"enabled": False}, zma={"tpm_table": "t.tsv"}))
    assert (plan.enabled, plan.disabled, plan.reads, plan.table) == (["ath", "zma"], ["sly"], ["ath"], ["zma"])
    assert plan.left_out_line().startswith("mtmixg: left out of this run (also of cross-species and the sweep): sly,")
    assert plan_species(config(ath={})).left_out_line() == ""


def test_every_species_disabled_is_refused() -> None:
    with pytest.raises(ValueError, match=r"'species': every species has enabled: false"):
        plan_species(config(ath={"enabled": False}))


def test_blastp_needs_the_proteins_of_every_enabled_species() -> None:
    cfg = config(ath={"pep": "p.fa"}, sly={}, zma={"enabled": False})
    cfg["homology_filter"]["enabled"] = True
    with pytest.raises(ValueError, match=r"config species/sly: homology_filter.method blastp needs"):
        plan_species(cfg)
    cfg["homology_filter"]["method"] = "blastn"
    assert plan_species(cfg).enabled == ["ath", "sly"]


def test_reference_path_with_a_space_names_the_key() -> None:
    check_reference_paths(config(ath={"genome": "a/genome.fa"}))
    with pytest.raises(ValueError, match=r"species.ath.cdna: 'my cdna.fa' holds a space"):
        check_reference_paths(config(ath={"genome": "g.fa", "cdna": "my cdna.fa"}))
