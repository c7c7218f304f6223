# Figures per species (PNG, and SVG when plots.svg): ROC curves per experiment (one per seed,
# held-out predictions pooled over folds), confusion matrices, the ablation bar chart (paper
# Fig. 2, architectures in the paper's order), the sweep (Fig. 3, one panel per swept
# hyper-parameter, when a sweep is configured) and test accuracy per fold. The plotting code is mtmixg.plots.


rule plot_roc:
    input:
        predictions="results/{species}/test_predictions.tsv",
    output:
        png=figure(
            "results/{species}/plots/roc.png",
            "roc",
            species="{species}",
            figure="roc",
        ),
        svg=svg_beside("results/{species}/plots/roc.png"),
    log:
        "logs/{species}/plots/roc.log",
    localrule: True
    conda:
        "../envs/python.yaml"
    params:
        order=experiment_order,
    script:
        "../workflow_scripts/plot_roc.py"


rule plot_confusion:
    input:
        predictions="results/{species}/test_predictions.tsv",
    output:
        png=figure(
            "results/{species}/plots/confusion.png",
            "confusion",
            species="{species}",
            figure="confusion",
        ),
        svg=svg_beside("results/{species}/plots/confusion.png"),
    log:
        "logs/{species}/plots/confusion.log",
    localrule: True
    conda:
        "../envs/python.yaml"
    params:
        order=experiment_order,
        task=config["task"],
    script:
        "../workflow_scripts/plot_confusion.py"


rule plot_ablation:
    input:
        summary="results/{species}/summary.tsv",
    output:
        png=figure(
            "results/{species}/plots/ablation.png",
            "ablation",
            species="{species}",
            figure="ablation",
        ),
        svg=svg_beside("results/{species}/plots/ablation.png"),
    log:
        "logs/{species}/plots/ablation.log",
    localrule: True
    conda:
        "../envs/python.yaml"
    params:
        order=ablation_order(config["architectures"]),
        title="Ablation ({species})",
    script:
        "../workflow_scripts/plot_bars.py"


rule plot_sweep:
    input:
        summary="results/{species}/summary.tsv",
    output:
        png=figure(
            "results/{species}/plots/sweep.png",
            "sweep",
            species="{species}",
            figure="sweep",
        ),
        svg=svg_beside("results/{species}/plots/sweep.png"),
    log:
        "logs/{species}/plots/sweep.log",
    localrule: True
    conda:
        "../envs/python.yaml"
    params:
        panels=SWEEP_PANELS,
        title="Hyper-parameter sweep ({species})",
    script:
        "../workflow_scripts/plot_sweep.py"


rule plot_fold_accuracy:
    input:
        folds="results/{species}/summary_folds.tsv",
    output:
        png=figure(
            "results/{species}/plots/fold_accuracy.png",
            "fold_accuracy",
            species="{species}",
            figure="fold_accuracy",
        ),
        svg=svg_beside("results/{species}/plots/fold_accuracy.png"),
    log:
        "logs/{species}/plots/fold_accuracy.log",
    localrule: True
    conda:
        "../envs/python.yaml"
    params:
        order=experiment_order,
    script:
        "../workflow_scripts/plot_fold_accuracy.py"
