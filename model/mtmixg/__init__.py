"""mtmixg: predict a plant gene's expression class from the DNA around its TSS and TTS.

Layers, in the order data flows:
    sequence   one-hot encoding, reverse complement, the gene window (WindowSpec)
    genome     GFF3 genes, FASTA access, window extraction for a whole genome
    labels     logMaxTPM and quartile labels
    dataset    the windows file + gene table, folds, train/validation/test splits
    models     MTMixG-Net, its ablations and the DeepCRE baseline (input (N, 4, L))
    ops        the selective scan (pure PyTorch, and mamba_ssm's fused kernels on CUDA)
    training   the training loop with early stopping and resume
    metrics    accuracy, AUC-ROC, F1
    checkpoint weights + JSON config, loaded without unpickling
    cli        the `mtmixg` command
"""

__version__ = "0.1.0"
