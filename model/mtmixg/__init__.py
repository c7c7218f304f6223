"""mtmixg: predict a plant gene's expression class from the DNA around its TSS and TTS.

Modules, in the order data flows:
    core           the torch-free core the Snakefile reads too: architecture and task names, the config
                   dataclasses, experiments and their resources, GPUs, the sample sheet, atomic_write
    data           the data half, torch-free: references, FASTA/GFF3, labels, folds, homology,
                   the gene window and the windows dataset (see mtmixg.data)
    demo           the synthetic demo species (genome, GFF3, cDNA, reads; simulate_reads)
    models, ops    MTMixG-Net, its ablations, DeepCRE (input (N, 4, L)); the selective scan
    tasks, splits  binary/ternary targets (all_targets) and losses; train/validation/test of a fold
    loader         one-hot mini-batches from uint8 codes
    fit            the training loop: early stopping after a warm-up, LR schedule, exact resume
    train          the train stage: a leave-one-chromosome-out fold end to end (train_fold; train_job:
                   the workflow's job, rule train)
    metrics        accuracy, AUC-ROC, F1; predict: probabilities; checkpoint: weights + JSON
    summary, plots, cross_species   the evaluation tables and figures
    cli            the `mtmixg` command
"""

__version__ = "0.1.0"
