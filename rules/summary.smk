# Summary: per species, the paper's Table 1/2 (experiment x accuracy, AUC-ROC, F1 as mean and
# sd over folds x seeds) in summary.tsv, one row per run in summary_folds.tsv, and every held-out
# prediction in test_predictions.tsv. Runs flagged failed (model stayed at chance level after its
# restarts) are counted in n_failed: <metric>_mean leaves them out, <metric>_mean_all scores them
# as they are. training_targets() is in training_common.smk.


rule summary:
    input:
        unpack(summary_input),
    output:
        summary=report(
            "results/{species}/summary.tsv",
            caption="../report/summary.rst",
            category="Summary",
            subcategory="{species}",
            labels={"species": "{species}", "table": "per experiment"},
        ),
        folds=report(
            "results/{species}/summary_folds.tsv",
            caption="../report/summary_folds.rst",
            category="Summary",
            subcategory="{species}",
            labels={"species": "{species}", "table": "per run"},
        ),
        predictions="results/{species}/test_predictions.tsv",
    log:
        "logs/{species}/summary.log",
    localrule: True
    conda:
        "../envs/python.yaml"
    params:
        runs=summary_runs,
    script:
        "../workflow_scripts/summary.py"
