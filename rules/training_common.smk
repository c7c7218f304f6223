# Config and helper functions of the training half (train, summary, cross_species, plots,
# variant_effects, attributions, motifs). Included by the Snakefile after rules/common.smk; the
# config keys task, architectures, seeds, model, training, gpu, sweep, cross_species, plots and explain
# are validated here (config/schemas/training.schema.yaml) and read through mtmixg.core.

from mtmixg.core import experiments
from mtmixg.core.names import ALL_CHROMOSOMES, ablation_order

try:
    validate_strictly("training.schema.yaml")
except ValueError as err:
    raise WorkflowError(str(err))

##### experiments: architectures and sweep entries (mtmixg.core.experiments) #####

try:
    EXPERIMENTS = experiments.experiment_names(config)
    SWEEP_SPECIES = experiments.sweep_species(config, SPECIES)
    experiments.check_experiment_keys(config, SPECIES)
    # every experiment resolved once, here: the whole model and training settings, checked against
    # the window (a bad setting stops even `snakemake -n`, naming the key); rule train's param
    EXPERIMENT_PARAMS = {
        name: experiments.experiment_param(name, config) for name in EXPERIMENTS
    }
    # the sweep figure's panels (paper Fig. 3): one per swept key, its values in order
    SWEEP_PANELS = experiments.sweep_panels(config)
except ValueError as err:
    raise WorkflowError(str(err))
SWEEP = experiments.sweep_names(config)
SEEDS = [int(seed) for seed in config["seeds"]]
TRAIN_RESOURCES = experiments.job_resources(config)
# gpu.use true: every job asks for gpu.per_job GPUs; "auto": only where this machine has one (on a
# cluster, set true); false: none. Jobs that ask for a GPU run in PyTorch's CUDA env (--use-conda).
GPUS_PER_JOB = experiments.gpus_per_job(config)
TRAIN_ENV = f"../envs/{experiments.training_env(config)}"


include: "gpu_limit.smk"


MODEL_DIR = "results/{species}/models/{experiment}/seed{seed}/{fold}"


def species_folds(species):
    """The folds of a species: its chromosomes."""
    return [str(c) for c in config["species"][species]["chromosomes"]]


ALL_FOLDS = sorted({fold for species in SPECIES for fold in species_folds(species)})


def species_experiments(species):
    """The experiments of a species: the architectures, plus the sweep entries for SWEEP_SPECIES."""
    return experiments.species_experiments(config, species, SWEEP_SPECIES)


def experiment_order(wildcards):
    """Params function: the experiments of the job's species, in config order."""
    return species_experiments(wildcards.species)


def train_windows(wildcards):
    """The windows dataset of the job's species (checks the fold is one of its chromosomes)."""
    if wildcards.fold != ALL_CHROMOSOMES and wildcards.fold not in species_folds(
        wildcards.species
    ):
        raise WorkflowError(
            f"fold {wildcards.fold!r} is not a chromosome of species {wildcards.species} "
            f"({', '.join(species_folds(wildcards.species))}) nor 'all'"
        )
    folder = f"results/{wildcards.species}/windows"
    inputs = {
        "windows": f"{folder}/windows.npy",
        "genes": f"{folder}/genes.tsv",
        "spec": f"{folder}/window.json",
        "skipped": f"{folder}/skipped.tsv",
    }
    if config["homology_filter"]["enabled"]:
        inputs["test_genes"] = (
            f"{folder}/test_genes.tsv"  # the homology filter's test genes
        )
    return inputs


def experiment_param(wildcards):
    """Params function: the experiment resolved at plan time, as canonical JSON (the job trains
    exactly it; a change reruns the folds whose experiment it changes, and only those).
    """
    return EXPERIMENT_PARAMS[wildcards.experiment]


def train_runtime(wildcards, attempt):
    """Resource function: minutes of a training job's attempt (runtime, times runtime_growth per
    retry: the attempt after a time limit gets longer, and continues from the resume state).
    """
    return experiments.attempt_runtime(TRAIN_RESOURCES, attempt)


