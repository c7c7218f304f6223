"""The data half: reference files, expression labels and the windows dataset (no torch).

    references     fetch, verify, decompress and validate a species' reference files
    fasta, gff     FASTA validation and indexed access; GFF3 genes and tx2gene
    labels, folds  TPM table -> logMaxTPM and quartile labels; one fold per chromosome
    homology       DeepCRE-style non-homologous test genes (BLAST)
    sequence       one-hot encoding, reverse complement, the gene window (WindowSpec)
    genome         window extraction for a whole genome, one chromosome at a time
    datachecks     chromosome names and per-fold classes, checked before any window is cut
    dataset        the windows folder (windows.npy + genes.tsv + window.json)
    windows        a species' windows dataset and skipped.tsv (the workflow's windows job)
"""
