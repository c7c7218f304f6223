# Training: one job per (species, experiment, seed, fold). An experiment is a model architecture
# (config `architectures`) or a sweep entry (config `sweep`, by its name); fold is a chromosome
# (leave-one-chromosome-out: its genes are the test set, validation comes from the others) or
# "all" (every chromosome, no test set: the cross-species models). `snakemake -f <model.pt>`
# retrains exactly that fold; a killed job continues from its resume state (see
# resume_state in rules/training_common.smk), also within one run: a failed or killed job (e.g.
# at its Slurm time limit) is retried training.resources.retries times, each attempt with a
# longer time limit (train_runtime). The experiment, resolved once at plan time (EXPERIMENT_PARAMS),
# is a param: a change reruns the folds whose experiment it changes, and the job trains exactly it.
# Every input and output path goes to the job, which writes exactly the declared outputs.


wildcard_constraints:
    experiment=alternatives(EXPERIMENTS),
    seed=r"\d+",
    fold=alternatives(ALL_FOLDS + [ALL_CHROMOSOMES]),


rule train:
    input:
        unpack(train_windows),
    output:
        model=f"{MODEL_DIR}/model.pt",
        meta=f"{MODEL_DIR}/model.json",
        metrics=f"{MODEL_DIR}/metrics.json",
        predictions=f"{MODEL_DIR}/predictions.tsv",
    log:
        "logs/{species}/train/{experiment}/seed{seed}/{fold}.log",
    benchmark:
        "benchmarks/{species}/train/{experiment}/seed{seed}/{fold}.tsv"
    retries: TRAIN_RESOURCES["retries"]
    conda:
        TRAIN_ENV
    threads: TRAIN_RESOURCES["threads"]
    resources:
        gpu=GPUS_PER_JOB,
        mem_mb=TRAIN_RESOURCES["mem_mb"],
        runtime=train_runtime,
    params:
        experiment=experiment_param,
        resume=resume_state,
    script:
        "../workflow_scripts/train.py"