def resume_state(wildcards):
    """Resume state of a training job: kept outside the job's outputs (Snakemake deletes those
    when a job fails or is killed)."""
    w = wildcards
    return f"results/{w.species}/resume/{w.experiment}/seed{w.seed}/{w.fold}/state.pt"


##### evaluation #####


def summary_runs(wildcards):
    """Params function: one record per leave-one-chromosome-out run of a species, experiment-major:
    experiment, seed, fold and the paths of its metrics.json and predictions.tsv."""
    runs = []
    for experiment in species_experiments(wildcards.species):
        for seed in SEEDS:
            for fold in species_folds(wildcards.species):
                folder = MODEL_DIR.format(
                    species=wildcards.species,
                    experiment=experiment,
                    seed=seed,
                    fold=fold,
                )
                runs.append(
                    {
                        "experiment": experiment,
                        "seed": seed,
                        "fold": fold,
                        "metrics": f"{folder}/metrics.json",
                        "predictions": f"{folder}/predictions.tsv",
                    }
                )
    return runs


def summary_input(wildcards):
    """Input function: the files of the records of summary_runs."""
    runs = summary_runs(wildcards)
    return {
        "metrics": [run["metrics"] for run in runs],
        "predictions": [run["predictions"] for run in runs],
    }


##### plots #####

PLOT_FORMATS = ["png", "svg"] if config["plots"]["svg"] else ["png"]


def plot_names(species):
    names = ["roc", "confusion", "fold_accuracy"]
    if config["architectures"]:
        names.append("ablation")
    if SWEEP and species in SWEEP_SPECIES:
        names.append("sweep")
    return names


def plot_targets(species):
    return [
        f"results/{species}/plots/{name}.{ext}"
        for name in plot_names(species)
        for ext in PLOT_FORMATS
    ]


def figure(path, caption, category="Figures", **labels):
    """report() of a figure's PNG, with its caption (report/<caption>.rst)."""
    return report(
        path,
        caption=f"../report/{caption}.rst",
        category=category,
        subcategory="{species}" if "{species}" in path else None,
        labels=labels,
    )


def svg_beside(path):
    """The SVG twin of a PNG output when plots.svg is on (a list, empty otherwise)."""
    return [path[: -len(".png")] + ".svg"] if config["plots"]["svg"] else []


##### cross-species #####

# disabled species are left out (the data half's one line names them)
CROSS_SPECIES = [
    str(s) for s in config["cross_species"]["species"] if str(s) in SPECIES
]
CROSS_EXPERIMENTS = [str(e) for e in config["cross_species"]["experiments"]]
CROSS_ENABLED = len(CROSS_SPECIES) >= 2 and len(CROSS_EXPERIMENTS) >= 1
CROSS_DIR = "results/cross_species/{experiment}"


def cross_pairs():
    """(train, test) species pairs, train != test."""
    return [(a, b) for a in CROSS_SPECIES for b in CROSS_SPECIES if a != b]


def cross_species_targets():
    if not CROSS_ENABLED:
        return []
    return [
        path
        for experiment in CROSS_EXPERIMENTS
        for path in [f"results/cross_species/{experiment}/matrix.tsv"]
        + [f"results/cross_species/{experiment}/heatmap.{ext}" for ext in PLOT_FORMATS]
    ]


def cross_matrix_runs(wildcards):
    """Params function: one record per cross-species run of an experiment: train_species,
    test_species, seed and the path of its metrics.json."""
    return [
        {
            "train_species": a,
            "test_species": b,
            "seed": seed,
            "metrics": f"results/cross_species/{wildcards.experiment}/seed{seed}/train_{a}/test_{b}/metrics.json",
        }
        for a, b in cross_pairs()
        for seed in SEEDS
    ]


def cross_matrix_loco(wildcards):
    """Params function: one record per species: its name and its summary_folds.tsv (the
    leave-one-chromosome-out runs that make the matrix's diagonal)."""
    return [
        {"species": s, "folds": f"results/{s}/summary_folds.tsv"} for s in CROSS_SPECIES
    ]


