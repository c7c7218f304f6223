"""The torch-free core of mtmixg: what the Snakefile and the package both read.

Importing any module here never imports torch (tests/test_core.py checks it), so the Snakemake
process can plan a run without PyTorch.

    names        architecture and task names (the one list of each)
    configio     strict construction of the config dataclasses from dicts
    model_config ModelConfig: every hyper-parameter of a model
    train_config TrainConfig: every setting of a training run
    experiments  workflow config -> experiments, their settings, GPUs, resources and env
    gpus         local GPUs: count them, claim a free one per training process
    species      the species of a run (enabled, disabled, reads or TPM table) and their checks
    samples      the sample sheet: read and checked line by line
    log          log_stderr: the default log of the package's jobs
    atomic       atomic_write: a file is whole or absent
"""
