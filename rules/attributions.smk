# Attribution maps of held-out genes, one job per (species, experiment, seed, fold): the fold's
# test genes only, so no map explains a training gene. DeepLIFT/SHAP where the variant allows
# it, else ISM (mtmixg.interpret.attributions). Switched on by config key explain.experiments.

EXPLAIN = config["explain"]
EXPLAIN_DIR = "results/{species}/attributions/{variant}/seed{seed}/{fold}"
for _name in EXPLAIN["experiments"]:
    if _name not in EXPERIMENTS:
        raise WorkflowError(
            f"config key 'explain.experiments': {_name!r} is not an experiment "
            f"({', '.join(EXPERIMENTS)})"
        )
for _name in EXPLAIN["species"]:
    if _name not in SPECIES:
        raise WorkflowError(
            f"config key 'explain.species': {_name!r} is not a configured species "
            f"({', '.join(SPECIES)})"
        )


def explained_species():
    """Species whose experiments are explained (all when explain.species is empty)."""
    if not EXPLAIN["experiments"]:
        return []
    return list(EXPLAIN["species"]) or SPECIES


def attribution_folders(wildcards):
    """explain.json of every (seed, fold) map of a species' experiment."""
    return [
        f"results/{wildcards.species}/attributions/{wildcards.variant}/seed{seed}/{fold}/explain.json"
        for seed in SEEDS
        for fold in species_folds(wildcards.species)
    ]


rule attributions:
    input:
        model=f"{MODEL_DIR}/model.pt",
        predictions=f"{MODEL_DIR}/predictions.tsv",
        windows="results/{species}/windows/windows.npy",
        genes="results/{species}/windows/genes.tsv",
    output:
        ohe=f"{EXPLAIN_DIR}/ohe.npz",
        attr=f"{EXPLAIN_DIR}/attr.npz",
        genes=f"{EXPLAIN_DIR}/genes.tsv",
        info=f"{EXPLAIN_DIR}/explain.json",
    log:
        "logs/{species}/attributions/{variant}/seed{seed}/{fold}.log",
    benchmark:
        "benchmarks/{species}/attributions/{variant}/seed{seed}/{fold}.tsv"
    conda:
        "../envs/python.yaml"
    threads: EXPLAIN["threads"]
    params:
        method=EXPLAIN["method"],
        shuffles=EXPLAIN["shuffles"],
        ism_window=EXPLAIN["ism_window"],
    script:
        "../workflow_scripts/attributions.py"