def cross_matrix_input(wildcards):
    """Input function: the files of the records of cross_matrix_runs and cross_matrix_loco."""
    return {
        "cross": [run["metrics"] for run in cross_matrix_runs(wildcards)],
        "folds": [record["folds"] for record in cross_matrix_loco(wildcards)],
    }


##### explain: attribution maps and motifs #####

EXPLAIN = config["explain"]
EXPLAIN_DIR = "results/{species}/attributions/{experiment}/seed{seed}/{fold}"


def explained_species():
    """Species whose experiments are explained (all when explain.species is empty)."""
    if not EXPLAIN["experiments"]:
        return []
    return list(EXPLAIN["species"]) or SPECIES


# the files of a maps set (mtmixg.interpret.maps): the attributions rule's outputs
MAP_FILES = {
    "ohe": "ohe.npz",
    "attr": "attr.npz",
    "genes": "genes.tsv",
    "info": "explain.json",
}


def attribution_maps(wildcards):
    """Params function: one record per (seed, fold) map of a species' experiment (the seeds of
    explain.seeds, all when empty): seed, fold and the path of each of its files (MAP_FILES keys).
    """
    records = []
    for seed in EXPLAIN["seeds"] or SEEDS:
        for fold in species_folds(wildcards.species):
            folder = EXPLAIN_DIR.format(
                species=wildcards.species,
                experiment=wildcards.experiment,
                seed=seed,
                fold=fold,
            )
            records.append(
                {"seed": seed, "fold": fold}
                | {key: f"{folder}/{name}" for key, name in MAP_FILES.items()}
            )
    return records


def attribution_map_files(wildcards):
    """Input function: every file of the records of attribution_maps."""
    return [record[key] for record in attribution_maps(wildcards) for key in MAP_FILES]


MOTIFS_DIR = "results/{species}/motifs/{experiment}"


def explain_targets():
    """Motif tables and figures of every explained species and experiment."""
    return [
        f"results/{species}/motifs/{experiment}/{name}"
        for species in explained_species()
        for experiment in EXPLAIN["experiments"]
        # a sweep entry only where it is trained
        if experiment in species_experiments(species)
        for name in ("motifs.tsv", "metaprofile.png", "logos.png")
    ]


##### variant effects #####

VARIANT_SPECIES = [s for s in SPECIES if config["species"][s].get("vcf")]


def variant_effects_targets():
    """Scored variants of every species with a VCF, per trained architecture (an experiment)."""
    return [
        f"results/{species}/variant_effects/{experiment}/{name}"
        for species in VARIANT_SPECIES
        for experiment in config["architectures"]
        for name in ("variants.tsv", "variants.vcf.gz")
    ]


def variant_effect_runs(wildcards):
    """Params function: one record per leave-one-chromosome-out model of the job's species and
    experiment (every seed): seed, fold and the paths of its model.pt and model.json."""
    runs = []
    for seed in SEEDS:
        for fold in species_folds(wildcards.species):
            folder = MODEL_DIR.format(
                species=wildcards.species,
                experiment=wildcards.experiment,
                seed=seed,
                fold=fold,
            )
            runs.append(
                {
                    "seed": seed,
                    "fold": fold,
                    "model": f"{folder}/model.pt",
                    "meta": f"{folder}/model.json",
                }
            )
    return runs


def variant_effect_files(wildcards):
    """Input function: the files of the records of variant_effect_runs."""
    return [
        run[key] for run in variant_effect_runs(wildcards) for key in ("model", "meta")
    ]


##### all targets #####


def training_targets(wildcards=None):
    """Final files of the training half: summaries and figures of every species, and the
    cross-species matrices, motifs and variant effects when configured."""
    targets = []
    for species in SPECIES:
        targets += [
            f"results/{species}/summary.tsv",
            f"results/{species}/summary_folds.tsv",
        ]
        targets += plot_targets(species)
    return (
        targets
        + cross_species_targets()
        + explain_targets()
        + variant_effects_targets()
    )
