"""Explain trained models: attribution maps (ISM, DeepLIFT/SHAP) and the motifs they learned.

attributions.py  per-fold maps of held-out genes (the `attributions` rule, `mtmixg explain`)
ism.py           in-silico saturation mutagenesis, batched, optionally on a sub-window
deeplift.py      DeepLIFT/SHAP through tangermeme, with dinucleotide-shuffled references
maps.py          the maps on disk: float16 .npz in modisco's (N, 4, L) layout
motifs.py        TF-MoDISco over pooled maps, motif positions, meta-profile (the `motifs` rule)
jaspar.py        JASPAR CORE plants (pyjaspar's local DB) as MEME, TOMTOM matching (memelite)
"""
